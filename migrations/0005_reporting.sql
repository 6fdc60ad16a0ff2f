-- Anonymous daily counts for the funder report (they survive a resident's deletion), and the
-- monthly reports already sent to the admins.
CREATE TABLE daily_counts (
    kind     TEXT    NOT NULL,   -- e.g. resident_reached
    day      TEXT    NOT NULL,   -- YYYY-MM-DD (UTC)
    language TEXT    NOT NULL,
    count    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, day, language)
);

CREATE TABLE report_runs (
    month   TEXT PRIMARY KEY,    -- YYYY-MM of the period reported
    sent_at TEXT NOT NULL
);
