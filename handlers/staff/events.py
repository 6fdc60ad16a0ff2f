"""Staff write events and notices in a private chat with the bot, step by step.

/newevent: title → text → date and time (typed the German way) → place → districts → photo
(optional) → translations (optional) → preview per language → publish now or at a time.
/broadcast: a plain notice (German, optional translations) → districts → preview → send.
/events (staff): upcoming events with RSVP counts; change time or place, add a translation, cancel.
/cancel drops what is being written. The draft lives in the database (survives a restart).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode

from bot.core import callbacks
from bot.core.i18n import LANGUAGE_NAMES, LANGUAGES
from bot.events.repository import Event, EventText
from bot.events.service import EventError
from bot.org.orgdata import DISTRICTS
from bot.text.german_dates import Parsed, Unclear, format_german, parse_german_datetime
from handlers.shared.context import BotContext
from handlers.shared.user_input import parse_id, parse_index
from handlers.staff.commands import staff_only

logger = logging.getLogger(__name__)

NEW = callbacks.EVENT_DRAFT.prefix  # the event / notice being written
MANAGE = callbacks.EVENT_MANAGE.prefix  # published or scheduled events
OTHER_LANGUAGES = tuple(code for code in LANGUAGES if code != "de")


def _buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def _save(
    context: BotContext, staff_id: int, kind: str, step: str, data: dict[str, Any]
) -> None:
    await context.services.events.save_draft(staff_id, kind, step, data)


@staff_only
async def new_event(update: Update, context: BotContext) -> None:
    """/newevent: start writing an event."""
    assert update.effective_user is not None and update.effective_message is not None
    await _save(context, update.effective_user.id, "event", "title", {})
    await update.effective_message.reply_text(
        context._("New event. What is the title (in German)? /cancel stops.")
    )


@staff_only
async def new_notice(update: Update, context: BotContext) -> None:
    """/broadcast: a plain notice to the subscribers of a district."""
    assert update.effective_user is not None and update.effective_message is not None
    await _save(context, update.effective_user.id, "notice", "text", {})
    await update.effective_message.reply_text(
        context._("Notice to subscribers. Please write the text (in German). /cancel stops.")
    )


@staff_only
async def cancel_draft(update: Update, context: BotContext) -> None:
    """/cancel: drop the event or notice being written."""
    assert update.effective_user is not None and update.effective_message is not None
    await context.services.events.drop_draft(update.effective_user.id)
    await update.effective_message.reply_text(context._("Discarded."))


async def take_input(update: Update, context: BotContext) -> bool:
    """A staff member's message while writing an event or notice. True if it was one."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return False
    draft = await context.services.events.draft(user.id)
    if draft is None or not await context.services.staff.is_staff(user.id):
        return False
    kind, step, data = draft
    text = (message.text or message.caption or "").strip()
    if step == "photo" and message.photo:
        data["photo"] = message.photo[-1].file_id
        await _save(context, user.id, kind, "translations", data)
        await _ask_translations(message, context, data)
        return True
    if not text:
        await message.reply_text(context._("Please answer with a text."))
        return True
    await _step(message, context, user.id, kind, step, data, text)
    return True


