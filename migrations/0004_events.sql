-- Events, subscriptions, "I'm coming", and the broadcast outbox.

-- Residents are asked once, after consent, whether they want announcements (opt-in).
ALTER TABLE residents ADD COLUMN announcements_asked INTEGER NOT NULL DEFAULT 0;

CREATE TABLE subscriptions (
    resident_id INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    district    TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (resident_id, district)
);
CREATE INDEX subscriptions_by_district ON subscriptions (district);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    starts_at     TEXT    NOT NULL,            -- UTC
    place         TEXT    NOT NULL,
    districts     TEXT    NOT NULL,            -- "Berliner Platz", "Rieth" or both, "|"-separated
    photo_file_id TEXT,
    -- draft: being written; scheduled: publish_at set; published; cancelled.
    status        TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'published',
                                                     'cancelled')),
    publish_at    TEXT,                        -- UTC, for scheduled
    remind        INTEGER NOT NULL DEFAULT 1,  -- remind those coming, the day before
    reminded      INTEGER NOT NULL DEFAULT 0,
    created_by    INTEGER NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);
CREATE INDEX events_by_status ON events (status, starts_at);

-- German is required; other languages optional (a resident without one gets German + a note).
CREATE TABLE event_texts (
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    language TEXT    NOT NULL,
    title    TEXT    NOT NULL,
    body     TEXT    NOT NULL,
    PRIMARY KEY (event_id, language)
);

CREATE TABLE rsvps (
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    resident_id INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (event_id, resident_id)
);

-- A staff member's event or notice being written, step by step (survives a restart).
CREATE TABLE staff_drafts (
    staff_id   INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('event', 'notice')),
    step       TEXT NOT NULL,
    data       TEXT NOT NULL,   -- JSON
    updated_at TEXT NOT NULL
);

-- One broadcast = one message to many residents; one delivery row per recipient (the outbox).
CREATE TABLE broadcasts (
    id                  INTEGER PRIMARY KEY,
    kind                TEXT    NOT NULL CHECK (kind IN ('event', 'update', 'cancel', 'reminder',
                                                         'notice')),
    event_id            INTEGER REFERENCES events (id) ON DELETE CASCADE,
    started_by          INTEGER,
    progress_chat_id    INTEGER,
    progress_message_id INTEGER,
    status              TEXT    NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'done')),
    created_at          TEXT    NOT NULL,
    finished_at         TEXT
);

CREATE TABLE broadcast_texts (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    language     TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    PRIMARY KEY (broadcast_id, language)
);

-- pending: to send; sending: handed to Telegram (not resent after a crash: no second copy);
-- sent; blocked (403, the resident is skipped from then on); failed (other refusal).
CREATE TABLE deliveries (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    resident_id  INTEGER NOT NULL,
    chat_id      INTEGER NOT NULL,
    language     TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'blocked', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    message_id   INTEGER,
    updated_at   TEXT,
    PRIMARY KEY (broadcast_id, resident_id)
);
CREATE INDEX deliveries_due ON deliveries (status, broadcast_id) WHERE status = 'pending';
