"""The relay: copies stored case messages to where they belong and keeps staff topics in shape.

Messages are written to `case_messages` first (relay_status 'pending'); one worker task then
copies them, in order, resident -> staff topic and staff -> resident. A network error or a 429
leaves the row pending with a "not before" time, so it is retried after a pause and after a
restart; a blocked resident or a deleted message marks it failed and staff are told. One worker
and one lock mean a message is never copied twice by two passes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from html import escape

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReactionTypeEmoji
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.appointments.repository import AppointmentRepository, StaffNotice
from bot.cases import cards as case_cards
from bot.cases.repository import Case, CaseMessage, CaseRepository
from bot.core.clock import Clock
from bot.core.i18n import DEFAULT_LANGUAGE, I18n
from bot.core.retry import retry_after_seconds

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=5)
# After a failed topic creation (no rights, not a forum): wait before trying again, so the log
# is not flooded while the group is being fixed.
TOPIC_PAUSE = timedelta(seconds=30)


class _Pause(Exception):
    """Telegram asked us to wait (429): stop this pass."""


class Relay:
    def __init__(
        self,
        bot: Bot,
        cases: CaseRepository,
        clock: Clock,
        i18n: I18n,
        staff_chat_id: int | None,
        *,
        notices: AppointmentRepository | None = None,
        admin_ids: frozenset[int] = frozenset(),
        idle_interval: float = 5.0,
    ) -> None:
        self._bot = bot
        self._cases = cases
        self._clock = clock
        self._staff_chat_id = staff_chat_id
        self._tr = i18n.translator(DEFAULT_LANGUAGE)  # the staff group speaks German
        self._idle_interval = idle_interval
        self._notices = notices
        self._admin_ids = admin_ids
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._topics_paused_until = datetime.min.replace(tzinfo=UTC)
        self._changed: set[int] = set()  # cases whose topic name and card may be out of date
        # Topic updates one at a time: each reads the case's current state and applies it, so a
        # slow "close" can never land after a later "reopen".
        self._topic_lock = asyncio.Lock()

    # -- lifecycle --------------------------------------------------------------------------
    def kick(self, case_id: int | None = None) -> None:
        """Something was stored or changed: act now rather than at the next interval."""
        if case_id is not None:
            self._changed.add(case_id)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("relay pass failed; retrying at the next interval")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._idle_interval)

    async def settled(self) -> None:
        """Return once no pass is running or due (for an orderly shutdown and for tests)."""
        # Three conditions, no single event to wait on: a short poll is the simple way.
        while self._wake.is_set() or self._lock.locked() or self._topic_lock.locked():  # noqa: ASYNC110
            await asyncio.sleep(0.005)

    async def run_once(self) -> None:
        async with self._lock:
            now = self._clock.now()
            # Topics and messages pause separately: a misconfigured staff group must not hold
            # up staff answers on their way to residents.
            if self._staff_chat_id is not None and now >= self._topics_paused_until:
                try:
                    for case in await self._cases.cases_without_topic():
                        await self._open_topic(case)
                except _Pause:
                    self._topics_paused_until = now + TOPIC_PAUSE
            try:
                for message in await self._cases.pending_relays(now):
                    await self._relay(message)
                if self._notices is not None:
                    for notice in await self._notices.pending_notices(now):
                        await self._deliver_notice(notice)
            except _Pause:
                pass
            changed, self._changed = self._changed, set()
            for case_id in sorted(changed):
                await self.refresh_case(case_id)

    # -- staff topics -----------------------------------------------------------------------
    async def _open_topic(self, case: Case) -> None:
        assert self._staff_chat_id is not None
        title = case_cards.topic_name(self._tr, case)
        try:
            topic = await self._bot.create_forum_topic(self._staff_chat_id, title)
        except RetryAfter as error:
            logger.warning("topic for case %s: flood wait %ss", case.id, error.retry_after)
            raise _Pause from error
        except Forbidden as error:
            logger.error("cannot create a topic in the staff group: %s", error.message)
            raise _Pause from error
        except BadRequest as error:
            # Not a forum, or no right to manage topics: /queue still works; say so loudly.
            logger.error("cannot create a topic for case %s: %s", case.id, error.message)
            raise _Pause from error
        except NetworkError as error:
            logger.warning("topic for case %s: %s; retrying", case.id, error.message)
            raise _Pause from error
        await self._cases.set_thread(case.id, topic.message_thread_id, title)
        fresh = await self._cases.get(case.id)
        assert fresh is not None
        try:
            card = await self._bot.send_message(
                self._staff_chat_id,
                case_cards.card_text(self._tr, fresh),
                parse_mode=ParseMode.HTML,
                reply_markup=case_cards.card_buttons(self._tr, fresh),
                message_thread_id=topic.message_thread_id,
            )
            await self._cases.set_card(case.id, card.message_id)
        except TelegramError:
            logger.warning("case card for case %s not sent", case.id, exc_info=True)

    async def refresh_case(self, case_id: int) -> None:
        """After a status change: topic name, open/closed state and the card follow the case."""
        if self._staff_chat_id is None:
            return
        async with self._topic_lock:
            await self._refresh(case_id)

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

    async def tell_staff(self, case: Case, text: str) -> None:
        """A notice in the case's topic (best effort: the case card shows the state anyway)."""
        if self._staff_chat_id is None or case.thread_id is None:
            return
        try:
            await self._bot.send_message(
                self._staff_chat_id, text, message_thread_id=case.thread_id
            )
        except TelegramError:
            logger.warning("notice for case %s not sent", case.id, exc_info=True)

    # -- notices for staff ------------------------------------------------------------------
    async def _deliver_notice(self, notice: StaffNotice) -> None:
        """Into the case's topic; without a staff group, to each admin's private chat."""
        assert self._notices is not None
        case = await self._cases.get(notice.case_id)
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
                    for row in notice.buttons
                ]
            )
            if notice.buttons
            else None
        )
        text = f"#{notice.case_id} · {notice.text}"
        if self._staff_chat_id is not None:
            if case is None or case.thread_id is None:
                return  # the topic comes first
            targets = [(self._staff_chat_id, case.thread_id)]
        else:
            targets = [(admin, None) for admin in sorted(self._admin_ids)]
        delivered = False
        for chat_id, thread in targets:
            try:
                await self._bot.send_message(
                    chat_id, text, reply_markup=markup, message_thread_id=thread
                )
                delivered = True
            except (Forbidden, BadRequest) as error:
                logger.warning(
                    "notice %s not delivered to %s: %s", notice.id, chat_id, error.message
                )
            except Exception as error:
                if isinstance(error, RetryAfter | NetworkError):
                    await self._notices.notice_retry(
                        notice.id, self._clock.now() + timedelta(seconds=5)
                    )
                    raise _Pause from error
                raise
        await self._notices.notice_done(notice.id, "sent" if delivered else "failed")

    # -- messages ---------------------------------------------------------------------------
    async def _relay(self, message: CaseMessage) -> None:
        case = await self._cases.get(message.case_id)
        if case is None:
            await self._cases.mark_failed(message.id, "case gone")
            return
        if message.direction == "in":
            await self._to_staff(case, message)
        elif message.direction == "out":
            await self._to_resident(case, message)
        else:
            await self._cases.mark_failed(message.id, "notes are never relayed")

    async def _to_staff(self, case: Case, message: CaseMessage) -> None:
        if self._staff_chat_id is None:
            await self._cases.mark_failed(message.id, "no staff group")
            return
        if case.thread_id is None:
            return  # the topic comes first; next pass
        try:
            copy = await self._bot.copy_message(
                self._staff_chat_id,
                message.source_chat_id,
                message.source_message_id,
                message_thread_id=case.thread_id,
            )
        except BadRequest as error:
            if "thread not found" in error.message.lower():
                # Somebody deleted the topic: open a new one and copy everything again there.
                logger.warning("topic of case %s is gone; opening a new one", case.id)
                await self._cases.clear_thread(case.id)
                return
            await self._cases.mark_failed(message.id, error.message)
            await self.tell_staff(
                case, "⚠️ " + self._tr._("A message of the resident could not be copied here.")
            )
            return
        except Exception as error:
            await self._retry_or_raise(message, error)
            return
        await self._cases.mark_relayed(message.id, self._staff_chat_id, copy.message_id)

    async def _to_resident(self, case: Case, message: CaseMessage) -> None:
        if case.resident_chat_id is None:
            await self._cases.mark_failed(message.id, "resident deleted their data")
            await self._report_failure(
                message, case, self._tr._("Not delivered: the resident has deleted their data.")
            )
            return
        try:
            if message.template_key:
                sent = await self._bot.send_message(case.resident_chat_id, message.text or "")
            else:
                sent = await self._bot.copy_message(
                    case.resident_chat_id, message.source_chat_id, message.source_message_id
                )
        except Forbidden as error:
            await self._cases.mark_failed(message.id, error.message)
            if case.resident_id is not None:
                await self._cases.mark_resident_blocked(case.resident_id, True)
            await self._report_failure(
                message, case, self._tr._("Not delivered: the resident has blocked the bot.")
            )
            await self.refresh_case(case.id)
            return
        except BadRequest as error:
            await self._cases.mark_failed(message.id, error.message)
            await self._report_failure(
                message,
                case,
                self._tr._("Not delivered: Telegram refused the message (%(reason)s).")
                % {"reason": escape(error.message)},
            )
            return
        except Exception as error:
            await self._retry_or_raise(message, error)
            return
        await self._cases.mark_relayed(message.id, case.resident_chat_id, sent.message_id)
        await self._acknowledge(message)

    async def _acknowledge(self, message: CaseMessage) -> None:
        """A 👍 on the staff member's message: it reached the resident."""
        try:
            await self._bot.set_message_reaction(
                message.source_chat_id, message.source_message_id, ReactionTypeEmoji("👍")
            )
        except TelegramError:
            logger.info("could not acknowledge message %s", message.id)

    async def _report_failure(self, message: CaseMessage, case: Case, text: str) -> None:
        try:
            await self._bot.send_message(
                message.source_chat_id,
                "⚠️ " + text,
                reply_to_message_id=message.source_message_id,
                message_thread_id=case.thread_id
                if message.source_chat_id == self._staff_chat_id
                else None,
            )
        except TelegramError:
            logger.warning("could not report a failed delivery of message %s", message.id)

    async def _retry_or_raise(self, message: CaseMessage, error: Exception) -> None:
        """429 and network trouble: keep the row pending and try again later."""
        now = self._clock.now()
        if isinstance(error, RetryAfter):
            wait = timedelta(seconds=retry_after_seconds(error))
            await self._cases.mark_retry(message.id, "429", now + wait)
            logger.warning("relay paused for %ss (flood control)", wait.total_seconds())
            raise _Pause from error
        if isinstance(error, NetworkError):
            wait = min(timedelta(seconds=2 ** min(message.relay_attempts, 8)), MAX_BACKOFF)
            await self._cases.mark_retry(message.id, type(error).__name__, now + wait)
            logger.warning(
                "relay of message %s failed (%s); retry in %ss",
                message.id,
                type(error).__name__,
                wait.total_seconds(),
            )
            raise _Pause from error
        raise error
