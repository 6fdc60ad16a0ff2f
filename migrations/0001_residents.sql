-- Residents: before consent only user_id, chat_id and language are filled in (data minimisation,
-- not even a timestamp); consent_at/consent_version record which privacy notice was agreed to
-- and when, and mark the moment somebody became a resident.
-- Times are ISO-8601 UTC text ("2026-11-26T11:30:00+00:00").
CREATE TABLE residents (
    user_id         INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    language        TEXT    NOT NULL,
    district        TEXT,
    consent_at      TEXT,
    consent_version INTEGER,
    last_seen_at    TEXT,
    blocked         INTEGER NOT NULL DEFAULT 0 CHECK (blocked IN (0, 1))
);

-- Anonymous counts that outlive a resident's deletion (what the funder may see): one row per
-- event kind, month and language, never a user id.
CREATE TABLE anonymous_counts (
    kind     TEXT    NOT NULL,
    month    TEXT    NOT NULL,   -- YYYY-MM
    language TEXT    NOT NULL,
    count    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, month, language)
);
