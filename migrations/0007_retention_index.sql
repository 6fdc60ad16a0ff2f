-- The retention pass looks for closed cases that still hold message content. Without this index
-- it reads every message of every closed case ever (bench/scale.py: about 0.4 s on 1,000,000
-- messages, while every other update waits for the database lock); with it, only the messages
-- that still have content, which retention keeps few.
CREATE INDEX case_messages_with_content ON case_messages (case_id)
    WHERE text IS NOT NULL OR file_id IS NOT NULL;
