-- Send: one job or a batch, attributes, delay and run_at, priority, transactions, bad input.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pgjobq.create_queue('q_send');
SELECT nextval('pgjobq.job_id_seq') AS base \gset

-- One job; ids are relative to :base so the file runs in any order.
SELECT pgjobq.send('q_send', '{"n": 1}') - :base AS id;
-- A batch returns ids in payload order.
SELECT id - :base AS id FROM pgjobq.send_batch('q_send',
    ARRAY['{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[],
    attributes => ARRAY['{"k": "a"}', '{}', NULL]::jsonb[], priority => 7) AS id;
SELECT id - :base AS id, state, priority, payload, attributes, run_at, created_at, attempts,
       notify_completion
  FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_send')
 ORDER BY id;

-- Delayed: by delay or at run_at; a run_at in the past is available now.
SELECT pgjobq.send('q_send', '{"n": 5}', delay => '10 minutes') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 6}', run_at => '2030-01-02 00:00:00+00') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 7}', run_at => '2029-12-31 00:00:00+00') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 8}', notify_completion => true) - :base AS id;
SELECT id - :base AS id, state, run_at, notify_completion FROM pgjobq.job
 WHERE id > :base + 4 ORDER BY id;

-- A send joins the caller's transaction: rolled back, the job never existed.
BEGIN;
SELECT pgjobq.send('q_send', '{"n": "rolled back"}') - :base AS id;
ROLLBACK;
SELECT count(*) FROM pgjobq.job WHERE payload = '{"n": "rolled back"}';

-- Binary data travels as base64 in JSON.
SELECT pgjobq.send('q_send', to_jsonb(encode('\x00ff10'::bytea, 'base64'))) AS bin \gset
SELECT payload, decode(payload #>> '{}', 'base64') AS bytes FROM pgjobq.job WHERE id = :bin;

-- Bad input: nothing is sent.
SELECT count(*) AS before FROM pgjobq.job \gset
SELECT pg_temp.try($$SELECT pgjobq.send('nope', '{}')$$);
SELECT pg_temp.try($$SELECT pgjobq.send(NULL, '{}')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', 'null')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => '[1]')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => '"x"')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', delay => '1 minute', run_at => '2030-01-01')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', delay => '-1 minute')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', priority => 32768)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', priority => -32769)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', priority => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', jsonb_build_object('big', repeat(md5(g::text), 40000)))
                      FROM generate_series(1, 1) AS g$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}',
                      attributes => (SELECT jsonb_object_agg(g::text, md5(g::text)) FROM generate_series(1, 3000) AS g))$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY[]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', NULL]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', '{}']::jsonb[], attributes => ARRAY['{}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', '{}']::jsonb[], attributes => ARRAY['{}', '3']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', (SELECT array_agg('{}'::jsonb) FROM generate_series(1, 10001)))$$);
SELECT count(*) - :before AS sent_by_bad_calls FROM pgjobq.job;
-- The largest batch is accepted.
SELECT count(*) FROM pgjobq.send_batch('q_send', (SELECT array_agg('{}'::jsonb) FROM generate_series(1, 10000)));

SELECT pgjobq.drop_queue('q_send', force => true);
