"""The rules of machine translation, on TranslationService over a real migrated database and
the fake providers on loopback: detection, the cache, encryption, erasure, opt-out, failures."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet

from bot.cases.repository import CaseMessage
from bot.core.crypto import Cipher
from bot.core.i18n import FSI, PDI
from bot.privacy.erasure import Erasure
from bot.privacy.repository import PersonalDataRepository
from bot.sandbox.translators import FakeDeepL, FakeLibreTranslate, FakeOpenAIChat
from bot.translation.deepl import DeepL
from bot.translation.libretranslate import LibreTranslate
from bot.translation.openai_chat import OpenAIChat
from bot.translation.port import Failure
from bot.translation.providers import ProviderInfo
from bot.translation.repository import TranslationRepository
from bot.translation.service import Status, TranslationService
from tests.services.conftest import STAFF_ID, text
from tests.services.test_case_service import submitted

TIMEOUT = 0.5
KEY = Fernet.generate_key().decode()


@pytest.fixture
async def fake():
    async with FakeLibreTranslate() as server:
        yield server


@pytest.fixture
def cipher() -> Cipher:
    return Cipher((KEY,))


@pytest.fixture
async def service(db, i18n, clock, fake, cipher):
    translation = TranslationService(
        LibreTranslate(fake.url, None, TIMEOUT),
        ProviderInfo("libretranslate", "LibreTranslate", "127.0.0.1"),
        TranslationRepository(db, cipher),
        i18n,
        clock,
        timeout=TIMEOUT,
    )
    yield translation
    await translation.close()


async def incoming(cases, resident, body, message_id=1):
    """A submitted case with the resident's message `body`; (case, message)."""
    case = await submitted(cases, resident, body, message_id)
    (message,) = await cases.repo.messages(case.id)
    return case, message


async def reply(cases, case, body, message_id=100) -> CaseMessage:
    await cases.reply(case.id, STAFF_ID, text(body, message_id, chat_id=-100))
    return (await cases.repo.messages(case.id))[-1]


# -- directions and languages -------------------------------------------------------------
async def test_arabic_resident_to_staff_in_german(service, cases, resident_factory, fake):
    fake.phrasebook[("ar", "de", "عندي رسالة من Jobcenter")] = "Ich habe einen Brief vom Jobcenter"
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "عندي رسالة من Jobcenter")
    outcome = await service.for_staff(case, message)
    assert outcome.status is Status.TRANSLATED
    assert outcome.text == "Ich habe einen Brief vom Jobcenter"  # German output: no isolates
    assert (outcome.source, outcome.target, outcome.detected) == ("ar", "de", False)
    assert outcome.original == "عندي رسالة من Jobcenter"
    (request,) = fake.translations()
    assert request.body["source"] == "ar"  # known from the letters: nothing to detect


async def test_russian_setting_arabic_text_is_translated_from_arabic(
    service, cases, resident_factory, fake
):
    oleg = await resident_factory(2, "ru")
    case, message = await incoming(cases, oleg, "لدي سؤال عن الإيجار")
    outcome = await service.for_staff(case, message)
    assert outcome.translated and outcome.source == "ar" and outcome.setting == "ru"
    assert outcome.detected
    assert fake.translations()[0].body["source"] == "ar"


async def test_latin_text_from_an_arabic_setting_is_detected_by_the_provider(
    service, cases, resident_factory, fake
):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "Hello, I have a question about my rent")
    outcome = await service.for_staff(case, message)
    assert outcome.translated and outcome.source == "en" and outcome.detected
    assert [r.path for r in fake.requests] == ["/detect", "/translate"]
    # Detection gets the words, not the numbers and links.
    assert fake.requests[0].body["q"].startswith("Hello")


async def test_german_from_a_foreign_setting_needs_no_translation(
    service, cases, resident_factory, fake
):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "Ich habe eine Frage zur Miete")
    outcome = await service.for_staff(case, message)
    assert outcome.status is Status.SAME_LANGUAGE and outcome.source == "de"
    assert fake.translations() == []  # detected, not translated


async def test_a_german_resident_costs_no_request(service, cases, resident_factory, fake):
    anna = await resident_factory(3, "de")
    case, message = await incoming(cases, anna, "Ich habe eine Mahnung")
    assert (await service.for_staff(case, message)).status is Status.SAME_LANGUAGE
    assert fake.requests == []