async def _step(
    message: Message,
    context: BotContext,
    staff_id: int,
    kind: str,
    step: str,
    data: dict[str, Any],
    text: str,
) -> None:
    tr = context.tr
    services = context.services
    if step == "title":
        data["title"] = text[:120]
        await _save(context, staff_id, kind, "body", data)
        await message.reply_text(tr._("A short text about the event (in German):"))
    elif step == "body":
        data["body"] = text[:2000]
        await _save(context, staff_id, kind, "when", data)
        await message.reply_text(tr._("When? For example 03.12.2026 17:00 or 3.12. 17 Uhr"))
    elif step in ("when", "edit_when", "publish_at"):
        await _when(message, context, staff_id, kind, step, data, text)
    elif step == "place":
        data["place"] = text[:200]
        await _save(context, staff_id, kind, "districts", data)
        await message.reply_text(tr._("For which district?"), reply_markup=_district_buttons(tr))
    elif step == "edit_place":
        try:
            await services.events.change(data["event_id"], staff_id, place=text[:200])
        except EventError as error:
            await message.reply_text(f"⚠️ {error}")
            return
        await services.events.drop_draft(staff_id)
        await message.reply_text(tr._("Changed. Everyone who got the announcement is told."))
    elif step == "text":  # notice
        data["texts"] = {"de": text[:3500]}
        await _save(context, staff_id, kind, "districts", data)
        await message.reply_text(tr._("For which district?"), reply_markup=_district_buttons(tr))
    elif step.startswith("tr_title:"):
        language = step.split(":", 1)[1]
        data.setdefault("tr", {})[language] = {"title": text[:120]}
        await _save(context, staff_id, kind, f"tr_body:{language}", data)
        await message.reply_text(
            tr._("And the text in %(language)s:") % {"language": LANGUAGE_NAMES[language]}
        )
    elif step.startswith("tr_body:"):
        language = step.split(":", 1)[1]
        data.setdefault("tr", {}).setdefault(language, {})["body"] = text[:2000]
        if "event_id" in data:  # a translation for an event that exists already
            entry = data["tr"][language]
            try:
                await services.events.add_translation(
                    data["event_id"], language, EventText(entry.get("title", ""), entry["body"])
                )
            except EventError as error:  # the event is gone (or the button was forged)
                await message.reply_text(f"⚠️ {error}")
                return
            await services.events.drop_draft(staff_id)
            await message.reply_text(tr._("Translation saved."))
            return
        await _save(context, staff_id, kind, "translations", data)
        await _ask_translations(message, context, data)
    elif step.startswith("notice_tr:"):
        language = step.split(":", 1)[1]
        data.setdefault("texts", {})[language] = text[:3500]
        await _save(context, staff_id, kind, "translations", data)
        await _ask_translations(message, context, data)
    else:
        await message.reply_text(tr._("Please use the buttons above, or /cancel."))


async def _when(
    message: Message,
    context: BotContext,
    staff_id: int,
    kind: str,
    step: str,
    data: dict[str, Any],
    text: str,
) -> None:
    """A date and time typed the German way; a clear question back when something is off."""
    tr = context.tr
    services = context.services
    tz = services.settings.timezone
    if data.get("date_only"):  # they were asked for the time of a day already understood
        text = f"{data.pop('date_only')} {text}"
    result = parse_german_datetime(text, services.clock.now(), tz)
    if isinstance(result, Unclear):
        if result.reason == "no_time" and result.date_understood is not None:
            data["date_only"] = result.date_understood.strftime("%d.%m.%Y")
            await _save(context, staff_id, kind, step, data)
            await message.reply_text(
                tr._("At what time on %(day)s?")
                % {"day": result.date_understood.strftime("%d.%m.%Y")}
            )
            return
        questions = {
            "no_date": tr._("I did not find a date. Please write it like 03.12.2026 17:00."),
            "invalid": tr._("That date or time does not exist. Please check it."),
            "past": tr._("That is in the past. Please write a date in the future."),
            "ambiguous_year": tr._(
                "Which year do you mean? Please write the year too, e.g. 05.11.2027 17:00."
            ),
            "nonexistent": tr._(
                "That time does not exist on that day (the clocks change). "
                "Please choose another time."
            ),
        }
        await message.reply_text(questions.get(result.reason, questions["invalid"]))
        return
    assert isinstance(result, Parsed)
    when = result.when
    if step == "when":
        data["when"] = when.isoformat()
        await _save(context, staff_id, kind, "place", data)
        await message.reply_text(
            tr._("%(when)s. Where does it take place?") % {"when": format_german(when)}
        )
    elif step == "edit_when":
        try:
            await services.events.change(data["event_id"], staff_id, starts_at=when)
        except EventError as error:
            await message.reply_text(f"⚠️ {error}")
            return
        await services.events.drop_draft(staff_id)
        await message.reply_text(
            tr._("Changed to %(when)s. Everyone who got the announcement is told.")
            % {"when": format_german(when)}
        )
    else:  # publish_at
        try:
            await services.events.schedule(data["event_id"], when)
        except EventError as error:
            await message.reply_text(f"⚠️ {error}")
            return
        await services.events.drop_draft(staff_id)
        await message.reply_text(
            tr._("It will be published on %(when)s.") % {"when": format_german(when)}
        )


def _district_buttons(tr) -> InlineKeyboardMarkup:
    return _buttons(
        [
            [(district, callbacks.EVENT_DRAFT("d", i)) for i, district in enumerate(DISTRICTS)],
            [(tr._("Both districts"), callbacks.EVENT_DRAFT("d", "all"))],
        ]
    )


