-- Machine translations of case messages (bot/translation, issue 15) and each resident's choice
-- whether their own messages are translated.
--
-- Erasure, by the ids each table holds:
-- message_translations holds message_id (case_messages.id) and case_id (cases.id). A row goes
--   with its message (ON DELETE CASCADE: erasing a resident deletes their case_messages, a
--   discarded draft its case) and with the case's content at retention
--   (bot/privacy/repository.py, erase_case_content deletes by case_id). It is also the
--   translation cache: identical texts are found by `digest`, so the cache never holds anything
--   but translations of messages still kept.
-- translation_preferences holds resident_id (residents.user_id), ON DELETE CASCADE.
CREATE TABLE message_translations (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES case_messages (id) ON DELETE CASCADE,
    case_id     INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    source      TEXT    NOT NULL,   -- the original's language, as detected or as set
    target      TEXT    NOT NULL,
    -- 1: every protected fragment (number, link, term) came back in its place.
    complete    INTEGER NOT NULL DEFAULT 1 CHECK (complete IN (0, 1)),
    provider    TEXT    NOT NULL,   -- e.g. LibreTranslate, for the privacy record
    -- Keyed fingerprint of (source asked for, target, original text): the cache key, never the
    -- text itself (bot/core/crypto.py Cipher.digest).
    digest      TEXT    NOT NULL,
    text        TEXT    NOT NULL,   -- the translation; sealed like message text at rest
    created_at  TEXT    NOT NULL,
    UNIQUE (message_id, target)
);
CREATE INDEX message_translations_by_digest ON message_translations (digest);
CREATE INDEX message_translations_by_case ON message_translations (case_id);

-- A row only once a resident has chosen; no row means their messages are translated.
CREATE TABLE translation_preferences (
    resident_id  INTEGER PRIMARY KEY REFERENCES residents (user_id) ON DELETE CASCADE,
    own_messages INTEGER NOT NULL CHECK (own_messages IN (0, 1)),
    updated_at   TEXT    NOT NULL
);
