"""A resident's request: topic, district, then free writing — text, photos, PDFs, voice, albums.

The message is stored in the case before anything else happens; relaying to staff is the
courier's job. The resident gets one confirmation per case (with its number and when to expect an
answer) and a 👍 on every further message, so nothing they send meets silence. The confirmation
and the quick-answer offer carry state (a case submitted, a draft waiting): the service queues
them with that state, and the courier delivers them (rendered here, `render_confirmation`,
`render_closed`) — a bad minute at Telegram delays them, it does not lose them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from telegram import InlineKeyboardMarkup, Message, ReactionTypeEmoji, Update
from telegram.error import TelegramError

from bot.cases.cards import TOPIC_LABELS
from bot.cases.repository import Case
from bot.cases.service import Result, Step
from bot.core.i18n import LANGUAGES, N_, Translator
from bot.core.outgoing import Text, buttons
from bot.letters.service import is_page
from bot.org.office_hours import expected_answer
from bot.org.orgdata import DISTRICTS
from bot.selfhelp.content import Answer
from bot.services import Services
from handlers.resident import onboarding, selfhelp
from handlers.shared import fallback, keyboards, texts
from handlers.shared.common import first_name, incoming, respond
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_index

logger = logging.getLogger(__name__)

# How a case's status reads for the resident.
RESIDENT_STATUS = {
    "new": N_("received"),
    "open": N_("a social worker is working on it"),
    "waiting": N_("answered"),
    "closed": N_("closed"),
}


async def ask(update: Update, context: BotContext) -> None:
    """Menu "ask a question" or "new question": start a draft and ask for the topic."""
    assert context.resident is not None
    await context.services.cases.start_request(context.resident, first_name(update))
    await respond(
        update,
        context,
        context._("What is your question about?"),
        keyboards.topics(context.tr),
    )


async def choose_topic(update: Update, context: BotContext) -> None:
    """req:topic:<topic> pressed."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.resident is not None
    topic = query.data.removeprefix(keyboards.REQUEST_TOPIC_PREFIX)
    try:
        result = await context.services.cases.choose_topic(
            context.resident, topic, first_name(update)
        )
    except ValueError:
        await ask(update, context)
        return
    await show_step(update, context, result)


