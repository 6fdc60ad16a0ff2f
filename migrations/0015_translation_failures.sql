-- A translation that failed is remembered for its message (issue 15, the relay): a delivery
-- retried, or sent again by staff after an uncertain outcome, sends what it sent the first
-- time (the original with "translation failed"), never a different text. Such a row has
-- `failure` set (timeout, unavailable, rate_limited, quota, refused, garbage) and an empty
-- sealed text; it is never used as the cache for another message (by_digest skips it).
--
-- Erasure: no new ids; the rows go with their message and case like every translation
-- (migrations/0013_translations.sql).
ALTER TABLE message_translations ADD COLUMN failure TEXT;
