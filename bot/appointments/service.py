"""Appointments: what a resident books and what staff do with the request.

A resident's booking is a draft in the database (topic → location → day → time → note), so it
survives a restart. Sending it holds a seat (SQLite refuses a seat beyond capacity) and leaves a
notice with buttons for staff in the case's topic. Every action checks whose appointment it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.appointments.notices import AppointmentNotifier
from bot.appointments.repository import HOLDING, Appointment, AppointmentRepository, Draft, SlotFull
from bot.appointments.slots import booking_window, free_slots
from bot.cases.repository import TOPICS
from bot.cases.service import CaseService
from bot.core import callbacks
from bot.core.clock import Clock
from bot.core.i18n import Translator
from bot.org.orgdata import Location, Organisation
from bot.residents.repository import Resident

logger = logging.getLogger(__name__)

__all__ = ["AppointmentError", "AppointmentService", "SlotFull"]


class AppointmentError(Exception):
    """The action does not fit the appointment (not yours, already cancelled, in the past …)."""


class AppointmentService:
    def __init__(
        self,
        repository: AppointmentRepository,
        cases: CaseService,
        org: Organisation,
        clock: Clock,
        timezone: ZoneInfo,
        staff_tr: Translator,
        on_notice: Callable[[], None] = lambda: None,
        notifier: AppointmentNotifier | None = None,
    ) -> None:
        self.repo = repository
        # What the resident is told (confirmation, proposal, decline …) is queued with the
        # change; without a notifier (service tests) nothing is sent.
        self._notifier = notifier
        self._cases = cases
        self._org = org
        self._clock = clock
        self._tz = timezone
        self._staff_tr = staff_tr  # notices for the staff group are German
        self._on_notice = on_notice

    # -- availability -----------------------------------------------------------------------
    def location(self, key: str | None) -> Location | None:
        return self._org.location(key) if key else None

    async def free_times(self, location: Location, day: date) -> list[datetime]:
        start = datetime.combine(day, datetime.min.time(), tzinfo=self._tz)
        end = start + timedelta(days=1, hours=2)  # a day is 23-25 hours long around DST
        taken = await self.repo.taken(location.key, start, end)
        closed = await self.repo.closed_days(location.key)
        return free_slots(location, day, self._tz, self._clock.now(), taken, closed)

    async def bookable_days(self, location: Location) -> list[date]:
        days = booking_window(self._clock.now(), self._tz, self._org.appointments.booking_days)
        return [day for day in days if await self.free_times(location, day)]

    # -- the resident's draft ---------------------------------------------------------------
    async def begin(self, resident: Resident, replaces: int | None = None) -> Draft:
        topic = None
        location = None
        if replaces is not None:
            old = await self.own(resident, replaces)
            location = old.location
            case = await self._cases.get(old.case_id)
            topic = case.topic if case else None
        draft = Draft(resident.user_id, topic, location, None, None, None, False, replaces)
        await self.repo.save_draft(draft, self._clock.now())
        return draft

    async def draft(self, resident: Resident) -> Draft | None:
        return await self.repo.draft(resident.user_id)

    async def update(self, resident: Resident, **changes) -> Draft:
        draft = await self.repo.draft(resident.user_id) or await self.begin(resident)
        if "topic" in changes and changes["topic"] not in TOPICS:
            raise AppointmentError("unknown topic")
        if "location" in changes and self.location(changes["location"]) is None:
            raise AppointmentError("unknown location")
        draft = replace(draft, **changes)
        await self.repo.save_draft(draft, self._clock.now())
        return draft

    async def submit(self, resident: Resident, first_name: str | None) -> Appointment:
        """Send the request: a seat is held and staff get a notice. SlotFull if just taken."""
        draft = await self.repo.draft(resident.user_id)
        if draft is None or draft.starts_at is None or draft.location is None:
            raise AppointmentError("the booking is not complete")
        location = self.location(draft.location)
        assert location is not None
        if draft.starts_at <= self._clock.now():
            raise SlotFull
        case = None
        if draft.replaces is not None:
            old = await self.own(resident, draft.replaces)
            case = await self._cases.get(old.case_id)
        if case is None or case.status == "closed":
            case = await self._cases.current_open_case(resident)
        if case is None:
            case = await self._cases.open_case(
                resident, draft.topic or "other", location.district, first_name
            )
        ends_at = draft.starts_at + timedelta(minutes=location.slot_minutes)
        appointment_id = await self.repo.request(
            case.id,
            location.key,
            draft.starts_at,
            ends_at,
            location.capacity,
            draft.note,
            self._clock.now(),
        )
        tr = self._staff_tr
        if draft.replaces is not None:
            await self.repo.set_status(draft.replaces, "cancelled", self._clock.now(), HOLDING)
            await self._notice(
                case.id,
                "🔁 "
                + tr._("The resident asked to move appointment %(old)s:")
                % {"old": f"T{draft.replaces}"},
            )
        await self.repo.delete_draft(resident.user_id)
        appointment = await self.repo.get(appointment_id)
        assert appointment is not None
        await self._notice(
            case.id,
            "📅 "
            + tr._("Appointment request %(id)s: %(when)s, %(place)s.")
            % {
                "id": f"T{appointment.id}",
                "when": self.when(tr, appointment),
                "place": location.name,
            }
            + (("\n" + tr._("Note: %(note)s") % {"note": draft.note}) if draft.note else ""),
            self.request_buttons(appointment),
        )
        logger.info("appointment %s requested in case %s", appointment.id, case.id)
        return appointment

    # -- resident actions -------------------------------------------------------------------
    async def upcoming(self, resident: Resident) -> list[Appointment]:
        return await self.repo.upcoming_for_resident(resident.user_id, self._clock.now())

    async def cancel(self, resident: Resident, appointment_id: int) -> Appointment:
        appointment = await self.own(resident, appointment_id)
        # It was in their calendar: the file that removes it goes with the cancellation.
        removal = (
            self._tell(self._notifier.cancellation_file, appointment)
            if appointment.status == "confirmed" and self._notifier is not None
            else []
        )
        if not await self.repo.set_status(
            appointment.id, "cancelled", self._clock.now(), HOLDING, removal
        ):
            raise AppointmentError("not active")
        self._on_notice()
        await self._notice(
            appointment.case_id,
            "❌ "
            + self._staff_tr._("The resident cancelled appointment %(id)s (%(when)s).")
            % {"id": f"T{appointment.id}", "when": self.when(self._staff_tr, appointment)},
        )
        return await self._fresh(appointment.id)

    async def accept(self, resident: Resident, appointment_id: int) -> Appointment:
        appointment = await self.own(resident, appointment_id)
        if not await self.repo.set_status(
            appointment.id,
            "confirmed",
            self._clock.now(),
            ("proposed",),
            self._tell(self._notifier and self._notifier.confirmed, appointment),
        ):
            raise AppointmentError("not proposed")
        self._on_notice()
        await self._notice(
            appointment.case_id,
            "✅ "
            + self._staff_tr._("The resident accepted the proposed time for %(id)s (%(when)s).")
            % {"id": f"T{appointment.id}", "when": self.when(self._staff_tr, appointment)},
            self.done_buttons(appointment),
        )
        return await self._fresh(appointment.id)

    async def reject_proposal(self, resident: Resident, appointment_id: int) -> Draft:
        """ "Choose another time": the proposal is let go, a new booking starts at that place."""
        appointment = await self.own(resident, appointment_id)
        if appointment.status != "proposed":
            raise AppointmentError("not proposed")
        return await self.begin(resident, replaces=appointment.id)

    # -- staff actions ----------------------------------------------------------------------
    async def confirm(self, appointment_id: int, staff_id: int) -> Appointment:
        appointment = await self._staff_get(appointment_id)
        if appointment.starts_at <= self._clock.now():
            raise AppointmentError(self._staff_tr._("This time has passed already."))
        if not await self.repo.set_status(
            appointment.id,
            "confirmed",
            self._clock.now(),
            ("requested",),
            self._tell(self._notifier and self._notifier.confirmed, appointment),
        ):
            raise AppointmentError(
                self._staff_tr._("Only a requested appointment can be confirmed.")
            )
        await self._cases.audit(staff_id, "appointment_confirm", appointment.case_id)
        self._on_notice()
        return await self._fresh(appointment.id)

    async def decline(self, appointment_id: int, staff_id: int) -> Appointment:
        appointment = await self._staff_get(appointment_id)
        if not await self.repo.set_status(
            appointment.id,
            "declined",
            self._clock.now(),
            ("requested", "proposed"),
            self._tell(self._notifier and self._notifier.declined, appointment),
        ):
            raise AppointmentError(self._staff_tr._("This appointment is no longer open."))
        await self._cases.audit(staff_id, "appointment_decline", appointment.case_id)
        self._on_notice()
        return await self._fresh(appointment.id)

    async def propose(self, appointment_id: int, staff_id: int, starts_at: datetime) -> Appointment:
        appointment = await self._staff_get(appointment_id)
        if appointment.status not in ("requested", "proposed", "confirmed"):
            raise AppointmentError(self._staff_tr._("This appointment is no longer open."))
        location = self.location(appointment.location)
        assert location is not None
        ends_at = starts_at + timedelta(minutes=location.slot_minutes)
        moved = replace(
            appointment,
            starts_at=starts_at,
            ends_at=ends_at,
            status="proposed",
            sequence=appointment.sequence + 1,
        )
        await self.repo.move(
            appointment.id,
            starts_at,
            ends_at,
            location.capacity,
            "proposed",
            self._clock.now(),
            self._tell(self._notifier and self._notifier.proposed, moved),
        )
        await self._cases.audit(staff_id, "appointment_propose", appointment.case_id)
        self._on_notice()
        return await self._fresh(appointment.id)

    async def mark(self, appointment_id: int, staff_id: int, outcome: str) -> Appointment:
        """done / no_show, once the appointment has started (counted in the statistics)."""
        if outcome not in ("done", "no_show"):
            raise ValueError(outcome)
        appointment = await self._staff_get(appointment_id)
        if appointment.starts_at > self._clock.now():
            raise AppointmentError(self._staff_tr._("This appointment has not begun yet."))
        if not await self.repo.set_status(
            appointment.id, outcome, self._clock.now(), ("confirmed", "done", "no_show")
        ):
            raise AppointmentError(self._staff_tr._("Only a confirmed appointment can be marked."))
        await self._cases.audit(staff_id, f"appointment_{outcome}", appointment.case_id)
        return await self._fresh(appointment.id)

    async def close_day(self, location_key: str, day: date, staff_id: int) -> list[Appointment]:
        """A closed day (holiday, vacation): no new bookings; returns the ones already there."""
        if location_key != "*" and self.location(location_key) is None:
            raise AppointmentError(self._staff_tr._("Unknown location."))
        await self.repo.add_closed_day(location_key, day, staff_id)
        start = datetime.combine(day, datetime.min.time(), tzinfo=self._tz)
        await self._cases.audit(staff_id, "closed_day", None)
        return await self.repo.holding_on(location_key, start, start + timedelta(days=1))

    async def staff_free_times(self, appointment_id: int, day: date) -> list[datetime]:
        appointment = await self._staff_get(appointment_id)
        location = self.location(appointment.location)
        assert location is not None
        return await self.free_times(location, day)

    async def staff_days(self, appointment_id: int) -> list[date]:
        appointment = await self._staff_get(appointment_id)
        location = self.location(appointment.location)
        assert location is not None
        return await self.bookable_days(location)

    # -- helpers ----------------------------------------------------------------------------
    def when(self, tr: Translator, appointment: Appointment) -> str:
        return "{}, {}–{}".format(
            tr.date(appointment.starts_at, "medium"),
            tr.time(appointment.starts_at),
            tr.time(appointment.ends_at),
        )

    async def own(self, resident: Resident, appointment_id: int) -> Appointment:
        """The appointment, if it is this resident's; nothing tells others' ids apart."""
        appointment = await self.repo.get(appointment_id)
        if appointment is None or appointment.resident_id != resident.user_id:
            raise AppointmentError("not yours")
        return appointment

    async def _staff_get(self, appointment_id: int) -> Appointment:
        appointment = await self.repo.get(appointment_id)
        if appointment is None:
            raise AppointmentError(self._staff_tr._("Unknown appointment."))
        return appointment

    async def _fresh(self, appointment_id: int) -> Appointment:
        appointment = await self.repo.get(appointment_id)
        assert appointment is not None
        return appointment

    @staticmethod
    def _tell(build, appointment: Appointment):
        """The resident's envelopes for this change (none without a notifier)."""
        return build(appointment) if build else []

    async def _notice(self, case_id: int, text: str, buttons=None) -> None:
        await self.repo.add_notice(case_id, text, buttons, self._clock.now())
        self._on_notice()

    def request_buttons(self, appointment: Appointment) -> list[list[dict[str, str]]]:
        tr = self._staff_tr
        return [
            [
                {
                    "text": tr._("✅ Confirm"),
                    "callback_data": callbacks.STAFF_APPOINTMENT("confirm", appointment.id),
                }
            ],
            [
                {
                    "text": tr._("🔁 Propose another time"),
                    "callback_data": callbacks.STAFF_APPOINTMENT("propose", appointment.id),
                }
            ],
            [
                {
                    "text": tr._("✖️ Decline"),
                    "callback_data": callbacks.STAFF_APPOINTMENT("decline", appointment.id),
                }
            ],
        ]

    def done_buttons(self, appointment: Appointment) -> list[list[dict[str, str]]]:
        tr = self._staff_tr
        return [
            [
                {
                    "text": tr._("✔️ Took place"),
                    "callback_data": callbacks.STAFF_APPOINTMENT("done", appointment.id),
                },
                {
                    "text": tr._("🚫 Did not come"),
                    "callback_data": callbacks.STAFF_APPOINTMENT("noshow", appointment.id),
                },
            ]
        ]

    # -- what the staff screens read ------------------------------------------------------------

    async def for_case(self, case_id: int) -> list[Appointment]:
        return await self.repo.for_case(case_id)

    async def counts_by_status(self) -> dict[str, int]:
        return await self.repo.counts_by_status()
