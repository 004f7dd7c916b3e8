-- Send: one job or a batch (ids in payload order), attributes per job, delay and run_at,
-- priority, notify_completion, transactions, binary data, size limits and every bad input.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_send');
-- Ids are shown relative to :base so that the file runs in any order.
SELECT nextval('pgjobq.job_id_seq') AS base \gset
-- jobs shows the stored jobs of q_send.
CREATE VIEW pg_temp.jobs AS
SELECT j.id - :base AS id, j.state, j.priority, j.payload, j.attributes, j.run_at, j.created_at,
       j.attempts, j.notify_completion
  FROM pgjobq.job AS j JOIN pgjobq.queue AS q ON q.queue_id = j.queue_id
 WHERE q.name = 'q_send';

-- One job: available at once, priority 0, no attributes, no attempt yet.
SELECT pgjobq.send('q_send', '{"n": 1}') - :base AS id;
-- A batch returns its ids in payload order; attributes pair with payloads, NULL meaning none.
SELECT id - :base AS id FROM pgjobq.send_batch('q_send',
    ARRAY['{"n": 2}', '{"n": 3}', '{"n": 4}']::jsonb[],
    attributes => ARRAY['{"k": "a"}', '{}', NULL]::jsonb[], priority => 7) AS id;
SELECT * FROM pg_temp.jobs ORDER BY id;
-- Delayed jobs are scheduled: by delay, or at run_at. A run_at now or in the past, or a zero
-- delay, is available at once. notify_completion is kept with the job.
SELECT pgjobq.send('q_send', '{"n": 5}', delay => '10 minutes') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 6}', run_at => '2030-01-02 00:00:00+00') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 7}', run_at => '2029-12-31 00:00:00+00') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 8}', run_at => '2030-01-01 00:00:00+00') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 9}', delay => '0') - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 10}', notify_completion => true, priority => -32768) - :base AS id;
SELECT pgjobq.send('q_send', '{"n": 11}', attributes => NULL, priority => 32767) - :base AS id;
SELECT id, state, priority, attributes, run_at, notify_completion FROM pg_temp.jobs WHERE id > 4 ORDER BY id;
-- Batch options apply to every job of the batch.
SELECT id - :base AS id FROM pgjobq.send_batch('q_send', ARRAY['{"n": 12}', '{"n": 13}']::jsonb[],
    delay => '1 hour', priority => 3, notify_completion => true) AS id;
SELECT id - :base AS id FROM pgjobq.send_batch('q_send', ARRAY['{"n": 14}', '{"n": 15}']::jsonb[],
    run_at => '2030-02-01 00:00:00+00') AS id;
SELECT id, state, priority, run_at, notify_completion FROM pg_temp.jobs WHERE id > 11 ORDER BY id;

-- A larger batch (in a queue of its own): ids ascend in payload order, and each id holds its
-- own payload and attributes.
SELECT pgjobq.create_queue('q_send_many');
CREATE TEMP TABLE sent AS
SELECT s.id, s.ord
  FROM pgjobq.send_batch('q_send_many',
           (SELECT array_agg(jsonb_build_object('i', g) ORDER BY g) FROM generate_series(1, 100) AS g),
           (SELECT array_agg(jsonb_build_object('i', g) ORDER BY g) FROM generate_series(1, 100) AS g))
       WITH ORDINALITY AS s(id, ord);
SELECT count(*) AS jobs,
       array_agg(s.id ORDER BY s.ord) = array_agg(s.id ORDER BY s.id) AS ids_ascending,
       bool_and(j.payload = jsonb_build_object('i', s.ord)) AS payloads_match,
       bool_and(j.attributes = jsonb_build_object('i', s.ord)) AS attributes_match
  FROM sent AS s CROSS JOIN LATERAL pgjobq.get_job(s.id) AS j;
SELECT pgjobq.drop_queue('q_send_many', force => true);

-- A send joins the caller's transaction: rolled back, the jobs never existed.
SELECT count(*) AS before FROM pg_temp.jobs \gset
BEGIN;
SELECT pgjobq.send('q_send', '{"n": "rolled back"}') > 0 AS sent;
SELECT count(*) FROM pgjobq.send_batch('q_send', ARRAY['{"n": "rolled back"}', '{"n": "rolled back"}']::jsonb[]);
SELECT count(*) - :before AS more FROM pg_temp.jobs;
ROLLBACK;
SELECT count(*) - :before AS more FROM pg_temp.jobs;
SELECT count(*) FROM pgjobq.job WHERE payload = '{"n": "rolled back"}';

