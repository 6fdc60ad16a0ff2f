"""The services of one running bot, built once at start-up and reached through the context."""

from __future__ import annotations

from dataclasses import dataclass

from bot.appointments.reminders import Reminders
from bot.appointments.service import AppointmentService
from bot.cases.service import CaseService
from bot.core.clock import Clock
from bot.core.config import Settings
from bot.core.db import Database
from bot.core.i18n import I18n
from bot.core.recent import Recent
from bot.events.broadcasts import Broadcasts
from bot.events.service import EventService
from bot.letters.service import LetterService
from bot.org.orgdata import Organisation
from bot.outreach.service import OutreachService
from bot.privacy.erasure import Erasure
from bot.privacy.repository import PersonalDataRepository
from bot.reporting.service import ReportService
from bot.residents.service import ResidentService
from bot.selfhelp.repository import ContentStore, SelfHelpRepository
from bot.staff.directory import StaffDirectory
from bot.text.crisis import CrisisDetector
from bot.translation.service import TranslationService
from bot.transport.courier import Courier
from bot.transport.inbox import Inbox
from bot.transport.relay import Relay


@dataclass
class Services:
    settings: Settings
    clock: Clock
    db: Database
    org: Organisation
    i18n: I18n
    residents: ResidentService
    staff: StaffDirectory
    cases: CaseService
    relay: Relay
    courier: Courier  # the one durable path out (bot/transport/courier.py)
    appointments: AppointmentService
    reminders: Reminders
    events: EventService
    broadcasts: Broadcasts
    crisis: CrisisDetector
    # (chat, message) that got the emergency numbers: each message is answered once.
    crisis_answered: Recent
    personal_data: PersonalDataRepository
    erasure: Erasure
    reports: ReportService
    inbox: Inbox
    content: ContentStore
    selfhelp: SelfHelpRepository
    # Machine translation (bot/translation); `enabled` is False without THINKA_TRANSLATE.
    translation: TranslationService
    letters: LetterService
    outreach: OutreachService
