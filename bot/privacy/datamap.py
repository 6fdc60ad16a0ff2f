"""Where personal data lives: every table and every column of the database, and what becomes of
it when a resident erases their data or retention erases an old case.

Nothing here runs; it is the map the erasure is checked against. tests/test_datamap.py reads
every table and column from sqlite_schema and fails unless each one is classified here, unless
every table holding a resident's data has its erasure step in bot/privacy/repository.py
(RESIDENT_ERASURE, CASE_ERASURE, SENDER_ERASURE), and unless every CONTENT or NAME column is
sealed at rest (SEALED_COLUMNS, MAIN_KEY_COLUMNS). A
migration that adds a table or column therefore also adds a line here, and says what it holds.

Column kinds:
- ID: a resident's Telegram id or chat id (who they are).
- NAME: what they are called. CONTENT: what they wrote, or what staff wrote to or about them.
  Both (and FILE) are sealed with the resident's key when THINKA_ENCRYPTION_KEY is set.
- FILE: a Telegram file id of something they sent or were sent: no content itself, but with
  this bot's token it fetches the photo or document from Telegram; sealed like content.
- ABOUT: a fact about the resident (language, district, times) that goes with their row.
- KEPT: stays after erasure, then tied to nobody (topic, language, dates of an anonymous case:
  what the funder's figures count).
- STAFF: a staff member's id or work (events, notices, audit), not a resident's data.
- LINK: the id of another row (a case, an appointment, an event).
- TECHNICAL: states, counters, Telegram message ids, times of the bot's own work.

How a table's rows go (`erased`):
- RESIDENT: with the resident (RESIDENT_ERASURE: deleted, or kept anonymous as noted).
- CASE: with the case's content when retention erases it, and with the resident.
- SENDER: raw updates, erased with the resident who sent them, emptied once handled.
- NOTHING: holds no resident's data (the column kinds say why).
"""

from __future__ import annotations

from dataclasses import dataclass

ID, NAME, CONTENT, FILE, ABOUT = "id", "name", "content", "file", "about"
KEPT, STAFF, LINK, TECHNICAL = "kept", "staff", "link", "technical"
PERSONAL = frozenset({ID, NAME, CONTENT, FILE, ABOUT})
SEALED = frozenset({NAME, CONTENT, FILE})

RESIDENT, CASE, SENDER, NOTHING = "resident", "case", "sender", "nothing"


@dataclass(frozen=True)
class Table:
    erased: frozenset[str]
    columns: dict[str, str]
    why: str = ""  # what erasure does with the rows, in a sentence


def _table(erased: str | tuple[str, ...], why: str, **columns: str) -> Table:
    scopes = (erased,) if isinstance(erased, str) else erased
    return Table(frozenset(scopes), columns, why)