async def test_staff_to_arabic_resident_keeps_and_isolates_fragments(
    service, cases, resident_factory, fake
):
    fake.phrasebook[("de", "ar", "Bitte kommen Sie am 03.12.2026 um 10:30 Uhr zum Jobcenter.")] = (
        "يرجى الحضور إلى Jobcenter في 03.12.2026 الساعة 10:30 Uhr."
    )
    amal = await resident_factory(1, "ar")
    case, _ = await incoming(cases, amal, "سؤال")
    message = await reply(cases, case, "Bitte kommen Sie am 03.12.2026 um 10:30 Uhr zum Jobcenter.")
    outcome = await service.for_resident(case, message)
    assert outcome.translated and outcome.target == "ar" and outcome.complete
    assert outcome.text == (
        f"يرجى الحضور إلى {FSI}Jobcenter{PDI} في {FSI}03.12.2026{PDI} الساعة {FSI}10:30 Uhr{PDI}."
    )


async def test_staff_prefix_sends_untranslated(service, cases, resident_factory, fake):
    amal = await resident_factory(1, "ar")
    case, _ = await incoming(cases, amal, "سؤال")
    message = await reply(cases, case, "! Bitte Ausweis mitbringen")
    outcome = await service.for_resident(case, message)
    assert outcome.status is Status.RAW and outcome.original == "Bitte Ausweis mitbringen"
    assert fake.requests == []


async def test_nothing_to_translate_in_a_number_or_a_photo(service, cases, resident_factory, fake):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "0361 655 4321")
    assert (await service.for_staff(case, message)).status is Status.NOTHING
    assert fake.requests == []


async def test_off_without_a_provider(db, i18n, clock, cases, resident_factory):
    off = TranslationService(None, None, TranslationRepository(db), i18n, clock, timeout=1)
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    assert not off.enabled
    assert (await off.for_staff(case, message)).status is Status.OFF


# -- opt-out --------------------------------------------------------------------------------
async def test_resident_who_turned_it_off_is_not_sent_anywhere(
    service, cases, resident_factory, fake
):
    amal = await resident_factory(1, "ar")
    assert await service.own_messages(amal.user_id)
    await service.set_own_messages(amal.user_id, False)
    case, message = await incoming(cases, amal, "سؤال خاص")
    assert (await service.for_staff(case, message)).status is Status.OPTED_OUT
    assert fake.requests == []
    # Answers of staff are still translated for them.
    answer = await reply(cases, case, "Guten Tag")
    assert (await service.for_resident(case, answer)).translated
    await service.set_own_messages(amal.user_id, True)
    assert (await service.for_staff(case, message)).translated


# -- cache and storage ----------------------------------------------------------------------
async def test_identical_text_is_not_sent_twice(service, cases, resident_factory, fake):
    amal = await resident_factory(1, "ar")
    nour = await resident_factory(2, "ar")
    case1, m1 = await incoming(cases, amal, "شكرا جزيلا", 1)
    case2, m2 = await incoming(cases, nour, "شكرا جزيلا", 2)
    first = await service.for_staff(case1, m1)
    second = await service.for_staff(case2, m2)
    again = await service.for_staff(case1, m1)  # the relay retrying a delivery
    assert len(fake.translations()) == 1
    assert not first.cached and second.cached and again.cached
    assert first.text == second.text == again.text
    assert (await service.stored(m2.id, "de")).text == first.text


async def test_stored_encrypted_never_in_clear(service, cases, resident_factory, db, cipher):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سر صغير")
    outcome = await service.for_staff(case, message)
    row = await db.fetchone("SELECT text, digest FROM message_translations")
    assert row["text"].startswith("enc1:") and outcome.text not in row["text"]
    assert cipher.open(row["text"]) == outcome.text
    assert len(row["digest"]) == 64 and "سر" not in row["digest"]
    # A keyed fingerprint: without the key the same text gives another digest.
    assert Cipher().digest("ar\x1fde\x1fسر صغير") != row["digest"]
    assert (await service.stored_for_case(case.id))[message.id].text == outcome.text


