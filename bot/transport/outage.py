"""A storage outage: the database cannot be written (disk full, read-only file or directory,
another process holding the write lock, a failing disk).

Nothing is confirmed to Telegram that is not stored, so nothing is lost: what arrives stays at
Telegram, what was stored stays pending in the inbox (bot/transport/intake.py pauses and tries
one update now and then). What this module adds is that people know:
- one log line when it starts and one when it is over, instead of a traceback a second;
- the admins are told in Telegram, once, and again when it is over;
- a resident who writes meanwhile is told, once per outage, in their language, that there is a
  technical problem and their message is not lost.
Failures less than REPEAT_WINDOW after the last recovery belong to the same outage: a database
that takes some writes and not others (a full disk with a few free pages) tells nobody twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.core.failures import storage_problem
from bot.core.i18n import N_, STAFF_LANGUAGE, I18n
from bot.transport.alerts import AdminAlerts

logger = logging.getLogger(__name__)

REPEAT_WINDOW = 600.0  # seconds

_PROBLEMS = {
    "full": N_("the disk or the database is full"),
    "read-only": N_("the database file or its folder is read-only"),
    "locked": N_("another process holds the database locked"),
    "I/O error": N_("the disk reports errors"),
    "cannot be opened": N_("the database file cannot be opened"),
}


class StorageOutage:
    def __init__(self, alerts: AdminAlerts, i18n: I18n) -> None:
        self._alerts = alerts
        self._i18n = i18n
        self.active = False
        self._since = 0.0
        self._recovered_at: float | None = None
        self._told: set[int] = set()

    def failed(self, error: BaseException, senders: Iterable[tuple[int, str | None]]) -> None:
        """A write failed for `error` (a storage problem); `senders` wrote what could not be
        stored or handled: (chat id, Telegram language code) of private chats."""
        now = asyncio.get_running_loop().time()
        problem = storage_problem(error) or "?"
        if not self.active:
            self.active = True
            repeat = self._recovered_at is not None and now - self._recovered_at < REPEAT_WINDOW
            if not repeat:
                self._since = now
                self._told.clear()
                logger.error(
                    "the database cannot be written (%s): updates wait until it can; "
                    "nothing is confirmed to Telegram that is not stored",
                    problem,
                )
                tr = self._i18n.translator(STAFF_LANGUAGE)
                self._alerts.alert(
                    "storage",
                    "⚠️ "
                    + tr._(
                        "The bot's database cannot be written: %(problem)s. Nothing is lost: "
                        "messages wait at Telegram or in the inbox, and residents who write are "
                        "told. The bot carries on by itself once the database can be written."
                    )
                    % {"problem": tr._(_PROBLEMS.get(problem, problem))},
                )
        for chat_id, language in senders:
            if chat_id in self._told:
                continue
            self._told.add(chat_id)
            tr = self._i18n.translator(I18n.supported(language))
            self._alerts.tell(
                chat_id,
                tr._(
                    "Sorry, we have a technical problem at the moment. Your message is not "
                    "lost: we will take care of it as soon as the problem is solved."
                ),
            )

    def recovered(self, backlog: int) -> None:
        if not self.active:
            return
        self.active = False
        now = asyncio.get_running_loop().time()
        repeat = self._recovered_at is not None and self._since < self._recovered_at
        self._recovered_at = now
        if repeat:
            return  # a relapse within the window: its recovery was said already
        minutes = max(1, round((now - self._since) / 60))
        logger.warning(
            "the database can be written again after about %d min; %d updates waiting",
            minutes,
            backlog,
        )
        tr = self._i18n.translator(STAFF_LANGUAGE)
        self._alerts.alert(
            "storage recovered",
            "✅ "
            + tr.ngettext(
                "The database can be written again (after about %(minutes)d minute). "
                "%(count)d waiting updates are being handled now.",
                "The database can be written again (after about %(minutes)d minutes). "
                "%(count)d waiting updates are being handled now.",
                minutes,
            )
            % {"minutes": minutes, "count": backlog},
        )
