"""What the letter feature sends, as envelopes for the one durable path (bot/core/outgoing.py).

Stored by LetterRepository in the transaction that records the reading (or claims the deadline
reminder), so a notice is queued exactly when its letter counts as read: a kill before the commit
leaves the letter pending (read again, notices queued then), a kill after it leaves the notices
queued for the courier. Keys make a second attempt a no-op.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.cases.repository import Case
from bot.core.i18n import N_
from bot.core.outgoing import Buttons, Envelope, Lane, Text, buttons, to_chat, to_staff

READING_LABEL = N_("the reading of a letter")
REMINDER_LABEL = N_("the deadline reminder")
RESIDENT_LABEL = N_("the answer about the resident's letter")


def _buttons(markup: InlineKeyboardMarkup | None) -> Buttons:
    if markup is None:
        return ()
    return buttons(
        [(button.text, str(button.callback_data)) for button in row]
        for row in markup.inline_keyboard
    )


class LetterEnvelopes:
    """Builds the feature's envelopes. Without a staff group the admins get staff notices in
    private, each headed with the case number (there is no topic to say which case it is)."""

    def __init__(self, staff_group: bool) -> None:
        self._staff_group = staff_group

    def to_staff(
        self,
        case: Case,
        html: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        key: str,
        label: str = READING_LABEL,
    ) -> Envelope:
        """Into the case's topic (the courier waits for a new case's topic), or to the admins."""
        text = html if self._staff_group else f"#{case.id} · {html}"
        return Envelope(
            to_staff(case.id),
            Text(text, _buttons(markup)),
            Lane.COPY,
            key=key,
            case_id=case.id,
            resident_id=case.resident_id,
            label=label,
        )

    def to_resident(
        self, case: Case, html: str, markup: InlineKeyboardMarkup | None = None, *, key: str
    ) -> list[Envelope]:
        """To the case's resident in private (none when the case has no resident chat)."""
        if case.resident_chat_id is None:
            return []
        return [
            Envelope(
                to_chat(case.resident_chat_id),
                Text(html, _buttons(markup)),
                Lane.ANSWER,
                key=key,
                case_id=case.id,
                resident_id=case.resident_id,
                label=RESIDENT_LABEL,
            )
        ]


def reading_keys(letter_id: int) -> tuple[str, str]:
    """(staff, resident): one of each per letter."""
    return f"letter:{letter_id}:staff", f"letter:{letter_id}:resident"


def reminder_key(case_id: int, claimed_at: datetime) -> str:
    """One per claim of the reminder (claiming is once per deadline, bot/letters/repository.py)."""
    return f"deadline:{case_id}:{claimed_at.isoformat()}"
