-- The funder report for a year (bot/reporting/report.py), measured in bench/scale.py (issue 18)
-- on 200,000 cases and 1,000,000 messages: 614 ms. Of it 296 ms joined every staff answer ever
-- written with its case to find each case's first one, 229 ms read the cases six times for the
-- period's counts and breakdowns, 57 ms read every announcement's row for its status, 28 ms
-- every case for its closing date. An index on cases.submitted_at alone did not help: each
-- case found still had to be read from the table. Each index below holds what its statement
-- counts, so that the statement reads a range of the index and not the table: the report takes
-- about 215 ms of CPU with them. They cost about 10 µs more per staff answer stored or case
-- changed.

-- The period's cases, with every column the report and the monthly series count them by.
CREATE INDEX cases_by_submitted ON cases (submitted_at, urgent, resident_id, topic, language, district);
-- Cases closed in the period (drafts that never were requests are not counted).
CREATE INDEX cases_by_closed ON cases (closed_at) WHERE submitted_at IS NOT NULL;
-- A case's first answer: one step into this index, not a read of each of its messages.
CREATE INDEX case_messages_first_answer ON case_messages (case_id, created_at) WHERE direction = 'out';
-- Announcements delivered in the period (the broadcasts' rows of the durable path).
CREATE INDEX outgoing_delivered_announcements ON outgoing (updated_at)
    WHERE batch_id IS NOT NULL AND status = 'sent';
