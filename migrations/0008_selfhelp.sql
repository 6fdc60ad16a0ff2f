-- Self-help answers offered before a case opens, and what residents did with them: counts for
-- staff and the report, so content can be improved. No resident id and no text: the case link
-- only tells staff which answers that resident saw before asking.
CREATE TABLE selfhelp_events (
    id        INTEGER PRIMARY KEY,
    answer_id TEXT    NOT NULL,
    event     TEXT    NOT NULL CHECK (event IN ('suggested', 'opened', 'helped', 'asked')),
    -- The (draft) case the suggestion was made for; NULL when browsing, or when the resident
    -- said it helped and the draft was discarded.
    case_id   INTEGER REFERENCES cases (id) ON DELETE SET NULL,
    language  TEXT    NOT NULL,
    day       TEXT    NOT NULL   -- YYYY-MM-DD (UTC)
);

-- The case card lists what its resident saw; the report counts a period.
CREATE INDEX selfhelp_by_case ON selfhelp_events (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX selfhelp_by_day ON selfhelp_events (day, answer_id);

-- A draft that is waiting for the resident's "that helped" / "I still want to ask" keeps the
-- answers it was offered, so a restart in between loses nothing.
ALTER TABLE cases ADD COLUMN suggested TEXT;
