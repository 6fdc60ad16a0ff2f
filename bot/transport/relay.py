"""The relay: what cases need from the courier, and the staff topics kept in shape.

Copies between a resident and their case topic, a new case's topic and card, and notices for
staff are queued by the features (bot/cases/envelopes.py, bot/appointments) and sent by the
courier (bot/transport/courier.py). This module renders them when they are sent (`register`
wires its renderers and hooks in) and records what delivery changes: a copy marked relayed, a
👍 queued on the staff member's message, the thread and card of a new topic remembered, a
resident who blocked the bot marked. Keeping a topic's name, card and open/closed state in step
with its case is an edit in place, done in the relay's own task (several changes of a case make
one edit; no handler waits for it), through the courier's Bot.

With machine translation on (bot/translation, docs/translation.md) a copy is translated when it
is rendered, before it takes one of the courier's places: a resident's text reaches the topic as
one message, the German translation with the original quoted below; a staff answer reaches the
resident in their language with the German beneath, and the topic is told what went out. A
translation is stored before anything is sent (a failure too), so a retry or a "send again"
renders the same text; a provider that fails or is slow costs at most the timeout, after which
the original goes as it is, with the failure said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape

from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.appointments.repository import AppointmentRepository
from bot.cases import cards as case_cards
from bot.cases import envelopes
from bot.cases.repository import Case, CaseMessage, CaseRepository
from bot.core.callbacks import OUTGOING
from bot.core.clock import Clock
from bot.core.db import Transaction
from bot.core.i18n import DEFAULT_LANGUAGE, N_, I18n
from bot.core.outgoing import (
    Buttons,
    Content,
    Copy,
    Envelope,
    Lane,
    NewTopic,
    Outgoing,
    Render,
    Row,
    Text,
    buttons,
    to_chat,
    to_topic,
)
from bot.core.retry import Outcome, retry_after_seconds
from bot.translation import presentation
from bot.translation.service import Outcome as Translation
from bot.translation.service import Status, TranslationService
from bot.transport.courier import BLOCKED_HOOK, Courier, Delivered, Failure

logger = logging.getLogger(__name__)

NOTICE = "staff.notice"  # renderer: a notice for staff (appointment request …)
CAPTION = "case.caption"  # renderer: a resident's caption translated, beside the copy
NOTICE_SENT = "staff.notice_sent"  # hook
DIGEST_ITEM = 300  # characters of one message shown in a digest

KIND_LABELS = {
    "photo": "📷",
    "document": "📄",
    "voice": "🎤",
    "audio": "🎵",
    "video": "🎬",
    "video_note": "📹",
}


DIGEST_LEGEND = N_(
    "🌐 machine-translated into German, the original in italics below it; "
    "⚠️ translation failed, as written."
)


@dataclass(frozen=True)
class _Rendered:
    """What a translated copy brings along, from its rendering to the hook that records it:
    further messages for the same chat (a text too long for one) and, for a staff answer, what
    the topic is told. Kept in memory only from render to settle (the same run)."""

    case_id: int
    resident_id: int | None
    rest: tuple[str, ...] = ()
    receipt: str | None = None


def _rows(markup: InlineKeyboardMarkup) -> Buttons:
    return buttons([(b.text, b.callback_data or "") for b in row] for row in markup.inline_keyboard)


class Relay:
    def __init__(
        self,
        bot: Bot,
        cases: CaseRepository,
        outgoing: Outgoing,
        clock: Clock,
        i18n: I18n,
        staff_chat_id: int | None,
        *,
        notices: AppointmentRepository | None = None,
    ) -> None:
        self._bot = bot
        self._cases = cases
        self._outgoing = outgoing
        self._clock = clock
        self._staff_chat_id = staff_chat_id
        self._i18n = i18n
        self._tr = i18n.translator(DEFAULT_LANGUAGE)  # the staff group speaks German
        self._notices = notices
        self._translation: TranslationService | None = None
        self._rendered: dict[int, _Rendered] = {}  # case message id -> what follows it
        self._courier: Courier | None = None
        self._changed: set[int] = set()  # cases whose topic name and card may be out of date
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._busy = False
        # Topic updates one at a time: each reads the case's current state and applies it, so a
        # slow "close" can never land after a later "reopen".
        self._topic_lock = asyncio.Lock()

    # -- wiring ------------------------------------------------------------------------------
    def register(self, courier: Courier) -> None:
        """Renderers and hooks of case deliveries, under the names bot/cases/envelopes.py uses."""
        self._courier = courier
        courier.renderer(envelopes.MESSAGE, self._render_message, merge=self._digest)
        courier.renderer(envelopes.TOPIC, self._render_topic)
        courier.renderer(envelopes.CARD, self._render_card)
        courier.renderer(NOTICE, self._render_notice)
        courier.renderer(CAPTION, self._render_caption)
        courier.hook(envelopes.DELIVERED, self._delivered)
        courier.hook(envelopes.UNDELIVERED, self._undelivered)
        courier.hook(envelopes.TOPIC_OPENED, self._topic_opened)
        courier.hook(envelopes.CARD_SENT, self._card_sent)
        courier.hook(NOTICE_SENT, self._notice_sent)
        courier.hook(BLOCKED_HOOK, self._blocked)
        courier.on_topic_gone(self._topic_gone)
        courier.on_case_settled(self.kick)

    def translate_with(self, translation: TranslationService) -> None:
        """Machine translation for copies and answers (built after the relay in bot/app.py);
        without a provider (`enabled` False) everything is copied as it is."""
        self._translation = translation if translation.enabled else None

    # -- lifecycle (topic upkeep) ------------------------------------------------------------
    def kick(self, case_id: int | None = None) -> None:
        """A case changed: bring its topic name and card in step (soon, off the handler)."""
        if case_id is not None and self._staff_chat_id is not None:
            self._changed.add(case_id)
            self._wake.set()
        if self._courier is not None:
            self._courier.kick()

    async def start(self) -> None:
        if self._staff_chat_id is not None:
            # Open cases without a topic (a staff group configured later) get one.
            if await self._cases.ensure_topics(self._clock.now()) and self._courier is not None:
                self._courier.kick()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def settled(self) -> None:
        """Return once no topic update is running or due (shutdown, tests)."""
        while self._wake.is_set() or self._busy or self._topic_lock.locked():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._busy = True
            try:
                changed, self._changed = self._changed, set()
                for case_id in sorted(changed):
                    async with self._topic_lock:
                        await self._refresh(case_id)
            except RetryAfter as error:
                # Telegram wants a pause for edits in the group: the cases stay due.
                self._changed |= changed
                await asyncio.sleep(retry_after_seconds(error))
                self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("topic update failed; it is tried at the next change")
            finally:
                self._busy = False

    # -- rendering ---------------------------------------------------------------------------
    async def _render_message(self, args: Mapping) -> Content | None:
        """A case message as it goes: a copy of the original, or a canned reply's text; with
        translation on, a text translated (one message, the original with it)."""
        message = await self._cases.message(args["message"])
        if message is None:
            return None  # erased meanwhile (the resident deleted their data)
        self._rendered.pop(message.id, None)
        copy = Copy(message.source_chat_id, message.source_message_id)
        if message.direction == "in":
            if self._translation is None or message.kind != "text":
                return copy  # a photo's caption is translated beside the copy (_delivered)
            case = await self._cases.get(message.case_id)
            if case is None:
                return None
            outcome = await self._translation.for_staff(case, message)
            parts = presentation.for_staff(self._tr, outcome)
            if not parts:
                return copy
            self._remember(message, case, parts[1:], None)
            return Text(parts[0])
        if message.direction == "out":
            if message.template_key:
                # Canned replies come from the catalogs in the resident's language: never
                # sent to the machine.
                return Text(message.text or "", html=False)
            if self._translation is None or not message.text:
                return copy
            case = await self._cases.get(message.case_id)
            if case is None:
                return None
            return await self._answer(
                message, case, await self._translation.for_resident(case, message)
            )
        return None  # notes are never relayed

    async def _answer(self, message: CaseMessage, case: Case, outcome: Translation) -> Content:
        """A staff answer translated for the resident: the text, or the copy of a photo or
        document with the translated caption; what the topic is told goes along."""
        tr = self._i18n.translator(case.language)
        receipt = presentation.staff_receipt(self._tr, outcome)
        if message.kind == "text":
            parts = presentation.for_resident(tr, outcome)
            if not parts:
                return Copy(message.source_chat_id, message.source_message_id)
            self._remember(message, case, parts[1:], receipt)
            return Text(parts[0])
        caption = presentation.resident_caption(tr, outcome)
        if caption is None:
            return Copy(message.source_chat_id, message.source_message_id)
        self._remember(message, case, caption.follow_up, receipt)
        return Copy(message.source_chat_id, message.source_message_id, caption=caption.caption)

    def _remember(self, message: CaseMessage, case: Case, rest, receipt: str | None) -> None:
        if rest or receipt:
            self._rendered[message.id] = _Rendered(case.id, case.resident_id, tuple(rest), receipt)

    async def _render_caption(self, args: Mapping) -> Text | None:
        """Beside the copy of a resident's photo, document or voice message: its caption's
        translation (or that it failed), as an answer to the copy."""
        message = await self._cases.message(args["message"])
        if message is None or self._translation is None:
            return None
        case = await self._cases.get(message.case_id)
        if case is None:
            return None
        caption = presentation.staff_caption(
            self._tr, await self._translation.for_staff(case, message)
        )
        return Text(caption, reply_to=args.get("reply_to")) if caption else None

    def _follow_ups(self, message: CaseMessage, sent: Delivered) -> list[Envelope]:
        """What goes after a delivered copy or answer: the rest of a long translation, the
        translated caption beside a resident's photo, the topic told what a resident was sent."""
        rendered = self._rendered.pop(message.id, None)
        queued: list[Envelope] = []
        to_resident = message.direction == "out"
        if rendered is not None:
            for number, part in enumerate(rendered.rest, start=1):
                queued.append(
                    Envelope(
                        to_chat(sent.chat_id) if to_resident else to_topic(rendered.case_id),
                        Text(part),
                        Lane.ANSWER if to_resident else Lane.COPY,
                        key=f"{'answer' if to_resident else 'copy'}:{message.id}:{number}",
                        case_id=rendered.case_id,
                        resident_id=rendered.resident_id,
                        label=envelopes.ANSWER_LABEL if to_resident else envelopes.COPY_LABEL,
                        # A topic opened anew gets the whole copy again; a resident never.
                        replace=not to_resident,
                    )
                )
            if rendered.receipt:
                queued.append(
                    Envelope(
                        to_topic(rendered.case_id),
                        Text(
                            rendered.receipt,
                            reply_to=message.source_message_id
                            if message.source_chat_id == self._staff_chat_id
                            else None,
                        ),
                        Lane.COPY,
                        key=f"receipt:{message.id}",
                        case_id=rendered.case_id,
                        resident_id=rendered.resident_id,
                    )
                )
        if (
            not to_resident
            and self._translation is not None
            and message.kind != "text"
            and message.text
            and sent.message_id is not None
        ):
            queued.append(
                Envelope(
                    to_topic(message.case_id),
                    Render(CAPTION, {"message": message.id, "reply_to": sent.message_id}),
                    Lane.COPY,
                    key=f"caption:{message.id}",
                    case_id=message.case_id,
                    label=envelopes.COPY_LABEL,
                    replace=True,  # beside the copy in a topic opened anew, too
                )
            )
        return queued

    async def _digest(self, rows: list[Row]) -> Text:
        """Copies held back while a resident wrote faster than the group's budget allows, as
        one message: every text in full (up to Telegram's length), the files listed with a
        button that copies them here (each original stays reachable; /queue shows them too)."""
        tr = self._tr
        messages = [
            m
            for m in [await self._cases.message(row.content.args["message"]) for row in rows]  # type: ignore[union-attr]
            if m is not None
        ]
        lines = [
            "📨 <b>{}</b>".format(
                tr.ngettext(
                    "%(count)d more message of the resident, sent in quick succession",
                    "%(count)d more messages of the resident, sent in quick succession",
                    len(messages),
                )
                % {"count": len(messages)}
            ),
            "<i>{}</i>".format(
                escape(tr._("Shown together so that the group stays within Telegram's limits."))
            ),
        ]
        translations = await self._digest_translations(messages)
        if any(t is not None for t in translations):
            lines.append(f"<i>{escape(tr._(DIGEST_LEGEND))}</i>")
        files = 0
        shown = 0
        for message, translation in zip(messages, translations, strict=True):
            icon = KIND_LABELS.get(message.kind, "💬")
            if message.kind != "text":
                files += 1
            body = escape((message.text or "")[:DIGEST_ITEM])
            if translation is not None and translation.status is Status.TRANSLATED:
                german = escape((translation.text or "")[:DIGEST_ITEM])
                body = f"🌐 {german}\n<i>{body}</i>"
            elif translation is not None and translation.status is Status.FAILED:
                body = f"⚠️ {body}"
            line = f"{icon} {tr.time(message.created_at)} {body}".rstrip()
            if sum(len(x) + 1 for x in lines) + len(line) > 3800:
                break
            lines.append(line)
            shown += 1
        if shown < len(messages):
            lines.append(
                tr._("… and %(count)d more: /queue shows every message of the case.")
                % {"count": len(messages) - shown}
            )
        markup: Buttons = ()
        if files:
            markup = buttons(
                [
                    [
                        (
                            tr.ngettext(
                                "📎 Copy the file here", "📎 Copy the %(count)d files here", files
                            )
                            % {"count": files},
                            OUTGOING("files", rows[0].id),
                        )
                    ]
                ]
            )
        return Text("\n".join(lines), markup)

    async def _digest_translations(self, messages: list[CaseMessage]) -> list[Translation | None]:
        """The German of each text and caption in a digest, side by side: a slow provider
        costs its time once, not once per message."""
        for message in messages:
            self._rendered.pop(message.id, None)  # a digest has no follow-ups
        if self._translation is None or not messages:
            return [None] * len(messages)
        case = await self._cases.get(messages[0].case_id)
        if case is None:
            return [None] * len(messages)
        translation = self._translation

        async def one(message: CaseMessage) -> Translation | None:
            if message.direction != "in" or not message.text:
                return None
            return await translation.for_staff(case, message)

        return list(await asyncio.gather(*(one(m) for m in messages)))

    async def _render_topic(self, args: Mapping) -> NewTopic | None:
        case = await self._cases.get(args["case"])
        if case is None or case.thread_id is not None or case.status in ("draft", "closed"):
            return None  # opened meanwhile, or no longer needed
        return NewTopic(case_cards.topic_name(self._tr, case))

    async def _render_card(self, args: Mapping) -> Text | None:
        case = await self._cases.get(args["case"])
        if case is None:
            return None
        return Text(
            case_cards.card_text(self._tr, case),
            _rows(case_cards.card_buttons(self._tr, case)),
        )

    async def _render_notice(self, args: Mapping) -> Text | None:
        if self._notices is None:
            return None
        notice = await self._notices.notice(args["notice"])
        if notice is None:
            return None
        return Text(
            f"#{notice.case_id} · {notice.text}",
            buttons([(b["text"], b["callback_data"]) for b in row] for row in notice.buttons or []),
            html=False,
        )

    # -- hooks (inside the transaction that records Telegram's answer) -------------------------
    async def _delivered(self, tx: Transaction, args: Mapping, sent: Delivered):
        message = await self._cases.message(args["message"])
        if message is None:
            return None
        await self._cases.mark_relayed(tx, message.id, sent.chat_id, sent.message_id)
        queued = self._follow_ups(message, sent)
        if message.direction == "out":
            # The 👍 on the staff member's message says "delivered"; it is queued, so the
            # next answer never waits for it.
            queued.append(
                envelopes.acknowledgement(
                    message.source_chat_id, message.source_message_id, str(message.id)
                )
            )
        return queued or None

    async def _undelivered(self, tx: Transaction, args: Mapping, failure: Failure):
        self._rendered.pop(args["message"], None)  # nothing follows what did not arrive
        status = "uncertain" if failure.outcome is Outcome.UNCERTAIN else "failed"
        await self._cases.mark_undelivered(tx, args["message"], status, failure.reason[:200])
        return None

    async def _topic_opened(self, tx: Transaction, args: Mapping, sent: Delivered):
        case = await self._cases.get(args["case"])
        if case is not None and sent.message_id is not None:
            await self._cases.set_thread(
                tx, case.id, sent.message_id, case_cards.topic_name(self._tr, case)
            )
        return None

    async def _card_sent(self, tx: Transaction, args: Mapping, sent: Delivered):
        if sent.message_id is not None:
            await self._cases.set_card(tx, args["case"], sent.message_id)
        return None

    async def _notice_sent(self, tx: Transaction, args: Mapping, sent: Delivered):
        if self._notices is not None:
            await self._notices.notice_sent(tx, args["notice"])
        return None

    async def _blocked(self, tx: Transaction, args: Mapping, failure: Failure):
        await self._cases.mark_chat_blocked(tx, args["chat"])
        return None

    async def _topic_gone(self, tx: Transaction, case_id: int) -> None:
        """Somebody deleted the topic: a new one, and every copy again there."""
        await self._cases.clear_thread(tx, case_id, self._clock.now())

    async def copy_files(self, digest_id: int) -> int:
        """ "Copy the files here" under a digest: the photos, documents and voice messages it
        only listed, copied into the topic now (outside the per-resident limit)."""
        queued: list[Envelope] = []
        for row in await self._outgoing.rows(digest_id=digest_id):
            message = await self._cases.message(row.content.args.get("message", 0))  # type: ignore[union-attr]
            if message is None or message.kind == "text" or row.case_id is None:
                continue
            queued.append(
                Envelope(
                    to_topic(row.case_id),
                    Copy(message.source_chat_id, message.source_message_id),
                    Lane.COPY,
                    key=f"file:{message.id}",
                    case_id=row.case_id,
                    resident_id=row.resident_id,
                )
            )
        if queued and self._courier is not None:
            await self._courier.send(*queued)
        return len(queued)

    # -- staff topics (direct: edits in place) -------------------------------------------------
    async def refresh_case(self, case_id: int) -> None:
        """After a status change: topic name, open/closed state and the card follow the case —
        in the relay's own task, so that no handler waits for an edit in the group (and
        several changes of one case make one edit)."""
        if self._staff_chat_id is not None:
            self.kick(case_id)

    async def _refresh(self, case_id: int) -> None:
        assert self._staff_chat_id is not None
        case = await self._cases.get(case_id)
        if case is None or case.thread_id is None:
            return
        chat, thread = self._staff_chat_id, case.thread_id
        title = case_cards.topic_name(self._tr, case)
        try:
            if title != case.topic_title:
                await self._bot.edit_forum_topic(chat, thread, name=title)
                await self._cases.set_topic_title(case.id, title)
            if case.card_message_id is not None:
                with contextlib.suppress(BadRequest):  # "message is not modified"
                    await self._bot.edit_message_text(
                        case_cards.card_text(self._tr, case),
                        chat_id=chat,
                        message_id=case.card_message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=case_cards.card_buttons(self._tr, case),
                    )
            if case.status == "closed":
                await self._bot.close_forum_topic(chat, thread)
        except BadRequest as error:
            # TOPIC_NOT_MODIFIED and friends: the topic already looks right.
            logger.info("topic of case %s not updated: %s", case.id, error.message)
        except RetryAfter:
            raise  # the loop pauses and tries again
        except TelegramError:
            logger.warning("topic of case %s not updated", case.id, exc_info=True)

    async def delete_topic(self, thread_id: int | None) -> bool:
        """Delete a case's forum topic with every message in it (the copies of the resident's
        messages); False where Telegram refuses (no right, already gone)."""
        if self._staff_chat_id is None or thread_id is None:
            return False
        try:
            await self._bot.delete_forum_topic(self._staff_chat_id, thread_id)
        except TelegramError as error:
            logger.warning("topic %s not deleted: %s", thread_id, error)
            return False
        return True

    async def reopen_topic(self, case_id: int) -> None:
        if self._staff_chat_id is None:
            return
        async with self._topic_lock:
            case = await self._cases.get(case_id)
            if case is None or case.thread_id is None or case.status == "closed":
                return
            with contextlib.suppress(BadRequest):  # TOPIC_NOT_MODIFIED: it was open already
                await self._bot.reopen_forum_topic(self._staff_chat_id, case.thread_id)
            await self._refresh(case_id)

    async def tell_staff(self, case: Case, text: str, *, key: str, label: str) -> None:
        """A notice in the case's topic, through the courier (it waits for a new topic). `key`
        stores it once; told again under the same key (e.g. a second parking of the same update
        after `inbox --retry`) it is sent again once the first is through."""
        if self._staff_chat_id is None or self._courier is None:
            return
        await self._courier.send(
            Envelope(
                to_topic(case.id),
                Text(text, html=False),
                Lane.COPY,
                key=key,
                case_id=case.id,
                resident_id=case.resident_id,
                label=label,
                replace=True,
            )
        )
