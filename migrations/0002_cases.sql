-- Cases (a resident's request), their messages, the staff reply state and the audit log.
-- A case's id is its number shown to residents and staff ("#12").

CREATE TABLE cases (
    id              INTEGER PRIMARY KEY,
    -- NULL once the resident deleted their data: the anonymous row stays for the statistics.
    resident_id     INTEGER REFERENCES residents (user_id) ON DELETE SET NULL,
    -- draft: the resident is still choosing topic/district or has not written yet; staff do
    -- not see drafts. new: submitted, nobody took it. open: taken. waiting: staff answered and
    -- wait for the resident. closed.
    status          TEXT    NOT NULL DEFAULT 'draft'
                    CHECK (status IN ('draft', 'new', 'open', 'waiting', 'closed')),
    topic           TEXT    CHECK (topic IN ('debt', 'housing', 'letter', 'job', 'family', 'other')),
    district        TEXT,
    language        TEXT    NOT NULL,
    first_name      TEXT,   -- shown on the case card; erased with the resident's data
    assignee_id     INTEGER,
    urgent          INTEGER NOT NULL DEFAULT 0 CHECK (urgent IN (0, 1)),
    thread_id       INTEGER,          -- forum topic in the staff group, once created
    card_message_id INTEGER,          -- the case card inside that topic
    topic_title     TEXT,             -- the forum topic name last set (avoids needless edits)
    resident_blocked INTEGER NOT NULL DEFAULT 0 CHECK (resident_blocked IN (0, 1)),
    created_at      TEXT    NOT NULL,
    submitted_at    TEXT,
    closed_at       TEXT
);
CREATE INDEX cases_by_resident ON cases (resident_id, status);
-- /queue: open cases, urgent first, oldest first.
CREATE INDEX cases_queue ON cases (status, urgent, submitted_at);
CREATE UNIQUE INDEX cases_by_thread ON cases (thread_id) WHERE thread_id IS NOT NULL;

-- Every message of a case, stored before it is relayed: this table is also the relay outbox.
-- direction: in (resident -> staff), out (staff -> resident), note (internal, never relayed).
CREATE TABLE case_messages (
    id                 INTEGER PRIMARY KEY,
    case_id            INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    direction          TEXT    NOT NULL CHECK (direction IN ('in', 'out', 'note')),
    sender_id          INTEGER NOT NULL,
    kind               TEXT    NOT NULL,
    text               TEXT,
    file_id            TEXT,
    media_group_id     TEXT,
    -- Where the message was written; unique, so a message delivered twice is stored once.
    source_chat_id     INTEGER NOT NULL,
    source_message_id  INTEGER NOT NULL,
    -- pending: still to be copied; sent; failed: gave up (blocked, deleted); none: nothing to
    -- relay (internal note, or no staff group configured).
    relay_status       TEXT    NOT NULL CHECK (relay_status IN ('pending', 'sent', 'failed', 'none')),
    relay_attempts     INTEGER NOT NULL DEFAULT 0,
    relay_error        TEXT,
    relay_after        TEXT,             -- retry not before (after a 429 or network error)
    relayed_chat_id    INTEGER,
    relayed_message_id INTEGER,
    template_key       TEXT,             -- set when sent with /t KEY
    created_at         TEXT    NOT NULL,
    UNIQUE (source_chat_id, source_message_id)
);
CREATE INDEX case_messages_by_case ON case_messages (case_id, id);
CREATE INDEX case_messages_pending ON case_messages (relay_status, id) WHERE relay_status = 'pending';

-- A staff member who pressed "reply" in /queue: their next message goes to that case.
CREATE TABLE staff_reply_targets (
    staff_id   INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    created_at TEXT    NOT NULL
);

-- Who did what to which case, when. Never message content.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    staff_id INTEGER NOT NULL,
    action   TEXT    NOT NULL,
    case_id  INTEGER,
    at       TEXT    NOT NULL
);
CREATE INDEX audit_log_by_case ON audit_log (case_id, at);
