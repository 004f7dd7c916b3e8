-- The plain queue of the bench: send, then take-and-finish. Two transactions per job.
INSERT INTO plain_job (payload) VALUES ('{"n": 1}');
DELETE FROM plain_job WHERE id IN (SELECT id FROM plain_job ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id;
