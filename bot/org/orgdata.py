"""The organisation's own data (locations, office hours, contacts, emergency numbers) from TOML.

A string that starts with "TODO" marks a value the office still has to fill in. It is loaded as
None, so no placeholder ever reaches a resident, and its path is listed in `placeholders` for the
start-up log.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any

from bot.core.config import ConfigError
from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGES
from bot.org.emergency import EMERGENCY_LABELS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DISTRICTS = ("Berliner Platz", "Rieth")


@dataclass(frozen=True)
class OpeningPeriod:
    weekday: int  # Monday = 0, as datetime.weekday()
    opens: time
    closes: time


@dataclass(frozen=True)
class Location:
    key: str
    name: str
    district: str
    address: str | None
    phone: str | None
    email: str | None
    hours: tuple[OpeningPeriod, ...]
    slot_minutes: int = 30
    capacity: int = 1  # appointments at the same time (staff on duty)
    closed_days: frozenset[date] = frozenset()


@dataclass(frozen=True)
class AppointmentSettings:
    reminder_hours: tuple[int, ...] = (24, 2)
    booking_days: int = 14
    # A reminder whose time passed while the bot was down is still sent this long afterwards.
    grace_minutes: int = 120
    staff_digest_time: time = time(7, 30)


@dataclass(frozen=True)
class EmergencyNumber:
    key: str
    number: str


@dataclass(frozen=True)
class Template:
    """A canned reply: staff send it with /t KEY, the resident gets their language."""

    key: str
    title: str  # German, on the staff's template button
    texts: dict[str, str]

    def text(self, language: str) -> str:
        return self.texts.get(language) or self.texts[DEFAULT_LANGUAGE]


@dataclass(frozen=True)
class Organisation:
    name: str
    operator: str
    on_behalf_of: str | None
    phone: str | None
    email: str | None
    website: str | None
    privacy_contact: str | None
    locations: tuple[Location, ...]
    emergency_numbers: tuple[EmergencyNumber, ...]
    placeholders: tuple[str, ...]
    templates: tuple[Template, ...] = ()
    appointments: AppointmentSettings = AppointmentSettings()

    def location(self, key: str) -> Location | None:
        return next((loc for loc in self.locations if loc.key == key), None)

    def template(self, key: str) -> Template | None:
        return next((t for t in self.templates if t.key == key.lower()), None)

    def location_for(self, district: str | None) -> Location | None:
        return next((loc for loc in self.locations if loc.district == district), None)


def load_organisation(path: Path) -> Organisation:
    try:
        with path.open("rb") as fp:
            data = tomllib.load(fp)
    except OSError as exc:
        raise ConfigError(f"organisation file {path} cannot be read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"organisation file {path} is not valid TOML: {exc}") from None
    return _Parser(path).organisation(data)


class _Parser:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.placeholders: list[str] = []

    def fail(self, where: str, problem: str) -> ConfigError:
        return ConfigError(f"organisation file {self.path}: {where}: {problem}")

    def text(
        self, table: dict[str, Any], key: str, where: str, required: bool = True
    ) -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                raise self.fail(where, f"'{key}' is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"'{key}' must be a non-empty text")
        if value.strip().upper().startswith("TODO"):
            self.placeholders.append(f"{where}.{key}")
            return None
        return value.strip()

    def organisation(self, data: dict[str, Any]) -> Organisation:
        org = data.get("organisation")
        if not isinstance(org, dict):
            raise self.fail("[organisation]", "the table is missing")
        name = self.text(org, "name", "organisation")
        operator = self.text(org, "operator", "organisation")
        if name is None or operator is None:
            raise self.fail("organisation", "name and operator cannot be placeholders")
        locations = tuple(
            self.location(item, f"locations[{i}]")
            for i, item in enumerate(self.array(data, "locations"))
        )
        keys = [loc.key for loc in locations]
        if len(set(keys)) != len(keys):
            raise self.fail("locations", "two locations share a key")
        emergency = tuple(
            self.emergency(item, f"emergency[{i}]")
            for i, item in enumerate(self.array(data, "emergency"))
        )
        templates = tuple(
            self.template(item, f"templates[{i}]")
            for i, item in enumerate(data.get("templates", []))
        )
        template_keys = [t.key for t in templates]
        if len(set(template_keys)) != len(template_keys):
            raise self.fail("templates", "two templates share a key")
        return Organisation(
            appointments=self.appointment_settings(data.get("appointments", {})),
            templates=templates,
            name=name,
            operator=operator,
            on_behalf_of=self.text(org, "on_behalf_of", "organisation", required=False),
            phone=self.text(org, "phone", "organisation", required=False),
            email=self.text(org, "email", "organisation", required=False),
            website=self.text(org, "website", "organisation", required=False),
            privacy_contact=self.text(org, "privacy_contact", "organisation", required=False),
            locations=locations,
            emergency_numbers=emergency,
            placeholders=tuple(self.placeholders),
        )

    def array(self, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        items = data.get(key)
        if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
            raise self.fail(f"[[{key}]]", "at least one entry is needed")
        return items

    def location(self, item: dict[str, Any], where: str) -> Location:
        key = self.text(item, "key", where)
        if key is None or not re.fullmatch(r"[a-z0-9_]+", key):
            raise self.fail(where, "'key' must use a-z, 0-9 and _")
        district = self.text(item, "district", where)
        if district not in DISTRICTS:
            raise self.fail(where, f"'district' must be one of {', '.join(DISTRICTS)}")
        name = self.text(item, "name", where)
        if name is None:
            raise self.fail(where, "'name' cannot be a placeholder")
        hours = item.get("hours", [])
        if not isinstance(hours, list):
            raise self.fail(where, "'hours' must be a list")
        slot_minutes = item.get("slot_minutes", 30)
        if not isinstance(slot_minutes, int) or not 5 <= slot_minutes <= 240:
            raise self.fail(where, "'slot_minutes' must be a whole number from 5 to 240")
        capacity = item.get("capacity", 1)
        if not isinstance(capacity, int) or not 1 <= capacity <= 20:
            raise self.fail(where, "'capacity' must be a whole number from 1 to 20")
        closed = item.get("closed_days", [])
        if not isinstance(closed, list) or not all(isinstance(d, date) for d in closed):
            raise self.fail(where, "'closed_days' must be a list of dates like 2026-12-24")
        return Location(
            slot_minutes=slot_minutes,
            capacity=capacity,
            closed_days=frozenset(closed),
            key=key,
            name=name,
            district=district,
            address=self.text(item, "address", where, required=False),
            phone=self.text(item, "phone", where, required=False),
            email=self.text(item, "email", where, required=False),
            hours=tuple(self.period(p, f"{where}.hours[{i}]") for i, p in enumerate(hours)),
        )

    def period(self, item: Any, where: str) -> OpeningPeriod:
        if not isinstance(item, dict):
            raise self.fail(where, "must be { weekday = ..., opens = ..., closes = ... }")
        weekday = item.get("weekday")
        if weekday not in WEEKDAYS:
            raise self.fail(where, f"'weekday' must be one of {', '.join(WEEKDAYS)}")
        opens, closes = self.clock(item, "opens", where), self.clock(item, "closes", where)
        if opens >= closes:
            raise self.fail(where, "'opens' must be before 'closes'")
        return OpeningPeriod(WEEKDAYS.index(weekday), opens, closes)

    def clock(self, item: dict[str, Any], key: str, where: str) -> time:
        value = item.get(key)
        if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
            return time.fromisoformat(value)
        raise self.fail(where, f"'{key}' must be a time like 09:00")

    def emergency(self, item: dict[str, Any], where: str) -> EmergencyNumber:
        key = self.text(item, "key", where)
        if key not in EMERGENCY_LABELS:
            raise self.fail(where, f"unknown key {key!r}: known are {', '.join(EMERGENCY_LABELS)}")
        number = self.text(item, "number", where)
        if number is None:
            raise self.fail(where, "an emergency number cannot be a placeholder")
        return EmergencyNumber(key, number)

    def template(self, item: Any, where: str) -> Template:
        if not isinstance(item, dict):
            raise self.fail(where, "must be a table with key, title and one text per language")
        key = self.text(item, "key", where)
        if key is None or not re.fullmatch(r"[a-z0-9_]{2,32}", key):
            raise self.fail(where, "'key' must be 2-32 characters of a-z, 0-9 and _")
        title = self.text(item, "title", where)
        texts = {}
        for language in LANGUAGES:
            text = self.text(item, language, where)
            if text is None or title is None:
                raise self.fail(where, f"'{language}' and 'title' cannot be placeholders")
            if len(text) > 4000:
                raise self.fail(where, f"'{language}' is longer than a Telegram message")
            texts[language] = text
        return Template(key=key, title=title or key, texts=texts)

    def appointment_settings(self, table: Any) -> AppointmentSettings:
        where = "[appointments]"
        if not isinstance(table, dict):
            raise self.fail(where, "must be a table")
        hours = table.get("reminder_hours", [24, 2])
        if not isinstance(hours, list) or not all(
            isinstance(h, int) and 0 < h <= 168 for h in hours
        ):
            raise self.fail(where, "'reminder_hours' must be a list of hours, e.g. [24, 2]")
        days = table.get("booking_days", 14)
        grace = table.get("grace_minutes", 120)
        if not isinstance(days, int) or not 1 <= days <= 60:
            raise self.fail(where, "'booking_days' must be from 1 to 60")
        if not isinstance(grace, int) or not 0 <= grace <= 24 * 60:
            raise self.fail(where, "'grace_minutes' must be from 0 to 1440")
        digest = table.get("staff_digest_time", "07:30")
        return AppointmentSettings(
            reminder_hours=tuple(sorted(set(hours), reverse=True)),
            booking_days=days,
            grace_minutes=grace,
            staff_digest_time=self.clock({"t": digest}, "t", where),
        )
