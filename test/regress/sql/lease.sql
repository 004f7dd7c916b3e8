-- Ack, nack and extend, single and bulk (ack_many, extend_many): each is fenced by the lease
-- token; a stale token is an expected outcome (false, NULL or left out) that changes nothing.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_lease', lease_duration => '1 minute', backoff_jitter => 0,
                           backoff_base => '10 seconds');
-- Ids are shown relative to :base so that the file runs in any order.
SELECT nextval('pgjobq.job_id_seq') AS base \gset
SELECT count(*) FROM pgjobq.send_batch('q_lease',
    ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}', '{"n": 5}']::jsonb[]);

-- ack completes the job with its result; a wrong token, or a second ack, returns false and
-- changes nothing.
SELECT id, lease_token FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.ack(:id, gen_random_uuid());
SELECT id - :base AS id, state, attempts, result FROM pgjobq.get_job(:id);
SELECT pgjobq.ack(:id, :'lease_token', result => '{"ok": 1}');
SELECT pgjobq.ack(:id, :'lease_token', result => '{"ok": 2}');
SELECT id - :base AS id, state, attempts, result, errors, finished_at FROM pgjobq.get_job(:id);
-- An unknown job id is a stale lease too, not an error.
SELECT pgjobq.ack(-1, gen_random_uuid());

-- nack keeps the error in the attempt history and retries after the backoff (base 10 s, no
-- jitter); a wrong token, or a second nack, returns false and changes nothing.
SELECT id, lease_token FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.nack(:id, gen_random_uuid(), 'not mine');
SELECT id - :base AS id, state, attempts, errors FROM pgjobq.get_job(:id);
SELECT pgjobq.nack(:id, :'lease_token', 'it broke');
SELECT pgjobq.nack(:id, :'lease_token', 'again');
SELECT id - :base AS id, state, attempts, run_at, lease_expires_at, errors FROM pgjobq.get_job(:id);
-- The lease token of a retrying job is gone: ack and extend with it fail too.
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.extend(:id, :'lease_token');
-- retry_in overrides the backoff; without an error the history says null.
SELECT id AS id2, lease_token AS token2 FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.nack(:id2, :'token2', retry_in => '1 hour');
SELECT id - :base AS id, state, run_at, errors FROM pgjobq.get_job(:id2);
-- An error is kept up to 8192 characters; retry_in 0 makes the job available at once.
SELECT id AS id3, lease_token AS token3 FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.nack(:id3, :'token3', repeat('x', 10000), retry_in => '0');
SELECT id - :base AS id, state, length(errors->0->>'error') AS error_length FROM pgjobq.get_job(:id3);

-- extend moves the expiry to now + the queue's lease, or the duration given, and returns it;
-- a stale token gets NULL and changes nothing. (id4 is job 4 again: retry_in 0.)
SELECT id AS id4, lease_token AS token4, attempt FROM pgjobq.receive('q_lease') \gset
SELECT :id4 - :base AS id, :attempt AS attempt;
SET pgjobq.now = '2030-01-01 00:00:30+00';
SELECT pgjobq.extend(:id4, :'token4');
SELECT pgjobq.extend(:id4, :'token4', lease_duration => '10 minutes');
SELECT pgjobq.extend(:id4, gen_random_uuid());
SELECT pgjobq.extend(:id4, gen_random_uuid(), lease_duration => '1 hour');
SELECT lease_expires_at FROM pgjobq.get_job(:id4);
-- A shorter lease is allowed too: extend sets the expiry, it does not only push it later.
SELECT pgjobq.extend(:id4, :'token4', lease_duration => '1 second');
SELECT pgjobq.extend(:id4, :'token4');

