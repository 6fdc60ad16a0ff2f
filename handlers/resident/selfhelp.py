"""Self-help answers: a first answer at once, in the resident's language, and a person one tap away.

Two ways in. Browsing: menu → information → topic → answer. And before a new request goes to
staff: when what the resident wrote matches answers (bot/selfhelp/content.py), up to three are
offered;
"that helped" ends there (the draft and its text are discarded, staff never see it), "I still
want to ask" sends the request exactly as written, so nothing is typed twice. A request that
matches nothing goes straight to staff.

Callback data: "sh:t:<topic>" topic list, "sh:o:<answer>" open, "sh:h:<answer>" helped,
"sh:a[:<answer>]" ask a person, "sh:b:<answer>" back from an answer (to the suggestions, the
question prompt or the topic, whichever it came from).
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.cases.cards import TOPIC_LABELS
from bot.cases.repository import TOPICS, Case
from bot.core import callbacks
from bot.core.db import Transaction
from bot.core.i18n import Translator
from bot.core.outgoing import Text, buttons
from bot.selfhelp.content import Answer, Content, ContentError
from bot.services import Services
from handlers.shared import keyboards
from handlers.shared.common import respond
from handlers.shared.context import BotContext
from handlers.staff.commands import staff_only

PREFIX = callbacks.QUICK_ANSWERS.prefix
TOPIC = callbacks.QUICK_ANSWERS("t", "")
OPEN = callbacks.QUICK_ANSWERS("o", "")
HELPED = callbacks.QUICK_ANSWERS("h", "")
ASK = callbacks.QUICK_ANSWERS("a")
BACK = callbacks.QUICK_ANSWERS("b", "")


def _content(context: BotContext) -> Content:
    return context.services.content.current


async def pending_draft(context: BotContext) -> Case | None:
    """The resident's draft request, if one is waiting (with or without suggestions)."""
    assert context.resident is not None
    case = await context.services.cases.current_for(context.resident.user_id)
    return case if case is not None and case.status == "draft" else None


# -- browsing -----------------------------------------------------------------------------------


async def info(update: Update, context: BotContext) -> None:
    """Menu → information: the topics."""
    tr = context.tr
    buttons = [
        InlineKeyboardButton(
            f"{keyboards.TOPIC_ICONS[topic]} {tr._(TOPIC_LABELS[topic])}",
            callback_data=TOPIC + topic,
        )
        for topic in TOPICS
        if _content(context).for_topic(topic)
    ]
    await respond(
        update,
        context,
        tr._("Short answers to frequent questions. Which topic?"),
        InlineKeyboardMarkup([[b] for b in buttons] + [[keyboards.back_button(tr)]]),
    )


async def show_topic(update: Update, context: BotContext, topic: str) -> None:
    tr = context.tr
    answers = _content(context).for_topic(topic) if topic in TOPICS else []
    if not answers:
        await info(update, context)
        return
    rows = [
        [InlineKeyboardButton(a.title_in(context.tr.language), callback_data=OPEN + a.id)]
        for a in answers
    ]
    rows.append([InlineKeyboardButton(tr._("⬅️ Back"), callback_data=keyboards.MENU_INFO)])
    await respond(
        update,
        context,
        "<b>{}</b>\n{}".format(
            escape(tr._(TOPIC_LABELS[topic])), tr._("Which question fits yours best?")
        ),
        InlineKeyboardMarkup(rows),
    )


# -- suggestions before a request goes to staff ---------------------------------------------------


def _suggestions(tr: Translator, answers: list[Answer]) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [InlineKeyboardButton("💡 " + a.title_in(tr.language), callback_data=OPEN + a.id)]
        for a in answers
    ]
    rows.append([InlineKeyboardButton(tr._("✍️ I still want to ask"), callback_data=ASK)])
    text = "\n\n".join(
        [
            "<b>{}</b>".format(tr._("Maybe one of these answers helps you right away:")),
            tr._(
                "If not, tap “I still want to ask”: your message is kept and goes to a "
                "social worker, you do not need to write it again."
            ),
        ]
    )
    return text, InlineKeyboardMarkup(rows)


async def render_offer(services: Services, args: Mapping) -> Text | None:
    """Step.SUGGEST: the request waits as a draft; the matching answers are offered first.
    Rendered when the courier sends it (queued with the draft, so it is not lost in a bad
    minute at Telegram). A draft gone meanwhile (submitted, discarded) gets nothing."""
    case = await services.cases.get(args["case"])
    if case is None or case.status != "draft" or case.resident_id is None:
        return None
    tr = services.i18n.translator(case.language)
    # Answers removed by a content reload are left out; "I still want to ask" always stays.
    answers = [a for a in map(services.content.current.answer, case.suggested) if a is not None]
    text, markup = _suggestions(tr, answers)
    return Text(
        text,
        buttons([(b.text, b.callback_data or "") for b in row] for row in markup.inline_keyboard),
    )


