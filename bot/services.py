"""The services of one running bot, built once at start-up and reached through the context."""

from __future__ import annotations

from dataclasses import dataclass

from bot.appointment_notify import AppointmentNotifier
from bot.appointment_service import AppointmentService
from bot.case_service import CaseService
from bot.clock import Clock
from bot.config import Settings
from bot.crisis import CrisisDetector
from bot.db import Database
from bot.event_service import EventService
from bot.i18n import I18n
from bot.inbox import Inbox
from bot.orgdata import Organisation
from bot.outbox import Outbox
from bot.personal_data import PersonalDataRepository
from bot.relay import Relay
from bot.reminders import Reminders
from bot.report import ReportRepository
from bot.resident_service import ResidentService
from bot.selfhelp import ContentStore, SelfHelpRepository
from bot.staff import StaffDirectory


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
    appointments: AppointmentService
    notifier: AppointmentNotifier
    reminders: Reminders
    events: EventService
    outbox: Outbox
    crisis: CrisisDetector
    personal_data: PersonalDataRepository
    reports: ReportRepository
    inbox: Inbox
    content: ContentStore
    selfhelp: SelfHelpRepository
