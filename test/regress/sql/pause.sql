-- pause_queue / resume_queue: a paused queue accepts sends and delivers nothing; resuming wakes
-- its receivers (NOTIFY pgjobq_wake, checked by the isolation spec wake) and delivery goes on.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_pause');
SELECT pgjobq.create_queue('q_pause_other');
SELECT pgjobq.send('q_pause', '{"n": 1}') AS first \gset
SELECT lease_token AS token FROM pgjobq.receive('q_pause') \gset
SELECT pgjobq.pause_queue('q_pause');
SELECT pgjobq.pause_queue('q_pause');  -- pausing twice is fine
-- Sends are accepted; nothing is delivered; next_due says nothing is coming.
SELECT pgjobq.send('q_pause', '{"n": 2}') - :first AS second;
SELECT pgjobq.send('q_pause', '{"n": 3}', delay => '1 minute') - :first AS third;
SELECT count(*) AS delivered FROM pgjobq.receive('q_pause', 10);
SELECT pgjobq.next_due('q_pause');
SELECT queue, available, scheduled, leased, paused FROM pgjobq.list_queues() WHERE queue LIKE 'q\_pause%';
-- The lease taken before the pause runs to its end: it can be acked.
SELECT pgjobq.ack(:first, :'token');
-- Other queues are not affected.
SELECT pgjobq.send('q_pause_other', '{}') IS NOT NULL AS sent;
SELECT count(*) AS delivered FROM pgjobq.receive('q_pause_other', 10);
-- Resumed: delivery goes on, in the usual order.
SELECT pgjobq.resume_queue('q_pause');
SELECT id - :first AS job, payload FROM pgjobq.receive('q_pause', 10);
SELECT pgjobq.next_due('q_pause');
-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.pause_queue(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.pause_queue('no_such_queue')$$);
SELECT pg_temp.try($$SELECT pgjobq.resume_queue('no_such_queue')$$);
SELECT pgjobq.drop_queue('q_pause', force => true);
SELECT pgjobq.drop_queue('q_pause_other', force => true);
