"""Events and announcements: subscriptions, "I'm coming", publishing (now or scheduled), edits,
cancellations, reminders for those coming, and plain notices. Sending is the courier's job
(bot/transport/courier.py): this service writes a broadcast and one queued message per recipient
in one transaction and wakes it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from html import escape
from typing import Any

from bot.core.clock import Clock
from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, I18n
from bot.events.repository import Audience, Event, EventRepository, EventText
from bot.org.orgdata import DISTRICTS

logger = logging.getLogger(__name__)

REMIND_BEFORE = timedelta(hours=24)
# The line above an announcement that is not the first one, per broadcast kind.
LEADS = {
    "update": ("✏️", N_("Changed: please note the new details.")),
    "cancel": ("❌", N_("Cancelled: this event will not take place.")),
    "reminder": ("⏰", N_("Reminder: you said you are coming.")),
}


class EventError(Exception):
    """The action does not fit the event (gone, cancelled, in the past)."""


class EventService:
    def __init__(
        self,
        repository: EventRepository,
        clock: Clock,
        i18n: I18n,
        on_broadcast: Callable[[], None] = lambda: None,
    ) -> None:
        self.repo = repository
        self._clock = clock
        self._i18n = i18n
        self._on_broadcast = on_broadcast

    # -- residents --------------------------------------------------------------------------
    async def subscriptions(self, resident_id: int) -> set[str]:
        return await self.repo.subscriptions(resident_id)

    async def subscribe(self, resident_id: int, districts: set[str]) -> set[str]:
        unknown = districts - set(DISTRICTS)
        if unknown:
            raise EventError(f"unknown district {sorted(unknown)}")
        await self.repo.set_subscriptions(resident_id, districts, self._clock.now())
        return districts

    async def toggle(self, resident_id: int, district: str) -> set[str]:
        current = await self.repo.subscriptions(resident_id)
        return await self.subscribe(resident_id, current ^ {district})

    async def needs_opt_in_question(self, resident_id: int) -> bool:
        return not await self.repo.was_asked(resident_id)

    async def upcoming_for(self, resident_id: int) -> list[Event]:
        """Events of the resident's districts (all, if they follow none yet)."""
        districts = await self.repo.subscriptions(resident_id) or set(DISTRICTS)
        return [
            e for e in await self.repo.upcoming(self._clock.now()) if districts & set(e.districts)
        ]

    async def rsvp(self, event_id: int, resident_id: int) -> bool:
        event = await self.repo.get(event_id)
        if event is None or event.status != "published" or event.starts_at <= self._clock.now():
            raise EventError("not open")
        return await self.repo.rsvp(event_id, resident_id, self._clock.now())

    # -- rendering --------------------------------------------------------------------------
    def render(self, event: Event, language: str, lead: str | None = None) -> str:
        """The announcement in one language; German plus a note where no translation exists."""
        tr = self._i18n.translator(language)
        text = event.texts.get(language)
        note = None
        if text is None:
            text = event.texts[DEFAULT_LANGUAGE]
            if language != DEFAULT_LANGUAGE:
                note = tr._("This announcement is only available in German.")
        lines = []
        if lead:
            lines.append(lead)
        lines += [
            f"📣 <b>{escape(text.title)}</b>",
            f"🗓 {tr.date(event.starts_at, 'full')}, {tr.time(event.starts_at)}",
            f"📍 {tr.isolate(escape(event.place))} ({tr.isolate(' · '.join(event.districts))})",
        ]
        if note:
            lines.append(f"<i>{note}</i>")
        lines += ["", escape(text.body)]
        return "\n".join(lines)

    async def _announce(
        self, event: Event, kind: str, audience: Audience, staff_id: int | None
    ) -> tuple[int, int]:
        """The announcement (or its change, cancellation, reminder) in every language into the
        queue for `audience`, then wake the courier; returns (broadcast, recipients), or (0, 0)
        for a reminder claimed before."""
        lead = LEADS.get(kind)
        texts = {}
        for language in LANGUAGES:
            tr = self._i18n.translator(language)
            texts[language] = self.render(
                event, language, f"{lead[0]} <b>{tr._(lead[1])}</b>" if lead else None
            )
        result = await self.repo.create_broadcast(
            kind=kind,
            event_id=event.id,
            started_by=staff_id,
            texts=texts,
            audience=audience,
            now=self._clock.now(),
            reminder=kind == "reminder",
        )
        if result is None:
            return 0, 0
        self._on_broadcast()
        return result

    # -- staff ------------------------------------------------------------------------------
    async def create(
        self,
        *,
        starts_at: datetime,
        place: str,
        districts: tuple[str, ...],
        photo_file_id: str | None,
        texts: dict[str, EventText],
        staff_id: int,
    ) -> Event:
        if DEFAULT_LANGUAGE not in texts:
            raise EventError("the German text is required")
        if not districts or set(districts) - set(DISTRICTS):
            raise EventError("districts")
        if starts_at <= self._clock.now():
            raise EventError("the event is in the past")
        event_id = await self.repo.create(
            starts_at=starts_at,
            place=place,
            districts=districts,
            photo_file_id=photo_file_id,
            texts=texts,
            staff_id=staff_id,
            now=self._clock.now(),
        )
        event = await self.repo.get(event_id)
        assert event is not None
        return event

    async def publish(self, event_id: int, staff_id: int | None) -> tuple[int, int]:
        """Announce to the subscribers of its districts now; returns (broadcast, recipients)."""
        event = await self._event(event_id)
        if not await self.repo.set_status(
            event.id, "published", self._clock.now(), from_statuses=("draft", "scheduled")
        ):
            raise EventError("already published or cancelled")
        result = await self._announce(
            event, "event", Audience("districts", districts=event.districts), staff_id
        )
        logger.info("event %s published to %d recipients", event.id, result[1])
        return result

    async def schedule(self, event_id: int, publish_at: datetime) -> Event:
        event = await self._event(event_id)
        if publish_at <= self._clock.now():
            raise EventError("the publishing time is in the past")
        if not await self.repo.set_status(
            event.id,
            "scheduled",
            self._clock.now(),
            publish_at,
            from_statuses=("draft", "scheduled"),
        ):
            raise EventError("already published or cancelled")
        return await self._event(event_id)

    async def change(
        self,
        event_id: int,
        staff_id: int,
        *,
        starts_at: datetime | None = None,
        place: str | None = None,
    ) -> tuple[int, int] | None:
        """Change time or place; those who got the announcement are told."""
        event = await self._event(event_id)
        if event.status == "cancelled":
            raise EventError("cancelled")
        if starts_at is not None and starts_at <= self._clock.now():
            raise EventError("the event is in the past")
        await self.repo.update(event.id, self._clock.now(), starts_at=starts_at, place=place)
        if event.status != "published":
            return None
        changed = await self._event(event_id)
        result = await self._announce(
            changed, "update", Audience("reached", event_id=event.id), staff_id
        )
        return result

    async def cancel(self, event_id: int, staff_id: int) -> tuple[int, int] | None:
        event = await self._event(event_id)
        if not await self.repo.set_status(
            event.id,
            "cancelled",
            self._clock.now(),
            from_statuses=("draft", "scheduled", "published"),
        ):
            raise EventError("already cancelled")
        if event.status != "published":
            return None
        result = await self._announce(
            event, "cancel", Audience("reached", event_id=event.id), staff_id
        )
        return result

    async def add_translation(self, event_id: int, language: str, text: EventText) -> None:
        if language not in LANGUAGES:
            raise EventError("language")
        await self._event(event_id)
        await self.repo.set_text(event_id, language, text)

    async def notice(
        self, texts: dict[str, str], districts: tuple[str, ...], staff_id: int
    ) -> tuple[int, int]:
        """A plain announcement (e.g. "office closed today"), the same way."""
        if DEFAULT_LANGUAGE not in texts or not districts:
            raise EventError("the German text and a district are required")
        tr_note = {
            lang: self._i18n.translator(lang)._("This announcement is only available in German.")
            for lang in LANGUAGES
        }
        rendered = {
            lang: f"📢 {escape(texts[lang])}"
            if lang in texts
            else f"📢 <i>{tr_note[lang]}</i>\n{escape(texts[DEFAULT_LANGUAGE])}"
            for lang in LANGUAGES
        }
        result = await self.repo.create_broadcast(
            kind="notice",
            event_id=None,
            started_by=staff_id,
            texts=rendered,
            audience=Audience("districts", districts=districts),
            now=self._clock.now(),
        )
        assert result is not None  # only a reminder can have been claimed before
        self._on_broadcast()
        return result

    async def run_due(self) -> None:
        """Scheduled publishing and the reminder for those coming, from the database."""
        now = self._clock.now()
        for event_id in await self.repo.due_for_publishing(now):
            try:
                await self.publish(event_id, None)
            except EventError:
                logger.info("scheduled event %s was not published", event_id)
        for event_id in await self.repo.due_for_reminder(now + REMIND_BEFORE, now):
            event = await self._event(event_id)  # claimed with its queueing, below
            await self._announce(event, "reminder", Audience("coming", event_id=event.id), None)

    async def _event(self, event_id: int) -> Event:
        event = await self.repo.get(event_id)
        if event is None:
            raise EventError("unknown event")
        return event

    # -- what the staff screens read and keep between steps -------------------------------------

    async def draft(self, staff_id: int) -> tuple[str, str, dict[str, Any]] | None:
        """The event or notice this staff member is writing: (kind, step, data)."""
        return await self.repo.draft(staff_id)

    async def save_draft(self, staff_id: int, kind: str, step: str, data: dict[str, Any]) -> None:
        await self.repo.save_draft(staff_id, kind, step, data, self._clock.now())

    async def drop_draft(self, staff_id: int) -> None:
        await self.repo.drop_draft(staff_id)

    async def upcoming(
        self, statuses: tuple[str, ...] = ("published",), limit: int = 20
    ) -> list[Event]:
        return await self.repo.upcoming(self._clock.now(), statuses, limit)

    async def rsvp_count(self, event_id: int) -> int:
        return await self.repo.rsvp_count(event_id)

    async def set_progress_message(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        """The staff message that shows a broadcast's progress, edited as it goes."""
        await self.repo.set_progress_message(broadcast_id, chat_id, message_id)

    async def counts(self) -> dict[str, int]:
        return await self.repo.counts()
