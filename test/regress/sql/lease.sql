-- Ack, nack and extend, single and bulk: fenced by the lease token.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pgjobq.create_queue('q_lease', lease_duration => '1 minute', backoff_jitter => 0,
                           backoff_base => '10 seconds');
SELECT nextval('pgjobq.job_id_seq') AS base \gset
SELECT count(*) FROM pgjobq.send_batch('q_lease', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}', '{"n": 4}', '{"n": 5}']::jsonb[]);

-- ack with a result; a second ack and an ack with a wrong token change nothing.
SELECT id, lease_token FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.ack(:id, gen_random_uuid());
SELECT state FROM pgjobq.get_job(:id);
SELECT pgjobq.ack(:id, :'lease_token', result => '{"ok": 1}');
SELECT pgjobq.ack(:id, :'lease_token', result => '{"ok": 2}');
SELECT id - :base AS id, state, attempts, result, finished_at FROM pgjobq.get_job(:id);

-- nack keeps the error and retries after the backoff, or after retry_in.
SELECT id, lease_token FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.nack(:id, gen_random_uuid(), 'not mine');
SELECT pgjobq.nack(:id, :'lease_token', 'it broke');
SELECT pgjobq.nack(:id, :'lease_token', 'again');
SELECT id - :base AS id, state, attempts, run_at, errors FROM pgjobq.get_job(:id);
SELECT id AS id2, lease_token AS token2 FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.nack(:id2, :'token2', retry_in => '1 hour');
SELECT id - :base AS id, state, run_at, errors FROM pgjobq.get_job(:id2);
-- An error is kept up to 8192 characters.
SELECT id AS id3, lease_token AS token3 FROM pgjobq.receive('q_lease') \gset
SELECT pgjobq.nack(:id3, :'token3', repeat('x', 10000), retry_in => '0');
SELECT length(errors->0->>'error') FROM pgjobq.get_job(:id3);

-- extend returns the new expiry; a stale token gets NULL. (id4 is job 4 again: retry_in 0.)
SELECT id AS id4, lease_token AS token4 FROM pgjobq.receive('q_lease') \gset
SET pgjobq.now = '2030-01-01 00:00:30+00';
SELECT pgjobq.extend(:id4, :'token4');
SELECT pgjobq.extend(:id4, :'token4', lease_duration => '10 minutes');
SELECT pgjobq.extend(:id4, gen_random_uuid());
SELECT lease_expires_at FROM pgjobq.get_job(:id4);

-- Bulk forms leave out stale tokens. (id5 is job 2, due again after its 10 s backoff;
-- :id still holds job 2's first, stale, token.)
SELECT id AS id5, lease_token AS token5 FROM pgjobq.receive('q_lease') \gset
SELECT id - :base AS id, lease_expires_at FROM pgjobq.extend_many(ARRAY[:id4, :id5, :id],
    ARRAY[:'token4', :'token5', gen_random_uuid()]::uuid[], lease_duration => '2 minutes') ORDER BY id;
SELECT id - :base AS id FROM pgjobq.ack_many(ARRAY[:id4, :id5, :id],
    ARRAY[:'token4', :'token5', :'lease_token']::uuid[], results => ARRAY['{"r": 4}', NULL, '{"r": 1}']::jsonb[]) AS id
 ORDER BY id;
SELECT id - :base AS id, state, result FROM pgjobq.get_job(:id4);
SELECT id - :base AS id, state, result FROM pgjobq.get_job(:id5);
SELECT count(*) FROM pgjobq.ack_many(ARRAY[:id4], ARRAY[:'token4']::uuid[]);

-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.ack(NULL, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT pgjobq.ack(1, NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.nack(NULL, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT pgjobq.nack(1, gen_random_uuid(), retry_in => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(1, NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.extend(1, gen_random_uuid(), lease_duration => '0')$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(NULL, NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1, 2], ARRAY[gen_random_uuid()])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1, NULL], ARRAY[gen_random_uuid(), gen_random_uuid()])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY[1], ARRAY[gen_random_uuid()], results => ARRAY['{}', '{}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.ack_many(ARRAY(SELECT generate_series(1, 10001)::bigint),
                       ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10001)))$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(ARRAY[1], ARRAY[NULL]::uuid[])$$);
SELECT pg_temp.try($$SELECT pgjobq.extend_many(ARRAY[1], ARRAY[gen_random_uuid()], lease_duration => '8 days')$$);

SELECT pgjobq.drop_queue('q_lease', force => true);
