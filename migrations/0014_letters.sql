-- Letters read from what residents send into a case (issue 16): a photo, a document (JPEG, PNG,
-- HEIC, PDF) or an album of them is one letter; the bot reads it and the case gets its deadline.
--
-- Ids held, for erasure (bot/residents/repository.py erase, bot/privacy/repository.py retention):
--   letters.case_id         -> cases.id (the resident only through cases.resident_id)
--   letter_pages.message_id -> case_messages.id, letter_pages.letter_id -> letters.id
--   case_deadlines.case_id  -> cases.id, case_deadlines.letter_id -> letters.id,
--   case_deadlines.set_by   =  a staff member's Telegram user id (who corrected the deadline)
--   deadline_card_days      holds no id at all
-- No table holds a resident id, a chat id or a file id of its own.

-- One row per letter. Written when the first page is stored, so a letter not yet read when
-- the bot stops is read after the restart.
CREATE TABLE letters (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    -- The album's media_group_id, or 'm' and the case_messages id of a single photo or file.
    group_key  TEXT    NOT NULL,
    -- pending: to be read; read: text found; unreadable: no text (the resident got a hint how to
    -- take a better photo); not_read: not an image, too large, engine failure, time limit.
    status     TEXT    NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'read', 'unreadable', 'not_read')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    read_after TEXT,              -- retry not before (a download failed)
    failure    TEXT,              -- why it was not read: reason codes, never content
    -- The extracted fields and the recognised text as JSON: content, sealed like message text
    -- (bot/core/crypto.py) and never logged.
    reading    TEXT,
    created_at TEXT    NOT NULL,  -- the first page arrived: deadlines "nach Zugang" count from it
    read_at    TEXT,
    UNIQUE (case_id, group_key)
);
CREATE INDEX letters_pending ON letters (id) WHERE status = 'pending';

-- The pages of a letter: the stored case messages (photos, documents), read in message order.
CREATE TABLE letter_pages (
    message_id INTEGER PRIMARY KEY REFERENCES case_messages (id) ON DELETE CASCADE,
    letter_id  INTEGER NOT NULL REFERENCES letters (id) ON DELETE CASCADE
);
CREATE INDEX letter_pages_by_letter ON letter_pages (letter_id, message_id);

-- The deadline of a case and the letter the case card shows: the nearest deadline read from its
-- letters, or what staff set with /frist (set_by).
CREATE TABLE case_deadlines (
    case_id     INTEGER PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    -- YYYY-MM-DD, in clear like an appointment's time: /queue orders by it and the reminder
    -- finds it in SQL; alone it says nothing about the letter. NULL: no deadline (none found, or
    -- staff cleared a wrong one).
    due_on      TEXT,
    -- 1: counted from receipt or from the letter date ("innerhalb von 14 Tagen nach Zugang"):
    -- an estimate, never shown as a certain date.
    estimated   INTEGER NOT NULL DEFAULT 0 CHECK (estimated IN (0, 1)),
    letter_id   INTEGER REFERENCES letters (id) ON DELETE SET NULL,
    -- Sealed JSON: sender kind, reference and the deadline's wording, for the case card.
    summary     TEXT,
    set_by      INTEGER,          -- staff member who corrected it; NULL: read from a letter
    set_at      TEXT    NOT NULL, -- a staff answer after this counts as "answered"
    reminded_at TEXT              -- the staff reminder went out (once per deadline)
);
CREATE INDEX case_deadlines_to_remind ON case_deadlines (due_on)
    WHERE due_on IS NOT NULL AND reminded_at IS NULL;

-- The local day the case cards' "in N days" were last renewed: once a day, also across restarts
-- (a restart must not edit every card again: the staff group takes 20 messages a minute).
CREATE TABLE deadline_card_days (
    day TEXT PRIMARY KEY  -- YYYY-MM-DD
);