-- Bulk forms return only the jobs whose token is good. (id5 is job 2, due again after its
-- 10 s backoff; :id with :lease_token is job 2's first, stale, lease.)
SELECT id AS id5, lease_token AS token5 FROM pgjobq.receive('q_lease') \gset
SELECT :id5 - :base AS id;
SELECT id - :base AS id, lease_expires_at FROM pgjobq.extend_many(ARRAY[:id4, :id5, :id],
    ARRAY[:'token4', :'token5', :'lease_token']::uuid[], lease_duration => '2 minutes') ORDER BY id;
SELECT id - :base AS id FROM pgjobq.ack_many(ARRAY[:id4, :id5, :id],
    ARRAY[:'token4', :'token5', :'lease_token']::uuid[],
    results => ARRAY['{"r": 4}', NULL, '{"r": 1}']::jsonb[]) AS id
 ORDER BY id;
SELECT id - :base AS id, state, result FROM pgjobq.get_job(:id4);
SELECT id - :base AS id, state, result FROM pgjobq.get_job(:id5);
SELECT count(*) FROM pgjobq.ack_many(ARRAY[:id4], ARRAY[:'token4']::uuid[]);
SELECT count(*) FROM pgjobq.extend_many(ARRAY[:id4], ARRAY[:'token4']::uuid[]);
-- Empty arrays do nothing.
SELECT count(*) FROM pgjobq.ack_many(ARRAY[]::bigint[], ARRAY[]::uuid[]);
SELECT count(*) FROM pgjobq.extend_many(ARRAY[]::bigint[], ARRAY[]::uuid[]);
-- Without a lease_duration, extend_many gives each job its own queue's lease; without results,
-- ack_many completes without a result. (Job 5 of q_lease was never received yet.)
SELECT pgjobq.create_queue('q_lease_long', lease_duration => '1 hour');
SELECT pgjobq.send('q_lease_long', '{"n": 6}') - :base AS id;
CREATE TEMP TABLE held AS
SELECT id, lease_token FROM pgjobq.receive('q_lease_long')
UNION ALL
SELECT id, lease_token FROM pgjobq.receive('q_lease');
SELECT e.id - :base AS id, e.lease_expires_at
  FROM pgjobq.extend_many((SELECT array_agg(id ORDER BY id) FROM held),
                          (SELECT array_agg(lease_token ORDER BY id) FROM held)) AS e ORDER BY e.id;
SELECT a.id - :base AS id
  FROM pgjobq.ack_many((SELECT array_agg(id ORDER BY id) FROM held),
                       (SELECT array_agg(lease_token ORDER BY id) FROM held)) AS a(id)
 ORDER BY a.id;
SELECT j.id - :base AS id, j.queue, j.state, j.result
  FROM held AS h CROSS JOIN LATERAL pgjobq.get_job(h.id) AS j ORDER BY j.id;

-- Bad input: NULL ids or tokens (22004), mismatched or too long arrays, bad durations.
SELECT pg_temp.try($$SELECT pgjobq.ack(NULL, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT pgjobq.ack(1, NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.nack(NULL, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT pgjobq.nack(1, NULL, 'error')$$);
SELECT pg_temp.try($$SELECT pgjobq.nack(1, gen_random_uuid(), retry_in => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(NULL, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(1, NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(1, gen_random_uuid(), lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(1, gen_random_uuid(), lease_duration => '-1 minute')$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(1, gen_random_uuid(), lease_duration => '8 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(NULL, NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1], NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1, 2], ARRAY[gen_random_uuid()])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1, NULL], ARRAY[gen_random_uuid(), gen_random_uuid()])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1, 2], ARRAY[gen_random_uuid(), NULL])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1], ARRAY[gen_random_uuid()], results => ARRAY['{}', '{}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY(SELECT generate_series(1, 10001)::bigint),
                       ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10001)))$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(NULL, ARRAY[gen_random_uuid()])$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(ARRAY[1], ARRAY[NULL]::uuid[])$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(ARRAY[1], ARRAY[gen_random_uuid(), gen_random_uuid()])$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(ARRAY[1], ARRAY[gen_random_uuid()], lease_duration => '8 days')$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(ARRAY(SELECT generate_series(1, 10001)::bigint),
                       ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10001)))$$);
-- 10000 ids are accepted.
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY(SELECT generate_series(1, 10000)::bigint),
                       ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10000)))$$);

SELECT pgjobq.drop_queue('q_lease', force => true);
SELECT pgjobq.drop_queue('q_lease_long', force => true);
