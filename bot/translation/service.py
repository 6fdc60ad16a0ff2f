"""The rules of machine translation: what is translated, from and into which language, what
is sent to the provider, what is stored, and what happens when the provider fails.

Two entry points, one per direction, both taking the stored case and message, so that the
relay (bot/transport/relay.py) needs one call before it sends:

- `for_staff(case, message)`: a resident's text or caption, into German;
- `for_resident(case, message)`: a staff member's text or caption, into the resident's language,
  unless it starts with RAW_PREFIX ("!"), which sends it untranslated.

Neither ever raises for a provider's sake and neither waits longer than the timeout: a failure
is an Outcome with status FAILED that the caller shows. After an outage or a 429 the provider
is left alone for a while (the next messages fail at once instead of each waiting out the
timeout); the first message after that tries again. Translations are stored sealed
(repository.py) and reused for an identical text, so nothing is sent twice, and a relay that
retries a delivery finds the translation it already made — or the failure: a failure is
remembered for its message, so a retry sends what the first attempt sent. Nothing here logs
a text.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.cases.repository import Case, CaseMessage
from bot.core.clock import Clock
from bot.core.i18n import LANGUAGES, STAFF_LANGUAGE, I18n
from bot.translation import languages, protect
from bot.translation.port import Failure, MachineTranslator, TranslationError
from bot.translation.providers import ProviderInfo
from bot.translation.repository import StoredTranslation, TranslationRepository

logger = logging.getLogger(__name__)

# Staff begin a message with this to send it exactly as written (docs/translation.md).
RAW_PREFIX = "!"
# How long the provider is left alone after each kind of failure; the rest are per message.
PAUSES = {
    Failure.TIMEOUT: timedelta(seconds=30),
    Failure.UNAVAILABLE: timedelta(seconds=30),
    Failure.RATE_LIMITED: timedelta(seconds=10),  # unless the answer names a time
    Failure.QUOTA: timedelta(minutes=15),  # somebody has to act; try now and then
}
MAX_PAUSE = timedelta(minutes=15)


class Status(enum.Enum):
    TRANSLATED = "translated"
    FAILED = "failed"  # the original goes as it is; `failure` says why
    OFF = "off"  # no provider configured
    OPTED_OUT = "opted_out"  # the resident turned translation of their messages off
    RAW = "raw"  # staff sent it untranslated on purpose (RAW_PREFIX)
    SAME_LANGUAGE = "same_language"  # already in the reader's language
    NOTHING = "nothing"  # no words: a number, a link, an emoji, or no text at all


@dataclass(frozen=True)
class Outcome:
    status: Status
    original: str  # the text as written (for RAW: without the prefix)
    target: str  # the reader's language
    text: str | None = None  # the translation, fragments restored and isolated
    source: str | None = None  # the original's language, where known
    setting: str | None = None  # the resident's language setting
    failure: Failure | None = None
    complete: bool = True  # every number, link and term came back in its place
    cached: bool = False  # found stored, nothing was sent

    @property
    def translated(self) -> bool:
        return self.status is Status.TRANSLATED

    @property
    def detected(self) -> bool:
        """The original is in another language than the resident's setting says."""
        return self.source is not None and self.setting is not None and self.source != self.setting


def split_raw(text: str) -> tuple[bool, str]:
    """("!Termin am 3.12." -> (True, "Termin am 3.12.")): staff's way to send as written."""
    if text.startswith(RAW_PREFIX):
        return True, text[len(RAW_PREFIX) :].lstrip()
    return False, text


