-- Receive: order, batch size, lease duration, attribute filters, delayed jobs, bad input.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pgjobq.create_queue('q_recv', lease_duration => '1 minute');
SELECT nextval('pgjobq.job_id_seq') AS base \gset

-- Priority first, then send order.
SELECT count(*) FROM pgjobq.send_batch('q_recv', ARRAY['{"n": 1}', '{"n": 2}']::jsonb[]);
SELECT count(*) FROM pgjobq.send_batch('q_recv', ARRAY['{"n": 3}', '{"n": 4}']::jsonb[], priority => 5);
SELECT count(*) FROM pgjobq.send_batch('q_recv', ARRAY['{"n": 5}']::jsonb[], priority => -5);
SELECT id - :base AS id, payload, attempt, priority, lease_token IS NOT NULL AS has_token,
       lease_expires_at, created_at
  FROM pgjobq.receive('q_recv', max_jobs => 3);
-- Leased jobs are not received again; the rest come in order.
SELECT id - :base AS id, payload, lease_expires_at FROM pgjobq.receive('q_recv', max_jobs => 10, lease_duration => '5 minutes');
SELECT count(*) FROM pgjobq.receive('q_recv', max_jobs => 10);
-- Every delivery has its own token.
SELECT count(DISTINCT lease_token) AS tokens, count(*) AS leased FROM pgjobq.job
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_recv');

-- Filters: attributes containing the filter, nested values; '{}' filters nothing.
SELECT count(*) FROM pgjobq.send_batch('q_recv',
    ARRAY['{"n": 6}', '{"n": 7}', '{"n": 8}', '{"n": 9}']::jsonb[],
    attributes => ARRAY['{"tenant": "acme", "region": "eu"}', '{"tenant": "acme", "tags": ["a", "b"]}',
                        '{"tenant": "other"}', '{}']::jsonb[]);
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tenant": "nobody"}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tags": ["b"]}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{"tenant": "acme"}');
SELECT id - :base AS id, payload FROM pgjobq.receive('q_recv', 10, filter => '{}');

-- A delayed job is not received before its time, and is at its time.
SELECT pgjobq.create_queue('q_recv_later');
SELECT pgjobq.send('q_recv_later', '{"n": 10}', delay => '10 minutes') - :base AS id;
SET pgjobq.now = '2030-01-01 00:09:59.999999+00';
SELECT count(*) FROM pgjobq.receive('q_recv_later', 10);
SET pgjobq.now = '2030-01-01 00:10:00+00';
SELECT id - :base AS id, payload, attempt FROM pgjobq.receive('q_recv_later', 10);

-- Leases taken at 00:00 for one minute have expired by now: those jobs are delivered again.
SELECT id - :base AS id, attempt FROM pgjobq.receive('q_recv', 10) ORDER BY id;

-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.receive('nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', -1)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', 10001)$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '-5 seconds')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', lease_duration => '8 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => '["tenant"]')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => '"acme"')$$);
SELECT pg_temp.try($$SELECT pgjobq.receive('q_recv', filter => 'null')$$);

SELECT pgjobq.drop_queue('q_recv', force => true);
SELECT pgjobq.drop_queue('q_recv_later', force => true);
