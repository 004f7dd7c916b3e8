-- Queues: create (defaults and every setting), alter (NULL leaves a setting unchanged), drop
-- (refused while jobs would be lost, unless force), list_queues with its counts by state, and
-- every bad name and setting with its SQLSTATE.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
-- settings shows the settings of this file's queues (names start with q_queue, any case).
CREATE VIEW pg_temp.settings AS
SELECT queue, lease_duration, max_attempts, backoff_base, backoff_max, backoff_jitter, retention,
       dead_letter_retention, max_size
  FROM pgjobq.list_queues() WHERE lower(queue) LIKE 'q\_queue%' ORDER BY queue;

-- Defaults: 30 s leases, 5 attempts, backoff 1 s doubling up to 1 hour with 10 % jitter, finished
-- jobs kept 7 days, dead letters kept forever, unbounded; created_at is pgjobq.now().
SELECT pgjobq.create_queue('q_queue');
SELECT * FROM pgjobq.list_queues() WHERE queue = 'q_queue';

-- Every setting at once; names may use letters, digits, _ . : - and are case-sensitive.
SELECT pgjobq.create_queue('Q_queue.two:x-1', lease_duration => '5 minutes', max_attempts => 10,
    backoff_base => '2 seconds', backoff_max => '10 minutes', backoff_jitter => 0,
    retention => '1 day', dead_letter_retention => '30 days', max_size => 1000);
SELECT pgjobq.create_queue('q_queue.TWO:X-1');
SELECT * FROM pg_temp.settings;
-- The limits themselves are accepted.
SELECT pgjobq.create_queue('q_queue_limits', lease_duration => '1 second', max_attempts => 1,
    backoff_base => '0', backoff_max => '0', backoff_jitter => 1, retention => '0');
SELECT pgjobq.alter_queue('q_queue_limits', lease_duration => '7 days', max_attempts => 1000,
    backoff_max => '30 days', backoff_base => '30 days', dead_letter_retention => '1 microsecond',
    max_size => 1);
SELECT * FROM pg_temp.settings WHERE queue = 'q_queue_limits';

-- alter_queue: given settings change, NULL ones stay.
SELECT pgjobq.alter_queue('q_queue', max_attempts => 3, backoff_jitter => 0.5);
SELECT * FROM pg_temp.settings WHERE queue = 'q_queue';
SELECT pgjobq.alter_queue('q_queue', lease_duration => '1 hour', backoff_base => '10 seconds',
    backoff_max => '2 hours', retention => '2 days', dead_letter_retention => '90 days');
SELECT * FROM pg_temp.settings WHERE queue = 'q_queue';
SELECT pgjobq.alter_queue('q_queue');
SELECT pgjobq.alter_queue('q_queue', dead_letter_retention => NULL, max_size => NULL);
SELECT * FROM pg_temp.settings WHERE queue = 'q_queue';
-- A refused change changes nothing, not even the valid settings given with it.
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue', max_attempts => 7, backoff_jitter => 2)$$);
SELECT * FROM pg_temp.settings WHERE queue = 'q_queue';

-- list_queues counts jobs by state: a delayed job is scheduled until its time, then available;
-- a failed job is retrying until its backoff passes, then available.
SELECT pgjobq.alter_queue('q_queue', max_attempts => 2, backoff_jitter => 0, backoff_base => '1 minute');
SELECT count(*) FROM pgjobq.send_batch('q_queue', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[]);
SELECT pgjobq.send('q_queue', '{"n": 5}', delay => '1 hour') > 0 AS sent;
SELECT pgjobq.send('q_queue', '{"n": 6}', delay => '1 minute') > 0 AS sent;
SELECT payload FROM pgjobq.receive('q_queue');                                     -- n 1 leased
SELECT pgjobq.nack(id, lease_token, 'soon again') FROM pgjobq.receive('q_queue');  -- n 2 retrying
SELECT pgjobq.nack(id, lease_token, retry_in => '0') FROM pgjobq.receive('q_queue');
SELECT pgjobq.nack(id, lease_token, 'twice') FROM pgjobq.receive('q_queue');       -- n 3 dead
SELECT queue, scheduled, available, leased, retrying, dead FROM pgjobq.list_queues() WHERE queue = 'q_queue';
SET pgjobq.now = '2030-01-01 00:01:00+00';
SELECT queue, scheduled, available, leased, retrying, dead FROM pgjobq.list_queues() WHERE queue = 'q_queue';
SET pgjobq.now = '2030-01-01 00:00:00+00';

