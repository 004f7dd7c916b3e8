-- Receive: priority then send order, max_jobs, lease duration, attribute filters, leased and
-- delayed jobs, and every bad input.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_recv', lease_duration => '1 minute');
-- Ids are shown relative to :base so that the file runs in any order.
SELECT nextval('pgjobq.job_id_seq') AS base \gset

-- Highest priority first, then send order; each delivery is attempt 1 with a lease token and
-- the queue's lease duration.
SELECT count(*) FROM pgjobq.send_batch('q_recv', ARRAY['{"n": 1}', '{"n": 2}']::jsonb[]);
SELECT count(*) FROM pgjobq.send_batch('q_recv', ARRAY['{"n": 3}', '{"n": 4}']::jsonb[], priority => 5);
SELECT count(*) FROM pgjobq.send_batch('q_recv', ARRAY['{"n": 5}']::jsonb[], priority => -5);
SELECT id - :base AS id, payload, attributes, attempt, priority, lease_token IS NOT NULL AS has_token,
       lease_expires_at, created_at
  FROM pgjobq.receive('q_recv', max_jobs => 3);
-- Leased jobs are not received again; the rest come in order, with the lease asked for.
SELECT id - :base AS id, payload, lease_expires_at
  FROM pgjobq.receive('q_recv', max_jobs => 10, lease_duration => '5 minutes');
SELECT count(*) FROM pgjobq.receive('q_recv', max_jobs => 10);
-- Every delivery has its own token, and get_job agrees with what receive said.
SELECT count(DISTINCT lease_token) AS tokens, count(*) AS leased FROM pgjobq.job
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_recv');
SELECT id - :base AS id, state, attempts, lease_expires_at FROM pgjobq.get_job(:base + 2);

-- Filters keep jobs whose attributes contain the filter: every key given, nested objects and
-- arrays by containment. A '{}' or NULL filter filters nothing.
SELECT count(*) FROM pgjobq.send_batch('q_recv',
    ARRAY['{"n": 6}', '{"n": 7}', '{"n": 8}', '{"n": 9}', '{"n": 10}', '{"n": 11}']::jsonb[],
    attributes => ARRAY['{"tenant": "acme", "region": "eu"}',
                        '{"tenant": "acme", "tags": ["a", "b"]}',
                        '{"tenant": "other", "meta": {"region": "us", "tier": 1}}',
                        '{}',
                        '{"tenant": "acme", "region": "us"}',
                        '{"tenant": "other"}']::jsonb[]);
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tenant": "nobody"}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tenant": "acme", "region": "asia"}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tags": ["b"]}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"meta": {"tier": 1}}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tenant": "acme", "region": "us"}');
SELECT id - :base AS id, payload, attributes FROM pgjobq.receive('q_recv', 10, filter => '{"tenant": "acme"}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 1, filter => '{}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => NULL);

-- A delayed job is not received before its time, and is at its time or later.
SELECT pgjobq.create_queue('q_recv_later');
SELECT pgjobq.send('q_recv_later', '{"n": 12}', delay => '10 minutes') - :base AS id;
SELECT pgjobq.send('q_recv_later', '{"n": 13}', run_at => '2030-01-01 00:11:00+00') - :base AS id;
SELECT pgjobq.send('q_recv_later', '{"n": 14}', delay => '10 minutes', priority => 9) - :base AS id;
SET pgjobq.now = '2030-01-01 00:09:59.999999+00';
SELECT count(*) FROM pgjobq.receive('q_recv_later', 10);
SET pgjobq.now = '2030-01-01 00:10:00+00';
SELECT id - :base AS id, payload, attempt FROM pgjobq.receive('q_recv_later', 10);
SET pgjobq.now = '2030-01-01 01:00:00+00';
SELECT id - :base AS id, payload, attempt FROM pgjobq.receive('q_recv_later', 10);

-- Leases taken at 00:00 for one or five minutes have expired by now: those jobs are delivered
-- again, as their second attempt.
SELECT id - :base AS id, attempt FROM pgjobq.receive('q_recv', 20) ORDER BY id;

-- Limits that are accepted.
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', 10000)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '7 days')$$);

-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv_nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', -1)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', 10001)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '-5 seconds')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '999 milliseconds')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '8 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => '["tenant"]')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => '"acme"')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => '42')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => 'null')$$);

SELECT pgjobq.drop_queue('q_recv', force => true);
SELECT pgjobq.drop_queue('q_recv_later', force => true);
