"""The rules of a case, straight on CaseService."""

from __future__ import annotations

import pytest

from bot.cases.service import CaseError, Step
from tests.services.conftest import STAFF_ID, text


async def submitted(cases, resident, body="Ich habe eine Mahnung", message_id=1):
    await cases.receive(resident, text(body, message_id, resident.chat_id), "Amal")
    await cases.choose_topic(resident, "debt", "Amal")
    result = await cases.choose_district(resident, "Rieth", "Amal")
    assert result.step is Step.SUBMITTED
    return result.case


async def test_a_first_message_is_stored_before_anything_is_asked(cases, resident_factory):
    amal = await resident_factory()
    result = await cases.receive(amal, text("سؤال"), "Amal")
    assert result.step is Step.ASK_TOPIC and result.case.status == "draft"
    assert [m.text for m in await cases.repo.messages(result.case.id)] == ["سؤال"]


async def test_topic_then_district_submits_once_and_tells_the_relay(
    cases, resident_factory, changes
):
    amal = await resident_factory()
    await cases.receive(amal, text("سؤال"), "Amal")
    assert (await cases.choose_topic(amal, "debt", "Amal")).step is Step.ASK_DISTRICT
    result = await cases.choose_district(amal, "Rieth", "Amal")
    assert result.step is Step.SUBMITTED and result.case.status == "new"
    assert changes == [result.case.id]
    again = await cases.receive(amal, text("noch etwas", 2), "Amal")
    assert again.step is Step.ADDED and changes == [result.case.id, result.case.id]


async def test_the_same_telegram_message_twice_is_stored_once(cases, resident_factory):
    amal = await resident_factory()
    case = await submitted(cases, amal)
    assert (await cases.receive(amal, text("again", 1), "Amal")).step is Step.DUPLICATE
    assert len(await cases.repo.messages(case.id)) == 1


async def test_unknown_topic_or_district_is_refused(cases, resident_factory):
    amal = await resident_factory()
    with pytest.raises(ValueError):
        await cases.choose_topic(amal, "weather", "Amal")
    with pytest.raises(ValueError):
        await cases.choose_district(amal, "Berlin", "Amal")


async def test_someone_in_danger_is_not_asked_for_topic_or_district(cases, resident_factory):
    amal = await resident_factory()
    draft = (await cases.receive(amal, text("help"), "Amal")).case
    await cases.mark_urgent(draft.id)
    result = await cases.resume(amal)
    assert result.step is Step.SUBMITTED
    assert result.case.urgent and result.case.topic == "other"


async def test_matching_quick_answers_hold_the_draft_until_still_asked(
    cases, resident_factory, suggestions, changes
):
    suggestions["Mahnung"] = ["debt-reminder"]
    amal = await resident_factory()
    await cases.receive(amal, text("Ich habe eine Mahnung"), "Amal")
    await cases.choose_topic(amal, "debt", "Amal")
    result = await cases.choose_district(amal, "Rieth", "Amal")
    assert result.step is Step.SUGGEST and result.case.status == "draft"
    assert list(result.case.suggested) == ["debt-reminder"] and changes == []
    sent = await cases.submit_draft(amal)
    assert sent.step is Step.SUBMITTED and changes == [sent.case.id]


async def test_staff_never_see_a_draft(cases, resident_factory):
    amal = await resident_factory()
    draft = (await cases.receive(amal, text("noch nicht gesendet"), "Amal")).case
    with pytest.raises(CaseError):
        await cases.case_for_staff(draft.id)
    with pytest.raises(CaseError):
        await cases.take(draft.id, STAFF_ID)


async def test_take_close_reopen_and_their_refusals(cases, resident_factory):
    amal = await resident_factory()
    case = await submitted(cases, amal)
    taken = await cases.take(case.id, STAFF_ID)
    assert taken.status == "open" and taken.assignee_id == STAFF_ID
    assert (await cases.close(case.id, STAFF_ID)).status == "closed"
    with pytest.raises(CaseError):
        await cases.close(case.id, STAFF_ID)
    with pytest.raises(CaseError):
        await cases.take(case.id, STAFF_ID)  # closed: reopen first
    assert (await cases.reopen(case.id, STAFF_ID)).status == "open"  # still assigned
    with pytest.raises(CaseError):
        await cases.reopen(case.id, STAFF_ID)
    actions = [action for _, action, _ in await cases.repo.audit_trail(case.id)]
    assert actions == ["take", "close", "reopen"]


async def test_a_closed_case_takes_no_reply(cases, resident_factory):
    amal = await resident_factory()
    case = await submitted(cases, amal)
    await cases.close(case.id, STAFF_ID)
    with pytest.raises(CaseError):
        await cases.reply(case.id, STAFF_ID, text("Antwort", 10, STAFF_ID))


async def test_a_resident_answering_a_waiting_case_makes_it_actionable_again(
    cases, resident_factory
):
    amal = await resident_factory()
    case = await submitted(cases, amal)
    await cases.take(case.id, STAFF_ID)
    answered = await cases.reply(case.id, STAFF_ID, text("Bitte Brief mitbringen", 10, STAFF_ID))
    assert answered.status == "waiting"
    await cases.receive(amal, text("شكرا", 2), "Amal")
    assert (await cases.get(case.id)).status == "open"


async def test_a_note_is_internal_and_never_relayed(cases, resident_factory):
    amal = await resident_factory()
    case = await submitted(cases, amal)
    await cases.note(case.id, STAFF_ID, text("intern: Schuldnerberatung", 11, STAFF_ID))
    note = (await cases.repo.messages(case.id))[-1]
    assert note.direction == "note" and note.relay_status == "none"


async def test_a_reply_target_is_used_once(cases, resident_factory):
    amal = await resident_factory()
    case = await submitted(cases, amal)
    await cases.choose_reply_target(STAFF_ID, case.id)
    assert await cases.take_reply_target(STAFF_ID) == case.id
    assert await cases.take_reply_target(STAFF_ID) is None


async def test_residents_only_see_their_own_cases(cases, resident_factory):
    amal, olga = await resident_factory(1, "ar"), await resident_factory(2, "ru")
    mine = await submitted(cases, amal)
    theirs = await submitted(cases, olga, "Вопрос")
    assert [c.id for c in await cases.cases_of(amal)] == [mine.id]
    assert [c.id for c in await cases.cases_of(olga)] == [theirs.id]