async def test_a_failure_stays_with_its_message_and_a_later_message_translates(
    service, cases, resident_factory, fake, db
):
    """A delivery retried (or sent again by staff) must send what it sent the first time:
    the failure is remembered for that message, never used as the cache for another, and
    listed nowhere as a translation."""
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    fake.fail_next(500)
    assert (await service.for_staff(case, message)).status is Status.FAILED
    row = await db.fetchone("SELECT failure, provider FROM message_translations")
    assert tuple(row) == ("unavailable", "LibreTranslate")
    service._paused_until = 0.0  # the pause after an outage is over
    again = await service.for_staff(case, message)
    assert again.status is Status.FAILED and again.failure is Failure.UNAVAILABLE and again.cached
    assert len(fake.translations()) == 1
    assert service_failure(await service.stored_for_case(case.id)) == {message.id: "unavailable"}
    assert (await PersonalDataRepository(db).export(amal.user_id))["translations"] == []
    await cases.receive(amal, text("سؤال", 2, amal.chat_id), "Amal")
    later = (await cases.repo.messages(case.id))[-1]
    assert (await service.for_staff(case, later)).translated  # the same text, tried afresh


def service_failure(stored) -> dict[int, str | None]:
    return {message_id: t.failure for message_id, t in stored.items()}


# -- erasure --------------------------------------------------------------------------------
async def test_erasing_the_resident_erases_the_translations(
    service, cases, resident_factory, db, clock
):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    await service.for_staff(case, message)
    await service.for_resident(case, await reply(cases, case, "Guten Tag"))
    await service.set_own_messages(amal.user_id, False)
    assert (await db.fetchone("SELECT COUNT(*) FROM message_translations"))[0] == 2
    await Erasure(PersonalDataRepository(db), db, None, clock, backup_days=30).erase(amal.user_id)
    assert (await db.fetchone("SELECT COUNT(*) FROM message_translations"))[0] == 0
    assert (await db.fetchone("SELECT COUNT(*) FROM translation_preferences"))[0] == 0


async def test_retention_erases_the_translations_of_a_closed_case(
    service, cases, resident_factory, db, clock
):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    await service.for_staff(case, message)
    await cases.close(case.id, STAFF_ID)
    privacy = PersonalDataRepository(db)
    assert (case.id, None) in await privacy.closed_before(clock.now() + timedelta(days=1))
    await privacy.erase_case_content(case.id)
    assert await db.fetchone("SELECT 1 FROM message_translations") is None
    # The cache went with it: the same text is translated afresh, not found.
    nour = await resident_factory(2, "ar")
    case2, m2 = await incoming(cases, nour, "سؤال", 2)
    assert not (await service.for_staff(case2, m2)).cached


async def test_my_data_lists_the_translations_readable(
    service, cases, resident_factory, db, cipher
):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    outcome = await service.for_staff(case, message)
    data = await PersonalDataRepository(db, cipher).export(amal.user_id)
    assert [(t["source"], t["target"], t["text"]) for t in data["translations"]] == [
        ("ar", "de", outcome.text)
    ]


async def test_key_rotation_reencrypts_translations(service, cases, resident_factory, db):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    outcome = await service.for_staff(case, message)
    new_key = Fernet.generate_key().decode()
    await PersonalDataRepository(db).rotate(Cipher((new_key, KEY)))
    row = await db.fetchone("SELECT text FROM message_translations")
    assert Cipher((new_key,)).open(row["text"]) == outcome.text


# -- failure never blocks -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "failure"),
    [(429, Failure.RATE_LIMITED), (500, Failure.UNAVAILABLE), (403, Failure.REFUSED)],
)
async def test_provider_errors_become_a_failed_outcome(
    service, cases, resident_factory, fake, status, failure
):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    fake.fail_next(status)
    outcome = await service.for_staff(case, message)
    assert outcome.status is Status.FAILED and outcome.failure is failure
    assert outcome.original == "سؤال" and outcome.text is None


