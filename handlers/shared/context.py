"""The per-update context: the resident and their translator travel with the update.

python-telegram-bot builds one context per update and hands the same object to every handler group,
so what the gate (group -2) attaches here is what the later handlers see. Nothing lives in a
module-level or context variable, so nothing leaks from one update into the next.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot

from bot.core.i18n import DEFAULT_LANGUAGE, Translator
from bot.residents.repository import Resident
from bot.services import Services

SERVICES_KEY = "services"


class BotContext(CallbackContext[ExtBot, dict, dict, dict]):
    def __init__(
        self, application: Application, chat_id: int | None = None, user_id: int | None = None
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.resident: Resident | None = None
        self.is_staff: bool = False
        # Who acts, for staff handlers (set by staff_only): the user, or the staff group itself
        # for an anonymous administrator.
        self.staff_id: int | None = None
        self.crisis: bool = False  # this message showed signs of acute danger
        self._translator: Translator | None = None

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]

    @property
    def tr(self) -> Translator:
        if self._translator is None:
            self._translator = self.services.i18n.translator(DEFAULT_LANGUAGE)
        return self._translator

    def use_language(self, language: str | None) -> None:
        self._translator = self.services.i18n.translator(language)

    def _(self, message: str) -> str:
        return self.tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.tr.ngettext(singular, plural, n)
