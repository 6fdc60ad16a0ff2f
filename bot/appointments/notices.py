"""What a resident receives about an appointment, in their language: the confirmation with an
.ics file, a proposal of another time, a decline, and reminders."""

from __future__ import annotations

import logging
from dataclasses import replace
from html import escape

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.constants import ParseMode

from bot.appointments.calendar_file import appointment_ics
from bot.appointments.repository import Appointment
from bot.core import callbacks
from bot.core.i18n import N_, I18n, Translator
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


def resident_buttons(tr: Translator, appointment: Appointment) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    tr._("🔁 Ask for another time"),
                    callback_data=callbacks.APPOINTMENT("move", appointment.id),
                )
            ],
            [
                InlineKeyboardButton(
                    tr._("❌ Cancel the appointment"),
                    callback_data=callbacks.APPOINTMENT("cancel", appointment.id),
                )
            ],
        ]
    )


class AppointmentNotifier:
    def __init__(self, bot: Bot, i18n: I18n, org: Organisation) -> None:
        self._bot = bot
        self._i18n = i18n
        self._org = org

    def _tr(self, appointment: Appointment) -> Translator:
        return self._i18n.translator(appointment.language)

    async def confirmed(self, appointment: Appointment) -> None:
        tr = self._tr(appointment)
        if appointment.resident_chat_id is None:
            return
        text = "\n\n".join(
            [
                "<b>✅ {}</b>".format(tr._("Your appointment is confirmed.")),
                f"🗓 {when(tr, appointment)}\n📍 {place(tr, self._org, appointment)}",
                tr._(WHAT_TO_BRING),
                tr._("The calendar file below adds the appointment to your phone's calendar."),
            ]
        )
        await self._bot.send_message(
            appointment.resident_chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(tr, appointment),
        )
        await self._bot.send_document(
            appointment.resident_chat_id,
            InputFile(self.ics(appointment), filename=f"termin-{appointment.id}.ics"),
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

    async def cancellation_file(self, appointment: Appointment) -> None:
        """For an appointment that was in the resident's calendar: the file that removes it
        (same UID, higher SEQUENCE, STATUS:CANCELLED)."""
        if appointment.resident_chat_id is None:
            return
        cancelled = replace(appointment, sequence=appointment.sequence + 1)
        await self._bot.send_document(
            appointment.resident_chat_id,
            InputFile(
                self.ics(cancelled, cancelled=True),
                filename=f"termin-{appointment.id}-abgesagt.ics",
            ),
            caption=self._tr(appointment)._(
                "Open this file to remove the appointment from your calendar."
            ),
        )

    async def proposed(self, appointment: Appointment) -> None:
        tr = self._tr(appointment)
        if appointment.resident_chat_id is None:
            return
        text = "{}\n\n🗓 {}\n📍 {}".format(
            tr._("We would like to offer you another time:"),
            when(tr, appointment),
            place(tr, self._org, appointment),
        )
        await self._bot.send_message(
            appointment.resident_chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr._("✅ Accept"),
                            callback_data=callbacks.APPOINTMENT("accept", appointment.id),
                        )
                    ],
                    [
                        InlineKeyboardButton(
                            tr._("🔁 Choose another time"),
                            callback_data=callbacks.APPOINTMENT("other", appointment.id),
                        )
                    ],
                ]
            ),
        )

    async def declined(self, appointment: Appointment) -> None:
        tr = self._tr(appointment)
        if appointment.resident_chat_id is None:
            return
        await self._bot.send_message(
            appointment.resident_chat_id,
            tr._(
                "Unfortunately we cannot offer you this appointment (%(when)s). Please choose "
                "another time or call us."
            )
            % {"when": when(tr, appointment)},
            parse_mode=ParseMode.HTML,
            reply_markup=InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton(
                            tr._("📅 Choose another time"),
                            callback_data=callbacks.APPOINTMENT("start"),
                        )
                    ],
                ]
            ),
        )

    async def reminder(self, appointment: Appointment, hours: int) -> None:
        tr = self._tr(appointment)
        if appointment.resident_chat_id is None:
            return
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
        await self._bot.send_message(
            appointment.resident_chat_id,
            text,
            parse_mode=ParseMode.HTML,
            reply_markup=resident_buttons(tr, appointment),
        )
