-- The one durable path for what the bot sends that carries state (bot/core/outgoing.py writes
-- it, bot/transport/courier.py sends it): staff answers, copies into the staff topics, new
-- topics and case cards, confirmations, quick-answer offers, appointment and case notices,
-- notices to staff, broadcasts. A row is written before it is sent (in the transaction of the
-- state change that causes it), marked 'sending' right before its request leaves, and settled
-- with Telegram's answer. A row found 'sending' after a kill, or whose answer was lost, is
-- 'uncertain': never sent again by itself, never dropped, shown to staff.
CREATE TABLE outgoing (
    id          INTEGER PRIMARY KEY,
    -- Queued once per key (e.g. "answer:17"): storing the same thing twice is a no-op.
    key         TEXT    UNIQUE,
    -- chat: chat_id; group: the staff group itself (a new topic); topic: the forum topic of
    -- case_id in the staff group, looked up when sent (a new case's topic is opened first);
    -- staff: where staff see case_id (its topic, or every admin's private chat without a
    -- staff group). Rows for the staff group are cancelled when none is configured.
    target      TEXT    NOT NULL CHECK (target IN ('chat', 'group', 'topic', 'staff')),
    chat_id     INTEGER,
    case_id     INTEGER REFERENCES cases (id) ON DELETE CASCADE,
    -- Erased with the resident (ResidentRepository.delete); broadcast rows keep only counts.
    resident_id INTEGER,
    batch_id    INTEGER REFERENCES broadcasts (id) ON DELETE CASCADE,
    -- Copies of one resident's messages share a limit (a burst, then one every few seconds,
    -- the rest as one digest), so one person cannot use up the staff group's budget.
    sender_id   INTEGER,
    -- Lower goes first (bot/core/outgoing.py Lane): answers to residents before copies into
    -- the staff group, broadcasts and acknowledgements last.
    lane        INTEGER NOT NULL,
    -- JSON, see bot/core/outgoing.py; sealed with THINKA_ENCRYPTION_KEY when it holds text.
    content     TEXT    NOT NULL,
    -- 1: sending it twice changes nothing visible (a reaction, a topic title): an uncertain
    -- outcome is simply tried again.
    idempotent  INTEGER NOT NULL DEFAULT 0 CHECK (idempotent IN (0, 1)),
    on_sent     TEXT,   -- JSON {"name", "args"}: run in the transaction that records delivery
    on_failed   TEXT,   -- JSON {"name", "args"}: run when it is refused or uncertain
    report      TEXT,   -- JSON {"chat", "thread", "reply_to"}: where staff see a failure
    label       TEXT,   -- what it is, for that report (an English msgid)
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'uncertain', 'blocked', 'failed',
                                  'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  TEXT,   -- after a network error or a 429 (UTC ISO 8601)
    error       TEXT,
    message_id  INTEGER,  -- of the message Telegram made (the thread id for a new topic)
    digest_id   INTEGER,  -- set when delivered inside a digest: the first row of that digest
    created_at  TEXT    NOT NULL,
    updated_at  TEXT
);
CREATE INDEX outgoing_due ON outgoing (lane, id) WHERE status = 'pending';
CREATE INDEX outgoing_unsettled ON outgoing (status) WHERE status IN ('sending', 'uncertain');
CREATE INDEX outgoing_by_batch ON outgoing (batch_id, status) WHERE batch_id IS NOT NULL;
CREATE INDEX outgoing_by_case ON outgoing (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX outgoing_by_resident ON outgoing (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX outgoing_by_digest ON outgoing (digest_id) WHERE digest_id IS NOT NULL;

-- What the relay had not delivered yet moves into the queue.
INSERT INTO outgoing (key, target, case_id, resident_id, sender_id, lane, content, on_sent,
                      on_failed, label, attempts, created_at)
SELECT 'copy:' || m.id, 'topic', m.case_id, c.resident_id, m.sender_id,
       CASE WHEN c.urgent THEN 30 ELSE 40 END,
       json_object('type', 'render', 'name', 'case.message', 'args', json_object('message', m.id)),
       json_object('name', 'case.delivered', 'args', json_object('message', m.id)),
       json_object('name', 'case.undelivered', 'args', json_object('message', m.id)),
       'a message of the resident', m.relay_attempts, m.created_at
FROM case_messages m JOIN cases c ON c.id = m.case_id
WHERE m.relay_status = 'pending' AND m.direction = 'in';

INSERT INTO outgoing (key, target, chat_id, case_id, resident_id, lane, content, on_sent,
                      on_failed, report, label, attempts, created_at)
SELECT 'answer:' || m.id, 'chat', r.chat_id, m.case_id, c.resident_id, 10,
       json_object('type', 'render', 'name', 'case.message', 'args', json_object('message', m.id)),
       json_object('name', 'case.delivered', 'args', json_object('message', m.id)),
       json_object('name', 'case.undelivered', 'args', json_object('message', m.id)),
       json_object('chat', m.source_chat_id,
                   'thread', CASE WHEN m.source_chat_id < 0 THEN c.thread_id END,
                   'reply_to', m.source_message_id),
       'this answer', m.relay_attempts, m.created_at
FROM case_messages m JOIN cases c ON c.id = m.case_id JOIN residents r ON r.user_id = c.resident_id
WHERE m.relay_status = 'pending' AND m.direction = 'out';

-- Open cases still without a forum topic get theirs (cancelled at once without a staff group).
INSERT INTO outgoing (key, target, chat_id, case_id, resident_id, lane, content, idempotent,
                      on_sent, created_at)
SELECT 'topic:' || c.id, 'group', NULL, c.id, c.resident_id, 20,
       json_object('type', 'render', 'name', 'case.topic', 'args', json_object('case', c.id)),
       1, json_object('name', 'case.topic_opened', 'args', json_object('case', c.id)),
       c.created_at
FROM cases c WHERE c.status IN ('new', 'open', 'waiting') AND c.thread_id IS NULL
  AND c.resident_id IS NOT NULL;
INSERT INTO outgoing (key, target, case_id, resident_id, lane, content, on_sent, label,
                      created_at)
SELECT 'card:' || c.id, 'topic', c.id, c.resident_id, 20,
       json_object('type', 'render', 'name', 'case.card', 'args', json_object('case', c.id)),
       json_object('name', 'case.card_sent', 'args', json_object('case', c.id)),
       'the case card', c.created_at
FROM cases c WHERE c.status IN ('new', 'open', 'waiting') AND c.thread_id IS NULL
  AND c.resident_id IS NOT NULL;

-- Notices for staff not delivered yet: the notice stays the appointment feature's record,
-- the queue delivers it.
INSERT INTO outgoing (key, target, case_id, lane, content, on_sent, label, attempts,
                      created_at)
SELECT 'notice:' || n.id, 'staff', n.case_id, 40,
       json_object('type', 'render', 'name', 'staff.notice', 'args', json_object('notice', n.id)),
       json_object('name', 'staff.notice_sent', 'args', json_object('notice', n.id)),
       'a notice for staff', n.attempts, n.created_at
FROM staff_notices n WHERE n.status = 'pending';

-- Broadcast deliveries become queue rows of their broadcast. A row the old outbox left
-- 'sending' was counted as sent without being known to be: it is uncertain now.
INSERT INTO outgoing (key, target, chat_id, resident_id, batch_id, lane, content, status,
                      attempts, error, message_id, created_at, updated_at)
SELECT 'broadcast:' || d.broadcast_id || ':' || d.resident_id, 'chat', d.chat_id,
       d.resident_id, d.broadcast_id, 80,
       json_object('type', 'render', 'name', 'broadcast',
                   'args', json_object('broadcast', d.broadcast_id, 'language', d.language)),
       CASE d.status WHEN 'sending' THEN 'uncertain'
                     WHEN 'sent' THEN CASE WHEN d.error = 'unconfirmed' THEN 'uncertain'
                                           ELSE 'sent' END
                     ELSE d.status END,
       d.attempts, d.error, d.message_id, b.created_at, d.updated_at
FROM deliveries d JOIN broadcasts b ON b.id = d.broadcast_id;
DROP TABLE deliveries;

-- rebuilds a table: foreign keys off
-- case_messages.relay_status gains 'uncertain' (a CHECK constraint cannot be altered: the
-- table is rebuilt with the same rows). The relay outbox index is gone: the queue has its own.
CREATE TABLE case_messages_new (
    id                 INTEGER PRIMARY KEY,
    case_id            INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    direction          TEXT    NOT NULL CHECK (direction IN ('in', 'out', 'note')),
    sender_id          INTEGER NOT NULL,
    kind               TEXT    NOT NULL,
    text               TEXT,
    file_id            TEXT,
    media_group_id     TEXT,
    source_chat_id     INTEGER NOT NULL,
    source_message_id  INTEGER NOT NULL,
    -- pending: on its way (see the outgoing row); sent; failed: refused (blocked, deleted);
    -- uncertain: Telegram did not confirm it, staff were shown; none: nothing to relay
    -- (internal note, a draft, or no staff group configured).
    relay_status       TEXT    NOT NULL
                       CHECK (relay_status IN ('pending', 'sent', 'failed', 'uncertain', 'none')),
    relay_attempts     INTEGER NOT NULL DEFAULT 0,
    relay_error        TEXT,
    relay_after        TEXT,             -- unused since 0010 (the queue keeps retry times)
    relayed_chat_id    INTEGER,
    relayed_message_id INTEGER,
    template_key       TEXT,
    created_at         TEXT    NOT NULL,
    UNIQUE (source_chat_id, source_message_id)
);
INSERT INTO case_messages_new SELECT id, case_id, direction, sender_id, kind, text, file_id,
    media_group_id, source_chat_id, source_message_id, relay_status, relay_attempts,
    relay_error, relay_after, relayed_chat_id, relayed_message_id, template_key, created_at
FROM case_messages;
DROP TABLE case_messages;
ALTER TABLE case_messages_new RENAME TO case_messages;
CREATE INDEX case_messages_by_case ON case_messages (case_id, id);
CREATE INDEX case_messages_with_content ON case_messages (case_id)
    WHERE text IS NOT NULL OR file_id IS NOT NULL;