async def _ask_translations(message: Message, context: BotContext, data: dict[str, Any]) -> None:
    tr = context.tr
    have = set(data.get("tr", {})) | set(data.get("texts", {}))
    rows = [
        [
            (
                ("✓ " if code in have else "+ ") + LANGUAGE_NAMES[code],
                callbacks.EVENT_DRAFT("tr", code),
            )
            for code in OTHER_LANGUAGES
        ]
    ]
    rows.append([(tr._("👀 Preview"), callbacks.EVENT_DRAFT("pv", "de"))])
    await message.reply_text(
        tr._(
            "Add a translation? Residents without one get the German text with a short note "
            "in their language."
        ),
        reply_markup=_buttons(rows),
    )


# What a draft needs before it can be previewed or published, in the order the dialogue asks.
REQUIRED = {
    "event": ("title", "body", "when", "place", "districts"),
    "notice": ("texts", "districts"),
}


def _missing(kind: str, data: dict[str, Any]) -> list[str]:
    """The fields the draft still lacks; a draft that edits a published event lacks them all."""
    return [key for key in REQUIRED.get(kind, ()) if not data.get(key)]


async def _ask_again(
    message: Message, context: BotContext, kind: str, step: str, data: dict[str, Any]
) -> None:
    """A button that does not fit the draft (from an older message, or forged) changes nothing:
    the question the draft waits for is asked again, so staff see what is still missing."""
    tr = context.tr
    language = LANGUAGE_NAMES.get(step.partition(":")[2], "")
    if data.get("date_only"):
        text = tr._("At what time on %(day)s?") % {"day": data["date_only"]}
    elif step == "title":
        text = tr._("New event. What is the title (in German)? /cancel stops.")
    elif step == "body":
        text = tr._("A short text about the event (in German):")
    elif step == "when":
        text = tr._("When? For example 03.12.2026 17:00 or 3.12. 17 Uhr")
    elif step == "place" and data.get("when"):
        when = format_german(datetime.fromisoformat(data["when"]))
        text = tr._("%(when)s. Where does it take place?") % {"when": when}
    elif step == "text":
        text = tr._("Notice to subscribers. Please write the text (in German). /cancel stops.")
    elif step == "districts":
        await message.reply_text(tr._("For which district?"), reply_markup=_district_buttons(tr))
        return
    elif step == "photo":
        await message.reply_text(
            tr._("Send a photo for the announcement, or:"),
            reply_markup=_buttons([[(tr._("Without photo"), callbacks.EVENT_DRAFT("nophoto"))]]),
        )
        return
    elif step in ("translations", "preview") and not _missing(kind, data):
        await _ask_translations(message, context, data)
        return
    elif step.startswith("tr_title:"):
        text = tr._("Title in %(language)s:") % {"language": language}
    elif step.startswith("tr_body:"):
        text = tr._("And the text in %(language)s:") % {"language": language}
    elif step.startswith("notice_tr:"):
        text = tr._("Text in %(language)s:") % {"language": language}
    elif step == "edit_when":
        text = tr._("New date and time?")
    elif step == "edit_place":
        text = tr._("New place?")
    elif step == "publish_at":
        text = tr._("When should it be published? (e.g. 01.12.2026 09:00)")
    else:
        text = tr._("Please use the buttons above, or /cancel.")
    await message.reply_text(text)


def _draft_event(data: dict[str, Any]) -> Event:
    texts = {"de": EventText(data["title"], data["body"])}
    for language, entry in data.get("tr", {}).items():
        if entry.get("title") and entry.get("body"):
            texts[language] = EventText(entry["title"], entry["body"])
    return Event(
        id=0,
        starts_at=datetime.fromisoformat(data["when"]),
        place=data["place"],
        districts=tuple(data["districts"]),
        photo_file_id=data.get("photo"),
        status="draft",
        publish_at=None,
        remind=True,
        reminded=False,
        created_by=0,
        texts=texts,
    )