TABLES: dict[str, Table] = {
    "residents": _table(
        RESIDENT,
        "the row is deleted",
        user_id=ID,
        chat_id=ID,
        language=ABOUT,
        district=ABOUT,
        consent_at=ABOUT,
        consent_version=ABOUT,
        last_seen_at=ABOUT,
        blocked=ABOUT,
        announcements_asked=ABOUT,
    ),
    "cases": _table(
        (RESIDENT, CASE),
        "the row stays for the figures: resident_id and first_name are cleared",
        id=TECHNICAL,
        resident_id=ID,
        status=KEPT,
        topic=KEPT,
        district=KEPT,
        language=KEPT,
        first_name=NAME,
        assignee_id=STAFF,
        urgent=KEPT,
        thread_id=TECHNICAL,
        card_message_id=TECHNICAL,
        topic_title=TECHNICAL,  # "🆕 #12 Schulden · ar · Rieth": no name
        resident_blocked=KEPT,
        created_at=KEPT,
        submitted_at=KEPT,
        closed_at=KEPT,
        suggested=KEPT,  # ids of quick answers offered
    ),
    "case_messages": _table(
        (RESIDENT, CASE),
        "deleted with the resident; text and file cleared by retention",
        id=TECHNICAL,
        case_id=LINK,
        direction=TECHNICAL,
        sender_id=ID,  # the resident's, or a staff member's for answers and notes
        kind=TECHNICAL,
        text=CONTENT,
        file_id=FILE,
        media_group_id=TECHNICAL,
        source_chat_id=ID,
        source_message_id=TECHNICAL,
        relay_status=TECHNICAL,
        relay_attempts=TECHNICAL,
        relay_error=TECHNICAL,  # Telegram's error, never the message
        relay_after=TECHNICAL,
        relayed_chat_id=ID,
        relayed_message_id=TECHNICAL,
        template_key=TECHNICAL,
        created_at=ABOUT,
    ),
    "staff_reply_targets": _table(
        NOTHING,
        "a staff member's pending reply; deleted with the case's resident all the same",
        staff_id=STAFF,
        case_id=LINK,
        created_at=TECHNICAL,
    ),
    "audit_log": _table(
        NOTHING,
        "who of the staff did what to which case: kept (the case is anonymous once erased)",
        id=TECHNICAL,
        staff_id=STAFF,
        action=STAFF,
        case_id=LINK,
        at=STAFF,
    ),
    "appointments": _table(
        (RESIDENT, CASE),
        "kept for the figures: the note is cleared, an open appointment cancelled",
        id=TECHNICAL,
        case_id=LINK,
        location=KEPT,
        starts_at=KEPT,
        ends_at=KEPT,
        status=KEPT,
        note=CONTENT,
        sequence=TECHNICAL,
        created_at=KEPT,
        updated_at=KEPT,
    ),
    "slot_seats": _table(
        NOTHING,
        "a seat held in a slot; freed when the resident's appointment is cancelled",
        appointment_id=LINK,
        location=TECHNICAL,
        starts_at=TECHNICAL,
        seat=TECHNICAL,
        capacity=TECHNICAL,
    ),
    "appointment_reminders": _table(
        NOTHING,
        "which reminder went out for an appointment, and when",
        appointment_id=LINK,
        kind=TECHNICAL,
        state=TECHNICAL,
        at=TECHNICAL,
    ),
    "closed_days": _table(
        NOTHING, "days a contact point is closed", location=TECHNICAL, day=TECHNICAL, added_by=STAFF
    ),
    "staff_digests": _table(
        NOTHING, "the staff's daily list went out", day=TECHNICAL, sent_at=TECHNICAL
    ),
    "appointment_drafts": _table(
        RESIDENT,
        "the row is deleted",
        resident_id=ID,
        topic=ABOUT,
        location=ABOUT,
        day=ABOUT,
        starts_at=ABOUT,
        note=CONTENT,
        awaiting_note=TECHNICAL,
        replaces=LINK,
        updated_at=ABOUT,
    ),
    "staff_notices": _table(
        (RESIDENT, CASE),
        "deleted (they quote the appointment and its note)",
        id=TECHNICAL,
        case_id=LINK,
        text=CONTENT,
        buttons=TECHNICAL,
        status=TECHNICAL,
        attempts=TECHNICAL,
        relay_after=TECHNICAL,
        created_at=TECHNICAL,
    ),
    "subscriptions": _table(RESIDENT, "deleted", resident_id=ID, district=ABOUT, created_at=ABOUT),
    "events": _table(
        NOTHING,
        "events staff publish",
        id=TECHNICAL,
        starts_at=STAFF,
        place=STAFF,
        districts=STAFF,
        photo_file_id=STAFF,
        status=TECHNICAL,
        publish_at=STAFF,
        remind=TECHNICAL,
        reminded=TECHNICAL,
        created_by=STAFF,
        created_at=TECHNICAL,
        updated_at=TECHNICAL,
    ),
    "event_texts": _table(
        NOTHING,
        "what staff wrote for an event",
        event_id=LINK,
        language=STAFF,
        title=STAFF,
        body=STAFF,
    ),
    "rsvps": _table(RESIDENT, "deleted", event_id=LINK, resident_id=ID, created_at=ABOUT),
    "staff_drafts": _table(
        NOTHING,
        "an event or notice a staff member is writing",
        staff_id=STAFF,
        kind=STAFF,
        step=STAFF,
        data=STAFF,
        updated_at=TECHNICAL,
    ),
    "broadcasts": _table(
        NOTHING,
        "one announcement to many",
        id=TECHNICAL,
        kind=TECHNICAL,
        event_id=LINK,
        started_by=STAFF,
        progress_chat_id=STAFF,
        progress_message_id=TECHNICAL,
        status=TECHNICAL,
        created_at=TECHNICAL,
        finished_at=TECHNICAL,
    ),
    "broadcast_texts": _table(
        NOTHING, "the announcement's text", broadcast_id=LINK, language=STAFF, text=STAFF
    ),
    "outgoing": _table(
        (RESIDENT, CASE),
        "deleted (to or about them); an announcement's row stays counted, tied to nobody",
        id=TECHNICAL,
        key=ID,  # "answer:17" (row ids), but "broadcast:3:<user id>" names the recipient
        target=TECHNICAL,
        chat_id=ID,
        case_id=LINK,
        resident_id=ID,
        batch_id=LINK,
        sender_id=ID,
        lane=TECHNICAL,
        content=CONTENT,
        idempotent=TECHNICAL,
        on_sent=TECHNICAL,
        on_failed=TECHNICAL,
        report=STAFF,
        label=TECHNICAL,
        status=KEPT,
        attempts=TECHNICAL,
        not_before=TECHNICAL,
        error=TECHNICAL,
        message_id=TECHNICAL,
        digest_id=LINK,
        created_at=TECHNICAL,
        updated_at=KEPT,
    ),
    "anonymous_counts": _table(
        NOTHING, "counts only", kind=KEPT, month=KEPT, language=KEPT, count=KEPT
    ),
    "daily_counts": _table(NOTHING, "counts only", kind=KEPT, day=KEPT, language=KEPT, count=KEPT),
    "report_runs": _table(NOTHING, "months reported", month=TECHNICAL, sent_at=TECHNICAL),
    "inbox": _table(
        (SENDER, RESIDENT),
        "an update keeps its payload until handled; the sender's pending ones are emptied,"
        " their quarantined and parked ones deleted, and the chat id cleared from the rest",
        update_id=TECHNICAL,
        payload=CONTENT,  # sealed with THINKA_ENCRYPTION_KEY itself: no resident key yet
        received_at=TECHNICAL,
        done_at=TECHNICAL,
        state=TECHNICAL,
        kind=TECHNICAL,  # the update's type (message, callback_query …), never content
        chat_id=ID,
        attempts=TECHNICAL,
        failures=TECHNICAL,
        error=TECHNICAL,  # an exception's class name, never its message
    ),
    "message_translations": _table(
        (RESIDENT, CASE),
        "deleted with the resident and with the case's content",
        id=TECHNICAL,
        message_id=LINK,
        case_id=LINK,
        source=TECHNICAL,
        target=TECHNICAL,
        complete=TECHNICAL,
        provider=TECHNICAL,
        digest=TECHNICAL,  # keyed fingerprint of the original: finds nothing without the key
        text=CONTENT,
        created_at=TECHNICAL,
        failure=TECHNICAL,  # why a translation failed (timeout, quota …), never content
    ),
    "translation_preferences": _table(
        RESIDENT,
        "deleted",
        resident_id=ID,
        own_messages=ABOUT,
        updated_at=ABOUT,
    ),
    "letters": _table(
        (RESIDENT, CASE),
        "deleted with the resident and with the case's content (the pages go with them)",
        id=TECHNICAL,
        case_id=LINK,
        group_key=TECHNICAL,  # an album's media_group_id or a message row id
        status=TECHNICAL,
        attempts=TECHNICAL,
        read_after=TECHNICAL,
        failure=TECHNICAL,  # reason codes, never content
        reading=CONTENT,
        created_at=TECHNICAL,
        read_at=TECHNICAL,
    ),
    "letter_pages": _table(
        NOTHING,
        "which message is a page of which letter; deleted with either (ON DELETE CASCADE)",
        message_id=LINK,
        letter_id=LINK,
    ),
    "case_deadlines": _table(
        (RESIDENT, CASE),
        "deleted with the resident and with the case's content",
        case_id=LINK,
        due_on=ABOUT,  # in clear: /queue orders by it
        estimated=TECHNICAL,
        letter_id=LINK,
        summary=CONTENT,  # sender, reference, the letter's wording
        set_by=STAFF,
        set_at=TECHNICAL,
        reminded_at=TECHNICAL,
    ),
    "outreach_links": _table(
        NOTHING,
        "the deep links people arrived through (district, language, source): no person",
        id=TECHNICAL,
        payload=TECHNICAL,
        district=KEPT,
        language=KEPT,
        source=KEPT,
    ),
    "deadline_card_days": _table(
        NOTHING, "the day case cards last said 'in N days'", day=TECHNICAL
    ),
    "outreach_counts": _table(
        NOTHING,
        "how many agreed after each link, per day: counts only",
        link_id=LINK,
        day=KEPT,
        count=KEPT,
    ),
    "selfhelp_events": _table(
        NOTHING,
        "which quick answers were offered and used; no resident id",
        id=TECHNICAL,
        answer_id=KEPT,
        event=KEPT,
        case_id=LINK,
        language=KEPT,
        day=KEPT,
    ),
    "schema_version": _table(
        NOTHING, "migrations applied", version=TECHNICAL, name=TECHNICAL, applied_at=TECHNICAL
    ),
}

# The key file (bot/core/keystore.py), attached as schema "keys": a resident's key is deleted
# when they are erased, which makes every sealed copy of their data unreadable.
KEY_FILE_TABLES: dict[str, Table] = {
    "resident_keys": _table(RESIDENT, "deleted", owner=ID, key=TECHNICAL),
}