-- drop_queue refuses while live or dead-lettered jobs would be lost, unless force.
SELECT queue_id AS qid FROM pgjobq.queue WHERE name = 'q_queue' \gset
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue')$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue', force => false)$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue', force => NULL)$$);
-- Dead letters alone are enough to refuse.
SELECT pgjobq.create_queue('q_queue_dead', max_attempts => 1);
SELECT pgjobq.send('q_queue_dead', '{}') > 0 AS sent;
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_queue_dead');
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue_dead')$$);
SELECT pgjobq.purge_dead('q_queue_dead');
SELECT pgjobq.drop_queue('q_queue_dead');
-- Finished jobs do not hold a queue back; they go with it.
SELECT pgjobq.create_queue('q_queue_done');
SELECT pgjobq.send('q_queue_done', '{}') AS done_id \gset
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_queue_done');
SELECT pgjobq.drop_queue('q_queue_done');
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.get_job(%s)', :done_id)), '\m' || :done_id || '\M', '<id>') AS try;
-- force drops the queue with every job it had, in every table.
SELECT pgjobq.drop_queue('q_queue', force => true);
SELECT (SELECT count(*) FROM pgjobq.queue WHERE queue_id = :qid) AS queues,
       (SELECT count(*) FROM pgjobq.job WHERE queue_id = :qid) AS jobs,
       (SELECT count(*) FROM pgjobq.dead_letter WHERE queue_id = :qid) AS dead,
       (SELECT count(*) FROM pgjobq.job_archive WHERE queue_id = :qid) AS archived,
       (SELECT count(*) FROM pgjobq.queue_size WHERE queue_id = :qid) AS counters;
SELECT pg_temp.try($$SELECT pgjobq.receive('q_queue')$$);
-- The name is free again, and the new queue starts empty with the defaults.
SELECT pgjobq.create_queue('q_queue');
SELECT queue, max_attempts, scheduled, available, leased, retrying, dead
  FROM pgjobq.list_queues() WHERE queue = 'q_queue';
SELECT pgjobq.drop_queue('q_queue');
SELECT pgjobq.drop_queue('Q_queue.two:x-1');
SELECT pgjobq.drop_queue('q_queue.TWO:X-1');
SELECT pgjobq.drop_queue('q_queue_limits');
SELECT count(*) FROM pg_temp.settings;

-- Bad names: NULL, empty, too long, a bad first character, bad characters.
SELECT pgjobq.create_queue('q_queue_bad');
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_bad')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_bad', max_attempts => 9)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_' || repeat('a', 56))$$);  -- 64
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_' || repeat('a', 55))$$);  -- 63: fine
SELECT pg_temp.try($$SELECT pgjobq.create_queue('has space')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('_leading')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('-leading')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('.leading')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('semi;colon')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('quote''s')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('sl/ash')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('star*')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue(E'new\nline')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue(E'trailing\n')$$);

-- Bad settings, one at a time: each names the setting and the value.
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', lease_duration => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', lease_duration => '999 milliseconds')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', lease_duration => '7 days 1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', lease_duration => '1 month')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', lease_duration => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', max_attempts => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', max_attempts => -1)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', max_attempts => 1001)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', max_attempts => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_base => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_base => '2 hours', backoff_max => '1 hour')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_max => '30 days 1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_base => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_max => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_jitter => 1.5)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_jitter => -0.1)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_jitter => 'NaN')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_jitter => 'Infinity')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', backoff_jitter => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', retention => '-1 day')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', retention => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', dead_letter_retention => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', dead_letter_retention => '-1 day')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', max_size => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_x', max_size => -5)$$);
-- alter_queue checks the same rules, against the settings it would leave.
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', lease_duration => '8 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', max_attempts => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', max_attempts => 1001)$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', backoff_base => '2 hours')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', backoff_max => '500 milliseconds')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', backoff_jitter => 1.5)$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', retention => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', dead_letter_retention => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', max_size => 0)$$);
-- Unknown and NULL queues.
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_nope', max_attempts => 2)$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue(NULL, max_attempts => 2)$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue_nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue_nope', force => true)$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue(NULL)$$);
-- Only the valid names made queues, and q_queue_bad kept its defaults.
SELECT * FROM pg_temp.settings;
SELECT pgjobq.drop_queue('q_queue_bad');
SELECT pgjobq.drop_queue('q_queue_' || repeat('a', 55));
SELECT count(*) FROM pg_temp.settings;
