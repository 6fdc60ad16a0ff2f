"""What a resident receives about an appointment, in their language: the confirmation with an
.ics file, a proposal of another time, a decline, and reminders.

Built as envelopes for the one durable path (bot/core/outgoing.py) and queued with the change
that causes them (AppointmentService, Reminders): they arrive through a bad minute at Telegram,
and staff see in the case's topic if one could not be delivered."""

from __future__ import annotations

import logging
from dataclasses import replace
from html import escape

from bot.appointments.calendar_file import appointment_ics
from bot.appointments.repository import Appointment
from bot.core import callbacks
from bot.core.i18n import N_, I18n, Translator
from bot.core.outgoing import Buttons, Content, Document, Envelope, Lane, Text, buttons, to_chat
from bot.org.orgdata import Organisation

logger = logging.getLogger(__name__)

WHAT_TO_BRING = N_(
    "Please bring the letters your question is about and an ID document (Ausweis or "
    "Aufenthaltstitel)."
)


def when(tr: Translator, appointment: Appointment) -> str:
    """ "Tuesday, 1 December 2026, 09:00–09:30" in the resident's language and time zone."""
    return "{}, {}–{}".format(
        tr.date(appointment.starts_at, "full"),
        tr.time(appointment.starts_at),
        tr.time(appointment.ends_at),
    )


def place(tr: Translator, org: Organisation, appointment: Appointment) -> str:
    location = org.location(appointment.location)
    if location is None:
        return tr.isolate(escape(appointment.location))
    text = tr.isolate(escape(location.name))
    if location.address:
        text += ", " + tr.isolate(escape(location.address))
    return text


def resident_buttons(tr: Translator, appointment: Appointment) -> Buttons:
    return buttons(
        [
            [(tr._("🔁 Ask for another time"), callbacks.APPOINTMENT("move", appointment.id))],
            [(tr._("❌ Cancel the appointment"), callbacks.APPOINTMENT("cancel", appointment.id))],
        ]
    )


class AppointmentNotifier:
    def __init__(self, i18n: I18n, org: Organisation) -> None:
        self._i18n = i18n
        self._org = org

    def _tr(self, appointment: Appointment) -> Translator:
        return self._i18n.translator(appointment.language)

    def _envelopes(
        self,
        appointment: Appointment,
        what: str,
        label: str,
        contents: list[Content],
        lane: Lane = Lane.ANSWER,
    ) -> list[Envelope]:
        """One envelope per message, to the resident's chat, in order; none without a chat
        (the resident deleted their data)."""
        if appointment.resident_chat_id is None:
            return []
        return [
            Envelope(
                to_chat(appointment.resident_chat_id),
                content,
                lane,
                key=f"appointment:{appointment.id}:{what}:{appointment.sequence}:{i}",
                case_id=appointment.case_id,
                resident_id=appointment.resident_id,
                label=label,
            )
            for i, content in enumerate(contents)
        ]

    def confirmed(self, appointment: Appointment) -> list[Envelope]:
        tr = self._tr(appointment)
        text = "\n\n".join(
            [
                "<b>✅ {}</b>".format(tr._("Your appointment is confirmed.")),
                f"🗓 {when(tr, appointment)}\n📍 {place(tr, self._org, appointment)}",
                tr._(WHAT_TO_BRING),
                tr._("The calendar file below adds the appointment to your phone's calendar."),
            ]
        )
        return self._envelopes(
            appointment,
            "confirmed",
            N_("the appointment confirmation"),
            [
                Text(text, resident_buttons(tr, appointment)),
                Document(self.ics(appointment), f"termin-{appointment.id}.ics"),
            ],
        )

    def ics(self, appointment: Appointment, cancelled: bool = False) -> bytes:
        tr = self._tr(appointment)
        location = self._org.location(appointment.location)
        name = location.name if location else appointment.location
        address = f"{name}, {location.address}" if location and location.address else name
        return appointment_ics(
            uid=f"appointment-{appointment.id}@thinka-erfurt",
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            timezone=self._i18n.timezone,
            summary=tr._("Appointment: %(place)s") % {"place": name},
            location=address,
            description=tr._(WHAT_TO_BRING),
            created_at=appointment.created_at,
            sequence=appointment.sequence,
            cancelled=cancelled,
        )

    def cancellation_file(self, appointment: Appointment) -> list[Envelope]:
        """For an appointment that was in the resident's calendar: the file that removes it
        (same UID, higher SEQUENCE, STATUS:CANCELLED)."""
        cancelled = replace(appointment, sequence=appointment.sequence + 1)
        return self._envelopes(
            cancelled,
            "cancelled",
            N_("the calendar file that removes the appointment"),
            [
                Document(
                    self.ics(cancelled, cancelled=True),
                    f"termin-{appointment.id}-abgesagt.ics",
                    self._tr(appointment)._(
                        "Open this file to remove the appointment from your calendar."
                    ),
                )
            ],
        )

    def proposed(self, appointment: Appointment) -> list[Envelope]:
        tr = self._tr(appointment)
        text = "{}\n\n🗓 {}\n📍 {}".format(
            tr._("We would like to offer you another time:"),
            when(tr, appointment),
            place(tr, self._org, appointment),
        )
        return self._envelopes(
            appointment,
            "proposed",
            N_("the proposal of another appointment time"),
            [
                Text(
                    text,
                    buttons(
                        [
                            [(tr._("✅ Accept"), callbacks.APPOINTMENT("accept", appointment.id))],
                            [
                                (
                                    tr._("🔁 Choose another time"),
                                    callbacks.APPOINTMENT("other", appointment.id),
                                )
                            ],
                        ]
                    ),
                )
            ],
        )

    def declined(self, appointment: Appointment) -> list[Envelope]:
        tr = self._tr(appointment)
        return self._envelopes(
            appointment,
            "declined",
            N_("the answer that the appointment cannot take place"),
            [
                Text(
                    tr._(
                        "Unfortunately we cannot offer you this appointment (%(when)s). Please "
                        "choose another time or call us."
                    )
                    % {"when": when(tr, appointment)},
                    buttons([[(tr._("📅 Choose another time"), callbacks.APPOINTMENT("start"))]]),
                )
            ],
        )

    def reminder(self, appointment: Appointment, hours: int) -> list[Envelope]:
        tr = self._tr(appointment)
        text = "\n\n".join(
            [
                "<b>⏰ {}</b>".format(
                    tr.ngettext(
                        "Reminder: your appointment is in %(hours)d hour.",
                        "Reminder: your appointment is in %(hours)d hours.",
                        hours,
                    )
                    % {"hours": hours}
                ),
                f"🗓 {when(tr, appointment)}\n📍 {place(tr, self._org, appointment)}",
                tr._(WHAT_TO_BRING),
            ]
        )
        return self._envelopes(
            appointment,
            f"reminder{hours}",
            N_("the appointment reminder"),
            [Text(text, resident_buttons(tr, appointment))],
            Lane.INFO,
        )
