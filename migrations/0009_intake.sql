-- The inbox learns what became of an update, not only whether it is done (bot/transport/inbox.py
-- explains the rule): handled ('done'), unreadable or taking the process down ('quarantined'),
-- failing again and again in its handler ('parked'). Quarantined and parked updates keep their
-- payload, so they can be looked at (`python -m bot inbox`) and handled again after a fix.
ALTER TABLE inbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'done', 'quarantined', 'parked'));
UPDATE inbox SET state = 'done' WHERE done_at IS NOT NULL;

-- The update's type (message, callback_query, poll_answer …): what the logs and the admins are
-- told instead of its content.
ALTER TABLE inbox ADD COLUMN kind TEXT;
-- Whose update it is (the chat, else the user): updates of one chat are handled in order and
-- one chat gets only its share of memory; also what an erasure looks for.
ALTER TABLE inbox ADD COLUMN chat_id INTEGER;
-- Handling started (written before each start) and failed with an error the bot saw. More
-- starts than failures on a pending update mean the process died while handling it.
ALTER TABLE inbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
-- The class name of the last failure (never its message, which may quote content).
ALTER TABLE inbox ADD COLUMN error TEXT;

DROP INDEX inbox_pending;
-- The backlog in order, with the chat of each row, read without touching the table.
CREATE INDEX inbox_pending ON inbox (update_id, chat_id) WHERE state = 'pending';
CREATE INDEX inbox_held ON inbox (state, update_id) WHERE state IN ('quarantined', 'parked');