async def choose_district(update: Update, context: BotContext) -> None:
    """req:district:<index> pressed; the district is remembered for the next request."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.resident is not None
    index = parse_index(query.data.removeprefix(keyboards.REQUEST_DISTRICT_PREFIX), len(DISTRICTS))
    if index is None:
        await ask(update, context)
        return
    result = await context.services.cases.choose_district(
        context.resident, DISTRICTS[index], first_name(update)
    )
    await show_step(update, context, result)


async def message(update: Update, context: BotContext) -> None:
    """Anything a resident writes or sends: into their case."""
    msg = update.effective_message
    assert msg is not None
    if context.resident is None or context.services.residents.needs_consent(context.resident):
        await onboarding.ask_for_language_or_consent(update, context)
        return
    stored = incoming(msg)
    if stored is None:
        await fallback.unknown_message(update, context)
        return
    result = await context.services.cases.receive(context.resident, stored, first_name(update))
    if _letter_page(msg):
        # Stored above; read once staff have it. Also for a duplicate: an update handled again
        # after a restart may have been stored but not queued.
        await context.services.letters.enqueue(stored.chat_id, stored.message_id)
    if context.crisis:
        await context.services.cases.mark_urgent(result.case.id)
        if result.case.status == "draft":
            result = await context.services.cases.resume(context.resident) or result
    # Stored first; then, if they write in another script than their language, ask about that
    # before asking anything in a language they may not read.
    if (
        result.step in (Step.ASK_TOPIC, Step.ASK_DISTRICT)
        and stored.text
        and await fallback.offer_language_switch(
            update, context, stored.text, keyboards.REQUEST_LANGUAGE_PREFIX
        )
    ):
        return
    await show_step(update, context, result)


def _letter_page(msg: Message) -> bool:
    """A photo, or a photo or PDF sent as a file: maybe a letter for the bot to read."""
    if msg.photo:
        return True
    document = msg.document
    return document is not None and is_page(document.mime_type, document.file_name)


async def switch_language(update: Update, context: BotContext) -> None:
    """req:lang:<code> from the offer: switch, then go on with the waiting request."""
    query = update.callback_query
    assert query is not None and query.data is not None and context.resident is not None
    language = query.data.removeprefix(keyboards.REQUEST_LANGUAGE_PREFIX)
    services = context.services
    if language not in LANGUAGES:
        await ask(update, context)
        return
    resident = await services.residents.choose_language(
        context.resident.user_id, context.resident.chat_id, language
    )
    context.resident = resident
    context.use_language(language)
    await services.cases.language_changed(resident.user_id, language)
    result = await services.cases.resume(resident)
    if result is None:
        await onboarding.show_main_menu(update, context)
    else:
        await show_step(update, context, result)


async def my_cases(update: Update, context: BotContext) -> None:
    """/mycases or the button: the resident's own requests with their status."""
    assert context.resident is not None
    tr = context.tr
    cases = await context.services.cases.cases_of(context.resident)
    if not cases:
        body = tr._("You have not sent a request yet.")
    else:
        lines = ["<b>{}</b>".format(tr._("Your requests"))]
        for case in cases:
            lines.append(
                "• {} · {} · {} · {}".format(
                    texts.value(tr, f"#{case.id}"),
                    tr._(TOPIC_LABELS[case.topic or "other"]),
                    tr._(RESIDENT_STATUS.get(case.status, "received")),
                    tr.date(case.submitted_at or case.created_at, "medium"),
                )
            )
        body = "\n".join(lines)
    await respond(update, context, body, keyboards.after_request(tr))


async def show_step(update: Update, context: BotContext, result: Result) -> None:
    tr = context.tr
    step = result.step
    if step is Step.ASK_TOPIC:
        await respond(update, context, tr._("What is your question about?"), keyboards.topics(tr))
    elif step is Step.ASK_DISTRICT:
        await respond(
            update, context, tr._("Which district do you live in?"), keyboards.districts(tr)
        )
    elif step is Step.ASK_TEXT:
        prompt = tr._(
            "Please write your question now. You can also send a photo of a letter, a "
            "document (PDF) or a voice message."
        )
        shortcuts = selfhelp.topic_shortcuts(context, result.case.topic)
        if shortcuts:
            prompt += "\n\n" + tr._("Or read a short answer to a frequent question first:")
        await respond(
            update,
            context,
            prompt,
            InlineKeyboardMarkup([*shortcuts, [keyboards.back_button(tr)]]),
        )
    elif step is Step.SUGGEST:
        # The offer is queued with the draft (CaseService); the courier delivers it.
        if update.callback_query is not None:
            await update.callback_query.answer()
    elif step is Step.SUBMITTED:
        # Offered answers were not enough: counted with the submission (CaseService). The
        # confirmation is queued with the submission; the courier delivers it.
        if update.callback_query is not None:
            await update.callback_query.answer()
    elif step is Step.ADDED:
        await acknowledge(update, context)


async def render_confirmation(services: Services, args: Mapping) -> Text | None:
    """ "Your request #4 arrived", in the resident's language, when the courier sends it."""
    case = await services.cases.get(args["case"])
    if case is None or case.resident_id is None:
        return None
    tr = services.i18n.translator(case.language)
    return Text(confirmation(services, tr, case), _rows(keyboards.after_request(tr)))


async def render_closed(services: Services, args: Mapping) -> Text | None:
    """ "Your request #4 has been closed", when the courier sends it."""
    case = await services.cases.get(args["case"])
    if case is None or case.resident_id is None:
        return None
    tr = services.i18n.translator(case.language)
    return Text(
        tr._(
            "Your request %(number)s has been closed. If you need anything else, just write to us."
        )
        % {"number": tr.isolate(f"#{case.id}")}
    )