-- Binary data travels as a base64 string in the JSON payload.
SELECT pgjobq.send('q_send', to_jsonb(encode('\x00ff10'::bytea, 'base64'))) AS bin \gset
SELECT payload, decode(payload #>> '{}', 'base64') AS bytes FROM pgjobq.get_job(:bin);
-- Every byte value survives the round trip, in an object as well.
SELECT decode(string_agg(lpad(to_hex(b), 2, '0'), '' ORDER BY b), 'hex') AS all_bytes
  FROM generate_series(0, 255) AS b \gset
SELECT pgjobq.send('q_send', jsonb_build_object('file', encode(:'all_bytes'::bytea, 'base64'))) AS bin \gset
SELECT decode(payload->>'file', 'base64') = :'all_bytes'::bytea AS same_bytes,
       length(decode(payload->>'file', 'base64')) AS length
  FROM pgjobq.get_job(:bin);

-- Size limits: a payload of exactly 1 MiB and attributes of exactly 64 KiB are accepted.
SELECT pgjobq.send('q_send', to_jsonb(repeat('x', 1048564))) > 0 AS sent;
SELECT pgjobq.send('q_send', '{}', attributes => jsonb_build_object('k', repeat('x', 65519))) > 0 AS sent;
-- The largest batch is accepted too.
SELECT count(*) FROM pgjobq.send_batch('q_send', (SELECT array_agg('{}'::jsonb) FROM generate_series(1, 10000)));

-- Bad input: each call fails whole and sends nothing.
SELECT count(*) AS before FROM pg_temp.jobs \gset
SELECT pg_temp.try($$SELECT pgjobq.send('q_send_nope', '{}')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('Q_SEND', '{}')$$);
-- The queue is checked first, whatever else is wrong (as in send_batch).
SELECT pg_temp.try($$SELECT pgjobq.send('q_send_nope', NULL, delay => '-1 second')$$);
SELECT pg_temp.try($$SELECT pgjobq.send(NULL, '{}', priority => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.send(NULL, '{}')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', 'null')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => '[1]')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => '"x"')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => '5')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => 'null')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', delay => '1 minute', run_at => '2030-01-01')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', delay => '0', run_at => '2030-01-01')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', delay => '-1 minute')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', priority => 32768)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', priority => -32769)$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', priority => NULL)$$);
-- A job due at infinity would never run, and next_due could not say when: refused as invalid.
SELECT pgjobq.create_queue('q_send_inf');
SELECT left(pg_temp.try($$SELECT pgjobq.send('q_send_inf', '{}', run_at => 'infinity')$$), 5) AS sqlstate;
SELECT pg_temp.try($$SELECT pgjobq.next_due('q_send_inf')$$);
SELECT pgjobq.drop_queue('q_send_inf', force => true);
-- One byte over the limits.
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', to_jsonb(repeat('x', 1048565)))$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', jsonb_build_object('big', repeat(md5('x'), 40000)))$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_send', '{}', attributes => jsonb_build_object('k', repeat('x', 65520)))$$);
-- Batches.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY[]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send_nope', ARRAY['{}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', NULL]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', '{}', 'null']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', '{}']::jsonb[], attributes => ARRAY['{}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}']::jsonb[], attributes => ARRAY['{}', '{}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}']::jsonb[], attributes => ARRAY[]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', '{}']::jsonb[], attributes => ARRAY['{}', '3']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', ARRAY['{}', to_jsonb(repeat('x', 1048565))]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', (SELECT array_agg('{}'::jsonb) FROM generate_series(1, 10001)))$$);
-- Arrays need not start at index 1: errors still name the bad element and what is wrong.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_send', '[0:1]={"{}","{}"}'::jsonb[],
                                              attributes => '[0:1]={"{}","3"}'::jsonb[])$$);
SELECT count(*) - :before AS sent_by_bad_calls FROM pg_temp.jobs;

SELECT pgjobq.drop_queue('q_send', force => true);
