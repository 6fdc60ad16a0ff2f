-- Deep links from posters and flyers (bot/outreach, docs/outreach.md): which link brought how many
-- residents. Anonymous by construction: a link row holds what is printed under a poster's QR
-- code, a count row how many people agreed to the privacy notice on a day after arriving through
-- that link. Neither holds a user id, and a resident's row never points to a link.
CREATE TABLE outreach_links (
    id       INTEGER PRIMARY KEY,
    payload  TEXT    NOT NULL UNIQUE,  -- the start parameter, e.g. rieth-ar-treppenhaus-2027
    district TEXT    NOT NULL,         -- the district's name, e.g. Rieth
    language TEXT,
    source   TEXT
);

-- Counted at the first consent, in the same transaction as daily_counts' resident_reached, so
-- the residents reached without a link are exactly the rest.
CREATE TABLE outreach_counts (
    link_id INTEGER NOT NULL REFERENCES outreach_links (id),
    day     TEXT    NOT NULL,          -- YYYY-MM-DD (UTC), as daily_counts
    count   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (link_id, day)
);