async def test_an_outage_costs_the_timeout_once(service, cases, resident_factory, fake):
    amal = await resident_factory(1, "ar")
    case, first_message = await incoming(cases, amal, "سؤال أول", 1)
    for number in range(2, 7):
        await cases.receive(amal, text(f"سؤال رقم {number}", number, amal.chat_id), "Amal")
    later = (await cases.repo.messages(case.id))[1:]
    fake.hang = True
    started = time.monotonic()
    first = await service.for_staff(case, first_message)
    first_took = time.monotonic() - started
    assert first.failure is Failure.TIMEOUT and TIMEOUT * 0.9 <= first_took < TIMEOUT + 0.5
    started = time.monotonic()
    outcomes = [await service.for_staff(case, message) for message in later]
    assert len(outcomes) == 5 and all(o.failure is Failure.TIMEOUT for o in outcomes)
    assert time.monotonic() - started < TIMEOUT / 2  # no second wait
    assert len(fake.translations()) == 1


async def test_rate_limit_pauses_for_as_long_as_asked(service, cases, resident_factory, fake):
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    for number in (2, 3):
        await cases.receive(amal, text(f"سؤال {number}", number, amal.chat_id), "Amal")
    second, third = (await cases.repo.messages(case.id))[1:]
    fake.fail_next(429, retry_after=0.2)
    assert (await service.for_staff(case, message)).failure is Failure.RATE_LIMITED
    assert (await service.for_staff(case, second)).failure is Failure.RATE_LIMITED
    assert len(fake.translations()) == 1  # the second did not ask
    await asyncio.sleep(0.25)
    assert (await service.for_staff(case, third)).translated


async def test_a_crashing_client_is_a_failure_not_an_exception(
    db, i18n, clock, cases, resident_factory, caplog
):
    class Broken:
        name, escaped = "Broken", True

        async def translate(self, text, source, target):
            raise KeyError("Geheimer Text")

        async def detect(self, text):
            return None

        async def close(self):
            pass

    broken = TranslationService(
        Broken(), None, TranslationRepository(db), i18n, clock, timeout=TIMEOUT
    )
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سؤال")
    outcome = await broken.for_staff(case, message)
    assert outcome.status is Status.FAILED and outcome.failure is Failure.GARBAGE
    assert "Geheimer" not in caplog.text and "سؤال" not in caplog.text


async def test_nothing_of_the_text_is_logged(service, cases, resident_factory, fake, caplog):
    caplog.set_level("DEBUG")
    amal = await resident_factory(1, "ar")
    case, message = await incoming(cases, amal, "سر لا يقال 0361 655 4321")
    await service.for_staff(case, message)
    fake.fail_next(500)
    await service.for_resident(case, await reply(cases, case, "Vertrauliche Antwort"))
    # Ours only: aiosqlite's own DEBUG lines show SQL parameters (never on at INFO).
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "translated ar->de" in ours and "failed: unavailable" in ours
    assert "سر" not in ours and "0361" not in ours and "Vertrauliche" not in ours


# -- every provider through the service -----------------------------------------------------
@pytest.mark.parametrize("kind", ["libretranslate", "deepl", "openai"])
async def test_each_provider_round_trip(kind, db, i18n, clock, cases, resident_factory):
    servers = {"libretranslate": FakeLibreTranslate, "deepl": FakeDeepL, "openai": FakeOpenAIChat}
    async with servers[kind]() as server:
        client = {
            "libretranslate": lambda: LibreTranslate(server.url, None, TIMEOUT),
            "deepl": lambda: DeepL(server.url, "fake-key:fx", TIMEOUT),
            "openai": lambda: OpenAIChat(server.url, None, "llama3.1:8b", TIMEOUT),
        }[kind]()
        translation = TranslationService(
            client, None, TranslationRepository(db), i18n, clock, timeout=TIMEOUT
        )
        oksana = await resident_factory(4, "uk")
        case, message = await incoming(cases, oksana, "Мені прийшла Mahnung, що робити?")
        to_staff = await translation.for_staff(case, message)
        answer = await reply(cases, case, "Bitte bringen Sie die Mahnung am 03.12. mit.")
        to_resident = await translation.for_resident(case, answer)
        await translation.close()
    assert to_staff.translated and to_staff.source == "uk" and "Mahnung" in to_staff.text
    assert to_resident.translated and to_resident.target == "uk"
    assert "Mahnung" in to_resident.text and "03.12." in to_resident.text
