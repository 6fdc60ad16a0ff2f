-- Appointments at the contact points, the seats they hold, reminders sent, closed days added by
-- staff, the staff digest, a resident's booking in progress and notices for staff.

CREATE TABLE appointments (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    location    TEXT    NOT NULL,
    starts_at   TEXT    NOT NULL,   -- UTC, ISO 8601
    ends_at     TEXT    NOT NULL,
    -- requested by the resident; proposed by staff (another time); confirmed; declined by staff;
    -- cancelled by the resident; done / no_show marked by staff afterwards.
    status      TEXT    NOT NULL CHECK (status IN ('requested', 'proposed', 'confirmed', 'declined',
                                                   'cancelled', 'done', 'no_show')),
    note        TEXT,
    sequence    INTEGER NOT NULL DEFAULT 0,  -- bumped on every move (calendar apps update)
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
);
CREATE INDEX appointments_by_status_start ON appointments (status, starts_at);
CREATE INDEX appointments_by_case ON appointments (case_id);

-- A held seat in a slot, while the appointment is requested, proposed or confirmed. The UNIQUE
-- seat number and its CHECK against the slot's capacity make overbooking impossible in SQLite
-- itself, whatever the Python code above it does.
CREATE TABLE slot_seats (
    appointment_id INTEGER PRIMARY KEY REFERENCES appointments (id) ON DELETE CASCADE,
    location       TEXT    NOT NULL,
    starts_at      TEXT    NOT NULL,
    seat           INTEGER NOT NULL,
    capacity       INTEGER NOT NULL,
    CHECK (seat BETWEEN 1 AND capacity),
    UNIQUE (location, starts_at, seat)
);

-- One row per reminder and appointment: written before sending, so none goes out twice.
CREATE TABLE appointment_reminders (
    appointment_id INTEGER NOT NULL REFERENCES appointments (id) ON DELETE CASCADE,
    kind           TEXT    NOT NULL,   -- e.g. "24h"
    state          TEXT    NOT NULL CHECK (state IN ('sent', 'skipped')),
    at             TEXT    NOT NULL,
    PRIMARY KEY (appointment_id, kind)
);

CREATE TABLE closed_days (
    location TEXT    NOT NULL,   -- a location key, or '*' for all
    day      TEXT    NOT NULL,   -- YYYY-MM-DD, local
    added_by INTEGER,
    PRIMARY KEY (location, day)
);

CREATE TABLE staff_digests (
    day     TEXT PRIMARY KEY,    -- YYYY-MM-DD, local
    sent_at TEXT NOT NULL
);

-- A resident choosing an appointment, step by step (survives a restart).
CREATE TABLE appointment_drafts (
    resident_id   INTEGER PRIMARY KEY REFERENCES residents (user_id) ON DELETE CASCADE,
    topic         TEXT,
    location      TEXT,
    day           TEXT,
    starts_at     TEXT,
    note          TEXT,
    awaiting_note INTEGER NOT NULL DEFAULT 0,
    replaces      INTEGER REFERENCES appointments (id) ON DELETE SET NULL,
    updated_at    TEXT NOT NULL
);

-- Notices for staff with buttons (an appointment request, a cancellation …), delivered into the
-- case's topic by the Relay, like case messages: stored first, retried until sent.
CREATE TABLE staff_notices (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    text        TEXT    NOT NULL,
    buttons     TEXT,              -- JSON: [[{"text": …, "callback_data": …}]]
    status      TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    relay_after TEXT,
    created_at  TEXT    NOT NULL
);
CREATE INDEX staff_notices_pending ON staff_notices (status, id) WHERE status = 'pending';