def _rows(markup: InlineKeyboardMarkup):
    return buttons([(b.text, b.callback_data or "") for b in row] for row in markup.inline_keyboard)


def confirmation(services: Services, tr: Translator, case: Case) -> str:
    location = services.org.location_for(case.district)
    locations = [location] if location is not None else list(services.org.locations)
    expectation = expected_answer(locations, services.clock.now(), services.settings.timezone)
    if expectation.during_hours:
        when = tr._("A social worker will answer you during today's office hours.")
    elif expectation.next_opening is None:
        when = tr._("A social worker will answer you as soon as possible on a working day.")
    else:
        opening = expectation.next_opening
        today = services.clock.now().astimezone(opening.tzinfo).date()
        days = (opening.date() - today).days
        values = {"time": tr.time(opening), "day": tr.weekday(opening.weekday())}
        if days == 0:
            when = tr._("A social worker will answer you today from %(time)s.") % values
        elif days == 1:
            when = tr._("A social worker will answer you tomorrow from %(time)s.") % values
        else:
            when = tr._("A social worker will answer you on %(day)s from %(time)s.") % values
    return "\n\n".join(
        [
            "<b>{}</b>".format(
                tr._("Thank you! Your request %(number)s has been received.")
                % {"number": texts.value(tr, f"#{case.id}")}
            ),
            when,
            tr._(
                "You can send more messages, photos or voice messages: they are added to "
                "this request."
            ),
        ]
    )


async def acknowledge(update: Update, context: BotContext) -> None:
    """A 👍 under the resident's message: stored and on its way, without another text."""
    msg = update.effective_message
    if update.callback_query is not None or msg is None:
        if update.callback_query is not None:
            await respond(
                update,
                context,
                context._("Added to your request."),
                keyboards.after_request(context.tr),
            )
        return
    try:
        await msg.set_reaction(ReactionTypeEmoji("👍"))
    except TelegramError:
        logger.info("could not acknowledge message %s", msg.message_id)


async def ask_anyway(update: Update, context: BotContext, answer: Answer | None = None) -> None:
    """ "I still want to ask" / "Ask a social worker": the waiting request goes to staff as
    written; without one, a new request starts (on the answer's topic when there is one)."""
    assert context.resident is not None
    cases = context.services.cases
    draft = await selfhelp.pending_draft(context)
    if draft is not None and (draft.suggested or answer is None):
        result = await cases.submit_draft(context.resident)
        if result is not None:
            await show_step(update, context, result)
            return
    await cases.start_request(context.resident, first_name(update))
    if answer is None:
        await ask(update, context)
        return
    result = await cases.choose_topic(context.resident, answer.topic, first_name(update))
    await show_step(update, context, result)


async def _back_to_answers(update: Update, context: BotContext, answer: Answer) -> None:
    draft = await selfhelp.pending_draft(context)
    if draft is not None and answer.id in draft.suggested:
        answers = [
            a
            for a in map(context.services.content.current.answer, draft.suggested)
            if a is not None
        ]
        await selfhelp.show_suggestions(update, context, answers)
        return
    if draft is not None and answer.topic == draft.topic:
        result = await context.services.cases.resume(context.resident)
        if result is not None:
            await show_step(update, context, result)
            return
    await selfhelp.show_topic(update, context, answer.topic)


async def quick_answer_button(update: Update, context: BotContext) -> None:
    """The quick-answer buttons that go on with the request: "I still want to ask" (sh:a, or
    sh:a:<answer> from an opened answer) and "back" to the offered answers (sh:b:<answer>)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    if query.data == selfhelp.ASK:
        await ask_anyway(update, context)
        return
    for prefix, action in ((f"{selfhelp.ASK}:", ask_anyway), (selfhelp.BACK, _back_to_answers)):
        if query.data.startswith(prefix):
            answer = await selfhelp.answer_pressed(update, context, prefix)
            if answer is not None:
                await action(update, context, answer)
            return