class TranslationService:
    def __init__(
        self,
        provider: MachineTranslator | None,
        info: ProviderInfo | None,
        repository: TranslationRepository,
        i18n: I18n,
        clock: Clock,
        *,
        timeout: float,
    ) -> None:
        self._provider = provider
        self.info = info
        self._repo = repository
        self._i18n = i18n
        self._clock = clock
        self._timeout = timeout
        self._paused_until = 0.0  # event-loop time
        self._pause_reason: Failure | None = None

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    async def check(self) -> list[str]:
        """At start-up: the languages the provider lacks (LibreTranslate says; others do not),
        logged as a warning. Never raises: an unreachable provider is only reported."""
        lister = getattr(self._provider, "languages", None)
        if lister is None:
            return []
        try:
            async with asyncio.timeout(self._timeout):
                offered = await lister()
        except (TimeoutError, TranslationError) as error:
            failure = error.failure.value if isinstance(error, TranslationError) else "timeout"
            logger.warning("translation provider not reachable at start-up (%s)", failure)
            return []
        missing = [code for code in LANGUAGES if code not in offered]
        if missing:
            logger.warning(
                "the translation provider lacks %s: messages in it stay untranslated"
                " (LibreTranslate: LT_LOAD_ONLY=de,en,ar,ru,uk)",
                ", ".join(missing),
            )
        return missing

    async def close(self) -> None:
        if self._provider is not None:
            await self._provider.close()

    # -- the two directions -----------------------------------------------------------------
    async def for_staff(self, case: Case, message: CaseMessage) -> Outcome:
        """A resident's text or caption for the staff topic, in German."""
        text = message.text or ""
        setting, target = case.language, STAFF_LANGUAGE
        if self._provider is None:
            return Outcome(Status.OFF, text, target, setting=setting)
        if case.resident_id is not None and not await self._repo.own_messages(case.resident_id):
            return Outcome(Status.OPTED_OUT, text, target, setting=setting)
        source = languages.source_language(text, setting)
        return await self._translate(case, message, text, source, target, setting)

    async def for_resident(self, case: Case, message: CaseMessage) -> Outcome:
        """A staff member's text or caption for the resident, in the resident's language."""
        raw, text = split_raw(message.text or "")
        target = case.language
        if raw:
            return Outcome(Status.RAW, text, target, source=STAFF_LANGUAGE)
        if self._provider is None:
            return Outcome(Status.OFF, text, target)
        # Staff write German; a colleague who writes Russian to a Russian resident is seen by
        # the letters and not translated at all.
        source = languages.source_language(text, STAFF_LANGUAGE)
        return await self._translate(case, message, text, source, target, None)

    async def stored(self, message_id: int, target: str) -> StoredTranslation | None:
        return await self._repo.find(message_id, target)

    async def stored_for_case(self, case_id: int) -> dict[int, StoredTranslation]:
        """The German translations of a case's messages, for the case view in /queue."""
        return await self._repo.for_case(case_id, STAFF_LANGUAGE)

    async def kept_for_staff(self, case: Case) -> dict[int, Outcome]:
        """message id -> what the topic showed of a resident's text or caption (translated,
        or failed), from storage only: the case view in /queue never waits for a provider."""
        shown: dict[int, Outcome] = {}
        for message_id, stored in (await self._repo.for_case(case.id, STAFF_LANGUAGE)).items():
            shown[message_id] = Outcome(
                Status.FAILED if stored.failure else Status.TRANSLATED,
                "",  # the caller has the original
                STAFF_LANGUAGE,
                text=None if stored.failure else stored.text,
                source=None if stored.failure else stored.source,
                setting=case.language,
                failure=Failure(stored.failure) if stored.failure else None,
                complete=stored.complete,
                cached=True,
            )
        return shown

    # -- the resident's choice --------------------------------------------------------------
    async def own_messages(self, resident_id: int) -> bool:
        return await self._repo.own_messages(resident_id)

    async def set_own_messages(self, resident_id: int, enabled: bool) -> None:
        await self._repo.set_own_messages(resident_id, enabled, self._clock.now())

    # -- one translation --------------------------------------------------------------------
    async def _translate(
        self,
        case: Case,
        message: CaseMessage,
        text: str,
        source: str | None,
        target: str,
        setting: str | None,
    ) -> Outcome:
        outcome = await self._attempt(case, message, text, source, target, setting)
        if outcome.status is Status.FAILED and not outcome.cached:
            # Remembered for this message only (another message tries again): what was sent
            # stays what is sent (migrations/0015_translation_failures.sql).
            failed = StoredTranslation(
                message_id=message.id,
                source=outcome.source or "und",
                target=target,
                complete=False,
                provider=self._provider.name if self._provider else "",
                text="",
                failure=(outcome.failure or Failure.GARBAGE).value,
            )
            digest = self._repo.digest(source, target, text)
            await self._repo.save(message.id, case.id, failed, digest, self._clock.now())
        return outcome

    async def _attempt(
        self,
        case: Case,
        message: CaseMessage,
        text: str,
        source: str | None,
        target: str,
        setting: str | None,
    ) -> Outcome:
        assert self._provider is not None
        masked = protect.mask(text)
        if not masked.has_words:
            return Outcome(Status.NOTHING, text, target, source=source, setting=setting)
        if source == target:
            return Outcome(Status.SAME_LANGUAGE, text, target, source=source, setting=setting)
        # Translated before (the relay retries a delivery), or the same text elsewhere.
        done = await self._repo.find(message.id, target)
        if done is not None and done.failure is not None:
            # Failed before: a delivery retried or sent again goes out as it went the first
            # time (the original, "translation failed"), never as a different text.
            return Outcome(
                Status.FAILED,
                text,
                target,
                source=source,
                setting=setting,
                failure=Failure(done.failure),
                cached=True,
            )
        digest = self._repo.digest(source, target, text)
        if done is None and (done := await self._repo.by_digest(digest)) is not None:
            await self._repo.save(message.id, case.id, done, digest, self._clock.now())
        if done is not None:
            return self._outcome(done, text, setting, cached=True)
        loop = asyncio.get_running_loop()
        if loop.time() < self._paused_until and self._pause_reason is not None:
            reason = self._pause_reason
            return Outcome(
                Status.FAILED, text, target, source=source, setting=setting, failure=reason
            )
        try:
            async with asyncio.timeout(self._timeout):
                if source is None:
                    detection = await self._provider.detect(masked.words)
                    source = detection.language if detection is not None else None
                    if source == target:
                        return Outcome(
                            Status.SAME_LANGUAGE, text, target, source=source, setting=setting
                        )
                result = await self._provider.translate(masked.markup, source, target)
        except TimeoutError:
            return self._failed(Failure.TIMEOUT, None, text, target, source, setting)
        except TranslationError as error:
            return self._failed(error.failure, error.retry_after, text, target, source, setting)
        except Exception as error:  # a bug in a client must not stop a message on its way
            logger.error("translation client failed: %s", type(error).__name__)
            return self._failed(Failure.GARBAGE, None, text, target, source, setting)
        self._paused_until, self._pause_reason = 0.0, None
        if result.source == target:  # DeepL detected German in German
            return Outcome(
                Status.SAME_LANGUAGE, text, target, source=result.source, setting=setting
            )
        isolate = self._i18n.translator(target).isolate
        restored = protect.restore(
            result.text, masked, escaped=self._provider.escaped, isolate=isolate
        )
        if not restored.text.strip():
            return self._failed(Failure.GARBAGE, None, text, target, source, setting)
        stored = StoredTranslation(
            message_id=message.id,
            source=result.source,
            target=target,
            complete=restored.complete,
            provider=self._provider.name,
            text=restored.text,
        )
        await self._repo.save(message.id, case.id, stored, digest, self._clock.now())
        logger.info(
            "message %s translated %s->%s (%d fragments kept%s)",
            message.id,
            result.source,
            target,
            len(masked.fragments),
            "" if restored.complete else ", some only in the original",
        )
        return self._outcome(stored, text, setting, cached=False)

    def _outcome(
        self, stored: StoredTranslation, text: str, setting: str | None, *, cached: bool
    ) -> Outcome:
        return Outcome(
            Status.TRANSLATED,
            text,
            stored.target,
            text=stored.text,
            source=stored.source,
            setting=setting,
            complete=stored.complete,
            cached=cached,
        )

    def _failed(
        self,
        failure: Failure,
        retry_after: float | None,
        text: str,
        target: str,
        source: str | None,
        setting: str | None,
    ) -> Outcome:
        pause = PAUSES.get(failure)
        if retry_after is not None and failure in (Failure.RATE_LIMITED, Failure.UNAVAILABLE):
            pause = min(timedelta(seconds=retry_after), MAX_PAUSE)
        if pause is not None:
            self._paused_until = asyncio.get_running_loop().time() + pause.total_seconds()
            self._pause_reason = failure
        logger.warning(
            "translation %s->%s failed: %s%s",
            source or "?",
            target,
            failure.value,
            f"; provider left alone for {pause.total_seconds():.0f} s" if pause else "",
        )
        return Outcome(Status.FAILED, text, target, source=source, setting=setting, failure=failure)
