"""Cases: what residents ask and what staff do with it. Every message is stored before it is
relayed, and what it makes the bot send is queued with it (bot/cases/envelopes.py); sending is the
courier's job (bot/transport/courier.py), woken through `on_change`."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.cases import envelopes
from bot.cases.repository import OPEN_STATUSES, TOPICS, Case, CaseRepository
from bot.core.clock import Clock
from bot.core.i18n import Translator
from bot.core.logs import person
from bot.core.outgoing import Report
from bot.org.orgdata import DISTRICTS
from bot.residents.repository import Resident

logger = logging.getLogger(__name__)

REPLY_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class Incoming:
    """A message as stored: what it is and where Telegram keeps the original."""

    kind: str
    text: str | None
    file_id: str | None
    media_group_id: str | None
    chat_id: int
    message_id: int


class Step(enum.Enum):
    ASK_TOPIC = "ask_topic"
    ASK_DISTRICT = "ask_district"
    ASK_TEXT = "ask_text"
    SUBMITTED = "submitted"  # confirm once, with the case number
    ADDED = "added"  # a further message to a case staff already see
    QUIET = "quiet"  # e.g. the 2nd photo of an album while we wait for the topic
    SUGGEST = "suggest"  # self-help answers match what they wrote: offer those first
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class Result:
    step: Step
    case: Case


class CaseError(Exception):
    """A staff action that does not fit the case (unknown, closed …); message is for staff."""


class NoConsent(Exception):
    """Somebody who has not agreed to the privacy notice: nothing of theirs is stored in a case.
    The consent gate keeps them away; this is the second lock behind it."""


def _agreed(resident: Resident) -> Resident:
    if not resident.consented:
        raise NoConsent("no request is stored for somebody who has not agreed")
    return resident


class CaseService:
    def __init__(
        self,
        repository: CaseRepository,
        clock: Clock,
        *,
        staff_chat_enabled: bool,
        staff_tr: Translator,
        on_change: Callable[[int], None] = lambda case_id: None,
        suggest: Callable[[Case, str], list[str]] | None = None,
        on_queue: Callable[[], None] = lambda: None,
        asked: Callable[[Case], Awaitable[None]] | None = None,
    ) -> None:
        self.repo = repository
        # Counts that the answers offered were not enough (the request went to staff after
        # all): in the transaction of the submission, so it costs no commit of its own.
        self._asked = asked
        # (draft, what the resident wrote) -> ids of self-help answers to offer before the
        # request goes to staff; [] sends it at once.
        self._suggest = suggest
        self._clock = clock
        self._relay_to_staff_chat = staff_chat_enabled
        self._on_change = on_change  # staff see the case change (topic, card; wakes sending)
        self._on_queue = on_queue  # something was queued for the resident only
        self._tr = staff_tr  # messages for staff (the staff group speaks German)

    # -- residents --------------------------------------------------------------------------
    async def start_request(self, resident: Resident, first_name: str | None) -> Case:
        """Ask a question / new question: a fresh draft, which becomes the resident's current case
        (the latest one not closed); an untouched draft is reused."""
        _agreed(resident)
        current = await self.repo.current_for(resident.user_id)
        if current is not None and current.status == "draft":
            if not await self.repo.messages(current.id, limit=1):
                return current
        return await self._new_draft(resident, first_name)

    async def choose_topic(self, resident: Resident, topic: str, first_name: str | None) -> Result:
        _agreed(resident)
        if topic not in TOPICS:
            raise ValueError(topic)
        async with self.repo.unit():
            case = await self._draft(resident, first_name)
            await self.repo.set_topic(case.id, topic)
            return await self._advance(case.id, resident)

    async def choose_district(
        self, resident: Resident, district: str, first_name: str | None
    ) -> Result:
        _agreed(resident)
        if district not in DISTRICTS:
            raise ValueError(district)
        async with self.repo.unit():
            await self.repo.set_resident_district(resident.user_id, district)
            case = await self._draft(resident, first_name)
            await self.repo.set_district(case.id, district)
            return await self._advance(case.id, resident)

    async def receive(
        self, resident: Resident, message: Incoming, first_name: str | None
    ) -> Result:
        """A resident's message: stored in their current case (or a new draft) before anything."""
        _agreed(resident)
        async with self.repo.unit():
            case = await self.repo.current_for(resident.user_id)
            if case is None:
                case = await self._new_draft(resident, first_name)
            previous = await self.repo.messages(case.id, limit=1)
            relay_status = self._relay_status(case)
            stored = await self.repo.add_message(
                case.id,
                direction="in",
                sender_id=resident.user_id,
                kind=message.kind,
                text=message.text,
                file_id=message.file_id,
                media_group_id=message.media_group_id,
                source_chat_id=message.chat_id,
                source_message_id=message.message_id,
                relay_status=relay_status,
                now=self._clock.now(),
                outgoing=(
                    (
                        lambda message_id: [
                            envelopes.copy_to_topic(
                                message_id, case.id, resident.user_id, case.urgent
                            )
                        ]
                    )
                    if relay_status == "pending"
                    else None
                ),
            )
            if stored is None:
                return Result(Step.DUPLICATE, case)
            if case.status == "draft":
                result = await self._advance(case.id, resident)
                same_album = bool(
                    message.media_group_id
                    and previous
                    and previous[-1].media_group_id == message.media_group_id
                )
                if result.step in (Step.ASK_TOPIC, Step.ASK_DISTRICT) and same_album:
                    return Result(Step.QUIET, result.case)
                return result
            if case.status == "waiting":
                # The resident answered: the case is theirs to act on again.
                await self.repo.set_status(
                    case.id,
                    "open" if case.assignee_id else "new",
                    self._clock.now(),
                    from_statuses=("waiting",),
                )
            self._on_change(case.id)
            return Result(Step.ADDED, case)

    async def language_changed(self, resident_id: int, language: str) -> list[int]:
        return await self.repo.set_language(resident_id, language)

    async def resume(self, resident: Resident) -> Result | None:
        """After a language switch: the step a waiting draft is at, or None without one."""
        case = await self.repo.current_for(resident.user_id)
        if case is None or case.status != "draft":
            return None
        return await self._advance(case.id, resident)

    async def submit_draft(self, resident: Resident) -> Result | None:
        """ "I still want to ask": the waiting draft goes on without offering answers again."""
        async with self.repo.unit():
            case = await self.repo.current_for(resident.user_id)
            if case is None or case.status != "draft":
                return None
            return await self._advance(case.id, resident, suggest=False)

    async def current_open_case(self, resident: Resident) -> Case | None:
        case = await self.repo.current_for(resident.user_id)
        return case if case is not None and case.is_open else None

    async def open_case(
        self, resident: Resident, topic: str, district: str | None, first_name: str | None
    ) -> Case:
        """A submitted case without a message yet (e.g. for an appointment request)."""
        _agreed(resident)
        case = await self.repo.create_draft(
            resident.user_id,
            resident.language,
            first_name,
            self._clock.now(),
            topic=topic,
            district=district,
        )
        await self.repo.submit(
            case.id, self._clock.now(), relay=self._relay_to_staff_chat, confirm=False
        )
        self._on_change(case.id)
        fresh = await self.repo.get(case.id)
        assert fresh is not None
        return fresh

    async def mark_urgent(self, case_id: int) -> None:
        """Shown first in /queue and with 🆘 in the staff group."""
        if await self.repo.mark_urgent(case_id):
            self._on_change(case_id)

    async def cases_of(self, resident: Resident) -> list[Case]:
        return await self.repo.for_resident(resident.user_id)

    async def _draft(self, resident: Resident, first_name: str | None) -> Case:
        case = await self.repo.current_for(resident.user_id)
        if case is None or case.status != "draft":
            case = await self._new_draft(resident, first_name)
        return case

    async def _new_draft(self, resident: Resident, first_name: str | None) -> Case:
        """A fresh draft in the resident's language, in the district they chose last."""
        return await self.repo.create_draft(
            resident.user_id,
            resident.language,
            first_name,
            self._clock.now(),
            district=resident.district,
        )

    async def _advance(self, case_id: int, resident: Resident, *, suggest: bool = True) -> Result:
        """Ask what is missing; offer self-help answers once; submit once topic, district and a
        message are there."""
        case = await self.repo.get(case_id)
        assert case is not None
        if case.urgent and case.topic is None:
            # Somebody in danger is not asked what their question is about first.
            await self.repo.set_topic(case.id, "other")
            case = await self.repo.get(case_id)
            assert case is not None
        if case.topic is None:
            return Result(Step.ASK_TOPIC, case)
        if case.district is None and not case.urgent:
            return Result(Step.ASK_DISTRICT, case)
        if not await self.repo.messages(case.id, limit=1):
            return Result(Step.ASK_TEXT, case)
        if case.status != "draft":
            return Result(Step.ADDED, case)
        if suggest and self._suggest is not None and not case.urgent and not case.suggested:
            # Somebody in danger goes straight to staff; everybody else is offered matching
            # answers once (a second message while they are offered sends the request).
            messages = await self.repo.messages(case.id)
            words = " ".join(m.text for m in messages if m.text)
            answer_ids = self._suggest(case, words) if words else []
            if answer_ids:
                # The offer is queued with the answers it offers: it reaches the resident even
                # through a bad minute at Telegram, so the draft is never stuck unseen.
                await self.repo.set_suggested(case.id, answer_ids, self._clock.now())
                self._on_queue()
                case = await self.repo.get(case_id)
                assert case is not None
                return Result(Step.SUGGEST, case)
        # The confirmation ("your request #4 arrived") is queued with the submission.
        submitted = await self.repo.submit(
            case.id, self._clock.now(), relay=self._relay_to_staff_chat
        )
        case = await self.repo.get(case_id)
        assert case is not None
        if submitted:
            if case.suggested and self._asked is not None:
                await self._asked(case)
            logger.info("case %s submitted by %s", case.id, person(resident.user_id))
            self._on_change(case.id)
            return Result(Step.SUBMITTED, case)
        return Result(Step.ADDED, case)

    def _relay_status(self, case: Case) -> str:
        if case.status == "draft" or not self._relay_to_staff_chat:
            return "none"
        return "pending"

    # -- staff ------------------------------------------------------------------------------
    async def case_for_staff(self, case_id: int) -> Case:
        case = await self.repo.get(case_id)
        if case is None or case.status == "draft":
            raise CaseError(self._tr._("Case %(case)s does not exist.") % {"case": f"#{case_id}"})
        return case

    async def take(self, case_id: int, staff_id: int) -> Case:
        case = await self.case_for_staff(case_id)
        if not await self.repo.assign(case.id, staff_id):
            raise CaseError(
                self._tr._("Case %(case)s is closed: /reopen it first.") % {"case": f"#{case_id}"}
            )
        await self.repo.audit(staff_id, "take", case.id, self._clock.now())
        return await self.case_for_staff(case_id)

    async def close(self, case_id: int, staff_id: int) -> Case:
        case = await self.case_for_staff(case_id)
        if not await self.repo.set_status(
            case.id, "closed", self._clock.now(), from_statuses=OPEN_STATUSES, tell_resident=True
        ):
            raise CaseError(
                self._tr._("Case %(case)s is closed already.") % {"case": f"#{case_id}"}
            )
        await self.repo.audit(staff_id, "close", case.id, self._clock.now())
        self._on_change(case.id)  # the resident's notice is queued
        return await self.case_for_staff(case_id)

    async def reopen(self, case_id: int, staff_id: int) -> Case:
        case = await self.case_for_staff(case_id)
        if case.resident_id is None:
            raise CaseError(
                self._tr._("Case %(case)s: the resident has deleted their data.")
                % {"case": f"#{case_id}"}
            )
        status = "open" if case.assignee_id else "new"
        if not await self.repo.set_status(
            case.id, status, self._clock.now(), from_statuses=("closed",)
        ):
            raise CaseError(self._tr._("Case %(case)s is not closed.") % {"case": f"#{case_id}"})
        await self.repo.audit(staff_id, "reopen", case.id, self._clock.now())
        return await self.case_for_staff(case_id)

    async def note(self, case_id: int, staff_id: int, message: Incoming) -> None:
        case = await self.case_for_staff(case_id)
        await self.repo.add_message(
            case.id,
            direction="note",
            sender_id=staff_id,
            kind=message.kind,
            text=message.text,
            file_id=message.file_id,
            media_group_id=None,
            source_chat_id=message.chat_id,
            source_message_id=message.message_id,
            relay_status="none",
            now=self._clock.now(),
        )
        await self.repo.audit(staff_id, "note", case.id, self._clock.now())

    async def reply(
        self, case_id: int, staff_id: int, message: Incoming, template_key: str | None = None
    ) -> Case:
        """A staff answer for the resident: stored, then relayed by the Relay."""
        case = await self.case_for_staff(case_id)
        if case.status == "closed":
            raise CaseError(
                self._tr._("Case %(case)s is closed: /reopen it, then answer.")
                % {"case": f"#{case_id}"}
            )
        resident_id, resident_chat_id = case.resident_id, case.resident_chat_id
        if resident_id is None or resident_chat_id is None:
            raise CaseError(
                self._tr._("Case %(case)s: the resident has deleted their data.")
                % {"case": f"#{case_id}"}
            )
        stored = await self.repo.add_message(
            case.id,
            direction="out",
            sender_id=staff_id,
            kind=message.kind,
            text=message.text,
            file_id=message.file_id,
            media_group_id=message.media_group_id,
            source_chat_id=message.chat_id,
            source_message_id=message.message_id,
            relay_status="pending",
            now=self._clock.now(),
            template_key=template_key,
            outgoing=lambda message_id: [
                envelopes.answer_to_resident(
                    message_id,
                    case.id,
                    resident_id,
                    resident_chat_id,
                    # A failure is told where the staff member wrote, under their message.
                    Report(
                        message.chat_id,
                        case.thread_id if message.chat_id < 0 else None,
                        message.message_id,
                    ),
                )
            ],
        )
        if stored is None:
            return case  # the same staff message again: relayed once already
        if case.assignee_id is None:
            await self.repo.assign(case.id, staff_id)
        await self.repo.set_status(
            case.id, "waiting", self._clock.now(), from_statuses=("new", "open")
        )
        await self.repo.audit(
            staff_id, "template" if template_key else "reply", case.id, self._clock.now()
        )
        self._on_change(case.id)
        return await self.case_for_staff(case_id)

    async def choose_reply_target(self, staff_id: int, case_id: int) -> Case:
        case = await self.case_for_staff(case_id)
        await self.repo.set_reply_target(staff_id, case.id, self._clock.now())
        return case

    async def reply_target_waiting(self, staff_id: int) -> bool:
        """Whether the staff member chose a case with "Reply" (used up or not, expired or not)."""
        return await self.repo.has_reply_target(staff_id)

    async def take_reply_target(self, staff_id: int) -> int | None:
        """The case chosen with "Reply", if chosen within REPLY_WINDOW: a message written an hour
        later was most likely not meant for that resident."""
        target = await self.repo.take_reply_target(staff_id)
        if target is None:
            return None
        case_id, chosen_at = target
        return case_id if self._clock.now() - chosen_at <= REPLY_WINDOW else None

    async def read(self, case_id: int, staff_id: int):
        case = await self.case_for_staff(case_id)
        await self.repo.audit(staff_id, "read", case.id, self._clock.now())
        return case, await self.repo.messages(case.id)

    async def queue(self):
        return await self.repo.queue()

    async def resident_blocked(self, resident_id: int, blocked: bool) -> list[Case]:
        await self.repo.mark_resident_blocked(resident_id, blocked)
        return [c for c in await self.repo.for_resident(resident_id) if c.is_open]

    # -- what the handlers read ----------------------------------------------------------------

    async def by_thread(self, thread_id: int) -> Case | None:
        """The case whose staff-group topic this is."""
        return await self.repo.by_thread(thread_id)

    async def current_for(self, resident_id: int) -> Case | None:
        """The resident's latest case that is not closed (a draft included)."""
        return await self.repo.current_for(resident_id)

    async def discard_draft(self, case_id: int) -> bool:
        """A draft the resident no longer needs (a quick answer helped): gone, never seen."""
        return await self.repo.discard_draft(case_id)

    async def get(self, case_id: int) -> Case | None:
        return await self.repo.get(case_id)

    async def audit(self, staff_id: int, action: str, case_id: int | None) -> None:
        """A staff action in the audit log: who, what, which case, when; never content."""
        await self.repo.audit(staff_id, action, case_id, self._clock.now())
