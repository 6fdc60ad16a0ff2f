"""Who is told about a parked update (one whose handler failed for good), never what it said.

- Staff, where they act: in the case's topic when the update belongs to a case (a message in a
  case topic, or a resident whose case is open), else the admins (once per COOLDOWN, see
  alerts.py; `python -m bot inbox` lists every parked update).
- The person, in a private chat: the apology in their language, so that they try again instead
  of waiting for an answer that will not come.

Both go through the courier (the one durable path, keyed by the update): an update is often parked
because Telegram failed it four times, so a direct send would most likely fail too. The one
exception is the apology to somebody who has not agreed to the privacy notice: nothing of theirs
is stored before consent, not even a message to them, so it is sent directly.

A parked update keeps its content for `python -m bot inbox --retry`, except one from somebody who
has not agreed to the privacy notice: before consent nothing but id, chat and language is kept
(README, data protection), so its payload goes at once; they write again after the apology.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot, Update
from telegram.error import TelegramError

from bot.cases.repository import Case
from bot.cases.service import CaseService
from bot.core.i18n import N_, STAFF_LANGUAGE, I18n
from bot.core.logs import person
from bot.core.outgoing import Envelope, Lane, Text, to_chat
from bot.residents.service import ResidentService
from bot.transport.alerts import AdminAlerts
from bot.transport.courier import Courier
from bot.transport.intake import Entry
from bot.transport.relay import Relay

logger = logging.getLogger(__name__)


class ParkedNotices:
    def __init__(
        self,
        bot: Bot,
        i18n: I18n,
        alerts: AdminAlerts,
        residents: ResidentService,
        cases: CaseService,
        relay: Relay,
        courier: Courier,
        staff_chat_id: int | None,
        forget_content: Callable[[int], Awaitable[None]],
    ) -> None:
        self._bot = bot
        self._courier = courier
        self._i18n = i18n
        self._alerts = alerts
        self._residents = residents
        self._cases = cases
        self._relay = relay
        self._staff_chat_id = staff_chat_id
        self._forget_content = forget_content

    async def __call__(self, update: Update, entry: Entry, error: str, attempts: int) -> None:
        without_consent = False
        try:
            without_consent = await self._without_consent(update)
            if without_consent:
                await self._forget_content(update.update_id)
        except Exception:
            logger.warning("content of parked update %s kept", update.update_id, exc_info=True)
        try:
            await self._tell_staff(update, entry, error, attempts)
        except Exception:
            logger.warning("staff not told about parked update %s", update.update_id, exc_info=True)
        try:
            if without_consent:
                # Before consent nothing but id, chat and language is stored, not even a
                # message to them: the apology goes directly (lost if Telegram fails too; they
                # have the privacy notice's buttons to try again).
                await apologise(self._bot, self._i18n, self._residents, update)
            else:
                await self._apologise(update)
        except Exception:
            logger.warning("chat of parked update %s not told", update.update_id, exc_info=True)

    async def _without_consent(self, update: Update) -> bool:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or chat.type != chat.PRIVATE or user is None:
            return False  # the staff group: staff work, kept for a retry
        return self._residents.needs_consent(await self._residents.find(user.id))

    async def _case_of(self, update: Update) -> Case | None:
        chat, user, message = update.effective_chat, update.effective_user, update.effective_message
        if chat is None:
            return None
        if chat.id == self._staff_chat_id:
            thread = message.message_thread_id if message is not None else None
            return await self._cases.by_thread(thread) if thread else None
        if chat.type == chat.PRIVATE and user is not None:
            return await self._cases.current_for(user.id)
        return None

    async def _tell_staff(self, update: Update, entry: Entry, error: str, attempts: int) -> None:
        tr = self._i18n.translator(STAFF_LANGUAGE)
        case = await self._case_of(update)
        values = {
            "update_id": update.update_id,
            "kind": entry.kind or "?",
            "error": error,
            "attempts": attempts,
        }
        if case is not None and case.thread_id is not None and self._staff_chat_id is not None:
            chat = update.effective_chat
            if chat is not None and chat.id == case.resident_chat_id:
                text = tr._(
                    "A message or button press of the resident (update %(update_id)s) could not "
                    "be processed (%(error)s; attempts: %(attempts)s). It is kept; the resident "
                    "was asked to try again."
                )
            else:
                text = tr._(
                    "A message in this topic (update %(update_id)s) could not be processed "
                    "(%(error)s; attempts: %(attempts)s) and may not have reached the resident. "
                    "Please check and send it again if needed."
                )
            await self._relay.tell_staff(
                case,
                "⚠️ " + text % values,
                key=f"parked:{update.update_id}",  # parked again after `inbox --retry`: told again
                label=N_("the notice about a message that could not be processed"),
            )
            return
        self._alerts.alert(
            "parked",
            "⚠️ "
            + tr._(
                "Update %(update_id)s (%(kind)s) could not be processed (%(error)s; "
                "attempts: %(attempts)s) and was parked. `python -m bot inbox` lists parked "
                "updates."
            )
            % values,
        )

    async def _apologise(self, update: Update) -> None:
        apology = await _apology(self._i18n, self._residents, update)
        if apology is None:
            return
        chat_id, resident_id, text = apology
        await self._courier.send(
            Envelope(
                to_chat(chat_id),
                Text(text, html=False),
                Lane.ANSWER,
                key=f"parked:{update.update_id}:apology",
                resident_id=resident_id,
                label=N_("the apology for a message that could not be processed"),
                replace=True,
            )
        )


async def apologise(bot: Bot, i18n: I18n, residents: ResidentService, update: Update) -> None:
    """In a private chat: sorry, please try again, in the person's language. Direct: for what
    did not come through the inbox (a job, an update put in by hand); parked updates get it
    through the courier (ParkedNotices)."""
    apology = await _apology(i18n, residents, update)
    if apology is None:
        return
    chat_id, _resident_id, text = apology
    try:
        await bot.send_message(chat_id, text)
    except TelegramError as error:
        logger.info("%s not told about a failure: %s", person(chat_id), type(error).__name__)


async def _apology(
    i18n: I18n, residents: ResidentService, update: Update
) -> tuple[int, int | None, str] | None:
    """(chat, resident or None, the apology in their language) for a private chat, else None."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type != chat.PRIVATE:
        return None
    language = I18n.supported(user.language_code) if user is not None else None
    resident_id = None
    if user is not None:
        try:
            resident = await residents.find(user.id)
        except Exception as error:  # the apology matters more than its language
            logger.warning("no language for the apology to %s: %s", person(chat.id), error)
            resident = None
        if resident is not None:
            language, resident_id = resident.language, resident.user_id
    tr = i18n.translator(language)
    return (
        chat.id,
        resident_id,
        tr._("Sorry, something went wrong on our side. Please try again, or open the /menu."),
    )
