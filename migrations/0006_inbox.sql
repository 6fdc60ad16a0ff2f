-- The durable inbox: every update Telegram delivers is written here before Telegram is told it
-- arrived (the next getUpdates offset, or the webhook's 200). A kill -9 then loses nothing:
-- at start-up the bot handles what is still pending. The update_id also makes a redelivered
-- update recognisable, so it is never handled twice.
CREATE TABLE inbox (
    update_id   INTEGER PRIMARY KEY,
    -- The raw update as JSON, sealed like message content when THINKA_ENCRYPTION_KEY is set;
    -- NULL once handled: the inbox keeps no message text longer than needed.
    payload     TEXT,
    received_at TEXT NOT NULL,
    done_at     TEXT
);

-- Start-up looks for what is still pending; this keeps that a short scan however long the
-- history of handled update_ids is.
CREATE INDEX inbox_pending ON inbox (update_id) WHERE done_at IS NULL;