@staff_only
async def button(update: Update, context: BotContext) -> None:
    """Every "ne:" and "se:" button."""
    query = update.callback_query
    assert query is not None and query.data is not None and update.effective_user is not None
    staff_id = update.effective_user.id
    services = context.services
    tr = context.tr
    message = query.message
    await query.answer()
    if query.data.startswith(MANAGE):
        await _manage(update, context, query.data.removeprefix(MANAGE))
        return
    draft = await services.events.draft(staff_id)
    if draft is None or not isinstance(message, Message):
        await context.bot.send_message(
            staff_id, tr._("Nothing is being written. /newevent or /broadcast starts.")
        )
        return
    kind, step, data = draft
    action, _, value = query.data.removeprefix(NEW).partition(":")
    missing = _missing(kind, data)
    index = parse_index(value, len(DISTRICTS)) if action == "d" else None
    if action == "discard":
        await services.events.drop_draft(staff_id)
        await message.reply_text(tr._("Discarded."))
    # Districts once what comes before them is written; pressed again later, they change.
    elif action == "d" and set(missing) <= {"districts"} and (value == "all" or index is not None):
        data["districts"] = list(DISTRICTS) if index is None else [DISTRICTS[index]]
        if kind == "event":
            await _save(context, staff_id, kind, "photo", data)
            await message.reply_text(
                tr._("Send a photo for the announcement, or:"),
                reply_markup=_buttons(
                    [[(tr._("Without photo"), callbacks.EVENT_DRAFT("nophoto"))]]
                ),
            )
        else:
            await _save(context, staff_id, kind, "translations", data)
            await _ask_translations(message, context, data)
    # Everything else (photo, translations, preview, publishing) needs a complete draft.
    elif missing:
        await _ask_again(message, context, kind, step, data)
    elif action == "nophoto":
        await _save(context, staff_id, kind, "translations", data)
        await _ask_translations(message, context, data)
    elif action == "tr" and value in OTHER_LANGUAGES:
        step = f"tr_title:{value}" if kind == "event" else f"notice_tr:{value}"
        await _save(context, staff_id, kind, step, data)
        prompt = (
            tr._("Title in %(language)s:") if kind == "event" else tr._("Text in %(language)s:")
        )
        await message.reply_text(prompt % {"language": LANGUAGE_NAMES[value]})
    elif action == "pv" and value in LANGUAGES:
        await _save(context, staff_id, kind, "preview", data)
        await _preview(message, context, kind, data, value)
    elif action == "publish":
        await _publish(message, context, staff_id, kind, data)
    elif action == "schedule" and kind == "event":
        event = await _create(message, context, staff_id, data)
        if event is not None:
            await _save(context, staff_id, kind, "publish_at", {"event_id": event.id})
            await message.reply_text(tr._("When should it be published? (e.g. 01.12.2026 09:00)"))
    else:
        await _ask_again(message, context, kind, step, data)


async def _preview(
    message: Message, context: BotContext, kind: str, data: dict[str, Any], language: str
) -> None:
    tr = context.tr
    services = context.services
    if kind == "event":
        text = services.events.render(_draft_event(data), language)
    else:
        texts = data.get("texts", {})
        text = texts.get(language) or (
            services.i18n.translator(language)._("This announcement is only available in German.")
            + "\n"
            + texts["de"]
        )
    rows = [
        [
            (("• " if code == language else "") + code, callbacks.EVENT_DRAFT("pv", code))
            for code in LANGUAGES
        ]
    ]
    rows.append([(tr._("📣 Publish now"), callbacks.EVENT_DRAFT("publish"))])
    if kind == "event":
        rows.append([(tr._("🕒 Publish later"), callbacks.EVENT_DRAFT("schedule"))])
    rows.append(
        [
            (tr._("➕ Translation"), callbacks.EVENT_DRAFT("tr", "ar")),
            (tr._("🗑 Discard"), callbacks.EVENT_DRAFT("discard")),
        ]
    )
    await message.reply_text(
        tr._("Preview (%(language)s):") % {"language": LANGUAGE_NAMES[language]} + "\n\n" + text,
        parse_mode=ParseMode.HTML,
        reply_markup=_buttons(rows),
    )


async def _create(
    message: Message, context: BotContext, staff_id: int, data: dict[str, Any]
) -> Event | None:
    draft = _draft_event(data)
    try:
        return await context.services.events.create(
            starts_at=draft.starts_at,
            place=draft.place,
            districts=draft.districts,
            photo_file_id=draft.photo_file_id,
            texts=draft.texts,
            staff_id=staff_id,
        )
    except EventError as error:
        await message.reply_text(f"⚠️ {error}")
        return None


async def _publish(
    message: Message, context: BotContext, staff_id: int, kind: str, data: dict[str, Any]
) -> None:
    services = context.services
    try:
        if kind == "event":
            event = await _create(message, context, staff_id, data)
            if event is None:
                return
            broadcast_id, count = await services.events.publish(event.id, staff_id)
        else:
            broadcast_id, count = await services.events.notice(
                data["texts"], tuple(data["districts"]), staff_id
            )
    except EventError as error:
        await message.reply_text(f"⚠️ {error}")
        return
    await services.events.drop_draft(staff_id)
    await start_progress(context, message.chat_id, broadcast_id, count)


