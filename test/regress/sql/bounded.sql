-- Bounded queues: a queue with max_size rejects a send that would overfill it (PJ003), a batch
-- all or nothing; finishing jobs frees places; wait_for_space says how many are free.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_bound', max_size => 3, max_attempts => 1);
SELECT pgjobq.wait_for_space('q_bound');
SELECT count(*) FROM pgjobq.send_batch('q_bound', ARRAY['{"n": 1}', '{"n": 2}']::jsonb[]);
SELECT pgjobq.wait_for_space('q_bound');
-- A batch that does not fit is refused whole.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_bound', ARRAY['{"n": 3}', '{"n": 4}']::jsonb[])$$);
SELECT count(*) FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_bound');
-- Delayed jobs take a place too.
SELECT pgjobq.send('q_bound', '{"n": 3}', delay => '1 hour') > 0 AS sent;
SELECT pg_temp.try($$SELECT pgjobq.send('q_bound', '{"n": 4}')$$);
-- wait_for_space on a full queue returns 0 and marks it as awaited by senders.
SELECT pgjobq.wait_for_space('q_bound');
SELECT senders_waiting FROM pgjobq.queue WHERE name = 'q_bound';
-- A completion frees a place and clears the mark (sending NOTIFY pgjobq_space).
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_bound');
SELECT senders_waiting FROM pgjobq.queue WHERE name = 'q_bound';
SELECT pgjobq.wait_for_space('q_bound');
SELECT pgjobq.send('q_bound', '{"n": 4}') > 0 AS sent;
-- Dead-lettering frees a place; redrive takes it back, and is refused when full.
SELECT pgjobq.nack(id, lease_token, 'no') FROM pgjobq.receive('q_bound');
SELECT pgjobq.wait_for_space('q_bound');
SELECT pgjobq.send('q_bound', '{"n": 5}') > 0 AS sent;
SELECT pg_temp.try($$SELECT pgjobq.redrive('q_bound')$$);
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_bound');
SELECT pgjobq.redrive('q_bound');
SELECT pgjobq.wait_for_space('q_bound');
-- A send rolled back gives its place back.
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_bound');
SELECT pgjobq.wait_for_space('q_bound');
BEGIN;
SELECT pgjobq.send('q_bound', '{"n": 6}') > 0 AS sent;
SELECT pgjobq.wait_for_space('q_bound');
ROLLBACK;
SELECT pgjobq.wait_for_space('q_bound');

-- Bounding a queue that already holds jobs counts them from the rows.
SELECT pgjobq.create_queue('q_bound_later');
SELECT count(*) FROM pgjobq.send_batch('q_bound_later', ARRAY['{}', '{}', '{}']::jsonb[]);
SELECT pgjobq.wait_for_space('q_bound_later');
SELECT pgjobq.alter_queue('q_bound_later', max_size => 5);
SELECT pgjobq.wait_for_space('q_bound_later');
SELECT pgjobq.alter_queue('q_bound_later', max_size => 2);
SELECT pgjobq.wait_for_space('q_bound_later');
SELECT pg_temp.try($$SELECT pgjobq.send('q_bound_later', '{}')$$);
-- maintain() recounts from the rows, undoing any drift.
SELECT pgjobq.alter_queue('q_bound_later', max_size => 10);
UPDATE pgjobq.queue_size SET sent = sent + 100
 WHERE shard = 0 AND queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_bound_later');
SELECT pgjobq.wait_for_space('q_bound_later');
SELECT pgjobq.maintain();
SELECT pgjobq.wait_for_space('q_bound_later');

-- wait_for_space for a send of several jobs: fewer free places than that marks the queue; more
-- than max_size could never fit.
UPDATE pgjobq.queue SET senders_waiting = false WHERE name = 'q_bound';
SELECT pgjobq.wait_for_space('q_bound', 2) AS free;
SELECT senders_waiting AS marked FROM pgjobq.queue WHERE name = 'q_bound';
SELECT pg_temp.try($$SELECT pgjobq.wait_for_space('q_bound', 1000)$$);
SELECT pg_temp.try($$SELECT pgjobq.wait_for_space('q_bound', 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.wait_for_space('nope')$$);
SELECT pgjobq.drop_queue('q_bound', force => true);
SELECT pgjobq.drop_queue('q_bound_later', force => true);
SELECT count(*) FROM pgjobq.queue_size WHERE queue_id NOT IN (SELECT queue_id FROM pgjobq.queue);
