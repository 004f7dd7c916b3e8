-- Queues: create, alter, drop, list, and every bad name and setting.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try runs a statement and shows its SQLSTATE and message instead of failing.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- Defaults.
SELECT pgjobq.create_queue('q_queue');
SELECT * FROM pgjobq.list_queues() WHERE queue = 'q_queue';

-- Every setting at once; names may use letters, digits, _ . : -
SELECT pgjobq.create_queue('Q_queue.two:x-1', lease_duration => '5 minutes', max_attempts => 10,
    backoff_base => '2 seconds', backoff_max => '10 minutes', backoff_jitter => 0,
    retention => '1 day', dead_letter_retention => '30 days', max_size => 1000);
SELECT queue, lease_duration, max_attempts, backoff_base, backoff_max, backoff_jitter, retention,
       dead_letter_retention, max_size
  FROM pgjobq.list_queues() WHERE queue LIKE '%queue%' ORDER BY queue;

-- alter_queue: NULL leaves a setting unchanged.
SELECT pgjobq.alter_queue('q_queue', max_attempts => 3, backoff_jitter => 0.5);
SELECT queue, lease_duration, max_attempts, backoff_jitter FROM pgjobq.list_queues() WHERE queue = 'q_queue';
SELECT pgjobq.alter_queue('q_queue');
SELECT queue, lease_duration, max_attempts, backoff_jitter FROM pgjobq.list_queues() WHERE queue = 'q_queue';

-- list_queues counts jobs by state.
SELECT pgjobq.send('q_queue', '{}') > 0 AS sent;
SELECT pgjobq.send('q_queue', '{}') > 0 AS sent;
SELECT pgjobq.send('q_queue', '{}', delay => '1 hour') > 0 AS sent;
SELECT count(*) FROM pgjobq.receive('q_queue');
SELECT queue, scheduled, available, leased, retrying, dead FROM pgjobq.list_queues() WHERE queue = 'q_queue';

-- drop_queue refuses while jobs would be lost, unless force.
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('q_queue')$$);
SELECT pgjobq.drop_queue('q_queue', force => true);
SELECT count(*) FROM pgjobq.job;
SELECT pgjobq.drop_queue('Q_queue.two:x-1');
SELECT count(*) FROM pgjobq.list_queues() WHERE queue LIKE '%queue%';

-- Bad input.
SELECT pgjobq.create_queue('q_queue_bad');
SELECT pg_temp.try($$SELECT pgjobq.create_queue('q_queue_bad')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue(repeat('a', 64))$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue(repeat('a', 63))$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('has space')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('_leading')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('semi;colon')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', lease_duration => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', lease_duration => '999 milliseconds')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', lease_duration => '8 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', lease_duration => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', max_attempts => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', max_attempts => 1001)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', backoff_base => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', backoff_base => '2 hours', backoff_max => '1 hour')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', backoff_max => '31 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', backoff_jitter => 1.5)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', backoff_jitter => -0.1)$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', backoff_jitter => 'NaN')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', retention => '-1 day')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', dead_letter_retention => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.create_queue('x', max_size => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', max_attempts => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('q_queue_bad', backoff_base => '2 hours')$$);
SELECT pg_temp.try($$SELECT pgjobq.alter_queue('nope', max_attempts => 2)$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue('nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.drop_queue(NULL)$$);
-- Only the two valid names above made queues.
SELECT queue FROM pgjobq.list_queues() ORDER BY queue;
SELECT pgjobq.drop_queue('q_queue_bad');
SELECT pgjobq.drop_queue(repeat('a', 63));