async def start_progress(context: BotContext, chat_id: int, broadcast_id: int, count: int) -> None:
    """The message kept up to date as the broadcast goes: sent / blocked / failed / uncertain."""
    tr = context.tr
    progress = await context.bot.send_message(
        chat_id,
        "📣 "
        + tr.ngettext(
            "Sending to %(count)d subscriber …", "Sending to %(count)d subscribers …", count
        )
        % {"count": count},
    )
    await context.services.events.set_progress_message(broadcast_id, chat_id, progress.message_id)
    context.services.courier.kick()
    # A small broadcast may be through already: show where it stands now.
    await context.services.broadcasts.moved({broadcast_id})


async def staff_events(update: Update, context: BotContext) -> None:
    """/events for staff: upcoming events, RSVP counts, and what can be done with them."""
    tr = context.tr
    services = context.services
    events = await services.events.upcoming(statuses=("published", "scheduled"))
    message = update.effective_message
    assert message is not None
    if not events:
        await message.reply_text(tr._("No upcoming events. /newevent creates one."))
        return
    for event in events:
        coming = await services.events.rsvp_count(event.id)
        status = (
            tr._("published")
            if event.status == "published"
            else tr._("scheduled for %(when)s") % {"when": format_german(event.publish_at)}
            if event.publish_at
            else event.status
        )
        languages = ", ".join(sorted(event.texts))
        await message.reply_text(
            f"📣 {event.texts['de'].title}\n{format_german(event.starts_at)} · {event.place}\n"
            + tr.ngettext("%(count)d person is coming", "%(count)d people are coming", coming)
            % {"count": coming}
            + f" · {status} · {languages}",
            reply_markup=_buttons(
                [
                    [
                        (tr._("🕒 Change time"), callbacks.EVENT_MANAGE("time", event.id)),
                        (tr._("📍 Change place"), callbacks.EVENT_MANAGE("place", event.id)),
                    ],
                    [
                        (tr._("➕ Translation"), callbacks.EVENT_MANAGE("tr", event.id)),
                        (tr._("❌ Cancel event"), callbacks.EVENT_MANAGE("cancel", event.id)),
                    ],
                ]
            ),
        )


async def _manage(update: Update, context: BotContext, data: str) -> None:
    services = context.services
    tr = context.tr
    staff_id = update.effective_user.id  # type: ignore[union-attr]
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    parts = data.split(":")
    event_id = parse_id(parts[1]) if len(parts) >= 2 else None
    if event_id is None:
        return
    action = parts[0]
    if action == "time":
        await _save(context, staff_id, "event", "edit_when", {"event_id": event_id})
        await context.bot.send_message(chat_id, tr._("New date and time?"))
    elif action == "place":
        await _save(context, staff_id, "event", "edit_place", {"event_id": event_id})
        await context.bot.send_message(chat_id, tr._("New place?"))
    elif action == "tr":
        rows = [
            [
                (LANGUAGE_NAMES[code], callbacks.EVENT_MANAGE("trl", event_id, code))
                for code in OTHER_LANGUAGES
            ]
        ]
        await context.bot.send_message(
            chat_id, tr._("Which language?"), reply_markup=_buttons(rows)
        )
    elif action == "trl" and len(parts) == 3 and parts[2] in OTHER_LANGUAGES:
        await _save(context, staff_id, "event", f"tr_title:{parts[2]}", {"event_id": event_id})
        await context.bot.send_message(
            chat_id, tr._("Title in %(language)s:") % {"language": LANGUAGE_NAMES[parts[2]]}
        )
    elif action == "cancel":
        await context.bot.send_message(
            chat_id,
            tr._("Really cancel this event? Everyone who got the announcement is told."),
            reply_markup=_buttons(
                [[(tr._("❌ Yes, cancel it"), callbacks.EVENT_MANAGE("cancelyes", event_id))]]
            ),
        )
    elif action == "cancelyes":
        try:
            result = await services.events.cancel(event_id, staff_id)
        except EventError as error:
            await context.bot.send_message(chat_id, f"⚠️ {error}")
            return
        if result is None:
            await context.bot.send_message(chat_id, tr._("Cancelled (it was not published)."))
        else:
            await start_progress(context, chat_id, *result)