async def offered(services: Services, tx: Transaction, args: Mapping, sent) -> None:
    """The offer reached the resident: its answers count as offered (in the same transaction
    as the delivery record)."""
    case = await services.cases.get(args["case"])
    if case is None:
        return
    await services.selfhelp.record(
        list(case.suggested), "suggested", case.language, services.clock.now(), case.id, tx=tx
    )


async def show_suggestions(
    update: Update, context: BotContext, answers: list[Answer], *, new_message: bool = False
) -> None:
    text, markup = _suggestions(context.tr, answers)
    await respond(update, context, text, markup, new_message=new_message)


def topic_shortcuts(context: BotContext, topic: str | None) -> list[list[InlineKeyboardButton]]:
    """Rows for the "please write your question" step: the topic's first answers."""
    if topic is None:
        return []
    return [
        [InlineKeyboardButton("💡 " + a.title_in(context.tr.language), callback_data=OPEN + a.id)]
        for a in _content(context).for_topic(topic)[:3]
    ]


# -- one answer ---------------------------------------------------------------------------------


def answer_text(tr: Translator, language: str, content: Content, answer: Answer) -> str:
    parts = [f"<b>{escape(answer.title_in(language))}</b>", escape(answer.text_in(language))]
    services = [content.services[link] for link in answer.links if link in content.services]
    if services:
        lines = ["📍 <b>{}</b>".format(escape(tr._("Where you can get help:")))]
        for service in services:
            lines.append(f"• <b>{escape(service.name)}</b> – {escape(service.describe(language))}")
            details = [
                f"{icon} {escape(service.details[key])}"
                for key, icon in (("address", "🏢"), ("phone", "☎️"), ("hours", "🕒"))
                if key in service.details
            ]
            if details:
                lines.append("   " + " · ".join(details))
        parts.append("\n".join(lines))
    parts.append(
        tr._(
            "Would you rather talk to a social worker? It is free and confidential: tap "
            "“Ask a social worker”."
        )
    )
    return "\n\n".join(parts)


async def _open(update: Update, context: BotContext, answer: Answer) -> None:
    tr = context.tr
    draft = await pending_draft(context)
    await context.services.selfhelp.record(
        [answer.id],
        "opened",
        context.tr.language,
        context.services.clock.now(),
        draft.id if draft is not None and answer.id in draft.suggested else None,
    )
    buttons = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(tr._("👍 That helped"), callback_data=HELPED + answer.id)],
            [
                InlineKeyboardButton(
                    tr._("✍️ Ask a social worker"), callback_data=f"{ASK}:{answer.id}"
                )
            ],
            [InlineKeyboardButton(tr._("⬅️ Back"), callback_data=BACK + answer.id)],
        ]
    )
    await respond(
        update, context, answer_text(tr, context.tr.language, _content(context), answer), buttons
    )


async def _helped(update: Update, context: BotContext, answer: Answer) -> None:
    services = context.services
    draft = await pending_draft(context)
    from_suggestion = draft is not None and answer.id in draft.suggested
    await services.selfhelp.record(
        [answer.id],
        "helped",
        context.tr.language,
        services.clock.now(),
        draft.id if from_suggestion else None,
    )
    if from_suggestion:
        assert draft is not None
        # They have their answer: what they wrote is not kept and never reaches staff.
        await services.cases.discard_draft(draft.id)
    await respond(
        update,
        context,
        context._("Glad it helped! You can ask us anything at any time from the menu."),
        keyboards.main_menu(context.tr),
    )


async def button(update: Update, context: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    data = query.data
    if data.startswith(TOPIC):
        await show_topic(update, context, data.removeprefix(TOPIC))
        return
    for prefix, action in ((OPEN, _open), (HELPED, _helped)):
        if data.startswith(prefix):
            answer = await answer_pressed(update, context, prefix)
            if answer is not None:
                await action(update, context, answer)
            return
    await info(update, context)


async def answer_pressed(update: Update, context: BotContext, prefix: str) -> Answer | None:
    """The answer a button names after `prefix`; None (and the resident told) when it is gone."""
    query = update.callback_query
    assert query is not None and query.data is not None
    answer = _content(context).answer(query.data.removeprefix(prefix))
    if answer is None:
        # An answer removed by a content reload, or forged data.
        await respond(
            update,
            context,
            context._("This answer is no longer available."),
            keyboards.main_menu(context.tr),
        )
    return answer


# -- staff --------------------------------------------------------------------------------------


@staff_only
async def reload(update: Update, context: BotContext) -> None:
    """/reload: read content/ again; a broken file leaves the current content in place."""
    tr = context.tr
    try:
        content = context.services.content.reload()
    except ContentError as error:
        text = tr._("The content was NOT reloaded, the answers stay as they were: %(error)s") % {
            "error": escape(str(error))
        }
    else:
        text = tr._("Content reloaded: %(answers)d answers, %(services)d Wegweiser entries.") % {
            "answers": len(content.answers),
            "services": len(content.services),
        }
    await respond(update, context, text)
