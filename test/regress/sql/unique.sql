-- Unique jobs (unique keys): while a live job of the queue holds a key, a send with that key
-- returns that job's id and makes no new job; once it has finished (completed, dead or
-- cancelled) the key is free again. Batches map duplicates to one job; a bounded queue gives
-- back the places of deduplicated sends; redrive leaves a dead job in the dead letter table
-- while a live job holds its key.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_uniq', max_attempts => 1);
SELECT pgjobq.create_queue('q_uniq_other');

-- Ids are shown relative to :base so that the file runs in any order: 1 is the first job here.
SELECT nextval('pgjobq.job_id_seq') AS base \gset
CREATE TEMP TABLE base AS SELECT :base::bigint AS id;
-- live shows the live jobs of a queue: relative id, state, unique key and payload.
CREATE FUNCTION pg_temp.live(queue text)
RETURNS TABLE (id bigint, state pgjobq.job_state, unique_key text, payload jsonb)
LANGUAGE sql AS $$
    SELECT j.id - (SELECT b.id FROM pg_temp.base AS b), j.state, j.unique_key, j.payload
      FROM pgjobq.job AS j JOIN pgjobq.queue AS q ON q.queue_id = j.queue_id
     WHERE q.name = queue ORDER BY j.id
$$;
-- ack, fail finish a leased job (relative id) with its current lease.
CREATE FUNCTION pg_temp.ack(r bigint) RETURNS pgjobq.job_state LANGUAGE sql AS $$
    SELECT pgjobq.ack(j.id, j.lease_token) FROM pgjobq.job AS j
     WHERE j.id = (SELECT b.id FROM pg_temp.base AS b) + r
$$;
CREATE FUNCTION pg_temp.fail(r bigint) RETURNS pgjobq.job_state LANGUAGE sql AS $$
    SELECT pgjobq.nack(j.id, j.lease_token, 'boom') FROM pgjobq.job AS j
     WHERE j.id = (SELECT b.id FROM pg_temp.base AS b) + r
$$;
-- take receives every available job of queue and returns their relative ids (left leased).
CREATE FUNCTION pg_temp.take(queue text) RETURNS bigint[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(r.id - (SELECT b.id FROM pg_temp.base AS b) ORDER BY r.id), '{}')
      FROM pgjobq.receive(queue, 1000) AS r
$$;

-- A second send with the key returns the first job; its payload and options are not used.
-- (A deduplicated send draws no id from the sequence, unless it raced another sender of the key.)
SELECT pgjobq.send('q_uniq', '{"v": 1}', unique_key => 'report') AS report \gset
SELECT :report - :base AS first,
       pgjobq.send('q_uniq', '{"v": 2}', unique_key => 'report', priority => 9, delay => '1 hour') - :base AS second;
SELECT * FROM pg_temp.live('q_uniq');
SELECT priority, run_at = '2030-01-01 00:00:00+00' AS due_now FROM pgjobq.get_job(:report);
-- The key is held in every live state: leased, retrying (q_uniq_other allows retries),
-- scheduled, blocked.
SELECT pg_temp.take('q_uniq') AS delivered;
SELECT pgjobq.send('q_uniq', '{"v": 3}', unique_key => 'report') = :report AS same_while_leased;
SELECT pgjobq.send('q_uniq_other', '{"v": 1}', unique_key => 'retry') AS retry \gset
SELECT pg_temp.take('q_uniq_other') = ARRAY[:retry - :base]::bigint[] AS retry_delivered;
SELECT pg_temp.fail(:retry - :base) AS nack;
SELECT pgjobq.send('q_uniq_other', '{"v": 2}', unique_key => 'retry') = :retry AS same_while_retrying;
SELECT pgjobq.send('q_uniq_other', '{"v": 1}', unique_key => 'later', delay => '1 hour') AS later \gset
SELECT pgjobq.send('q_uniq_other', '{"v": 2}', unique_key => 'later') = :later AS same_while_scheduled;
SELECT pgjobq.send('q_uniq_other', '{"v": 1}', unique_key => 'child', depends_on => ARRAY[:later]) AS child \gset
SELECT pgjobq.send('q_uniq_other', '{"v": 2}', unique_key => 'child') = :child AS same_while_blocked;
SELECT * FROM pg_temp.live('q_uniq_other');
-- Keys are per queue: the same key in another queue is another job.
SELECT pgjobq.send('q_uniq_other', '{"v": 1}', unique_key => 'report') <> :report AS other_queue_other_job;

-- Once the holder has finished, the key is free: completed, dead or cancelled alike.
SELECT pg_temp.ack(:report - :base) AS ack;
SELECT pgjobq.send('q_uniq', '{"v": 4}', unique_key => 'report') AS after_completed \gset
SELECT pg_temp.take('q_uniq') = ARRAY[:after_completed - :base]::bigint[] AS delivered;
SELECT pg_temp.fail(:after_completed - :base) AS nack;
SELECT pgjobq.send('q_uniq', '{"v": 5}', unique_key => 'report') AS after_dead \gset
SELECT pgjobq.cancel(:after_dead);
SELECT pgjobq.send('q_uniq', '{"v": 6}', unique_key => 'report') AS after_cancelled \gset
SELECT pgjobq.send('q_uniq', '{"v": 7}', unique_key => 'report') = :after_cancelled AS same_again;
SELECT g.payload, g.state FROM unnest(ARRAY[:report, :after_completed, :after_dead, :after_cancelled]::bigint[]) WITH ORDINALITY AS u(id, n)
 CROSS JOIN LATERAL pgjobq.get_job(u.id) AS g ORDER BY u.n;
SELECT count(DISTINCT x) AS distinct_ids FROM unnest(ARRAY[:report, :after_completed, :after_dead, :after_cancelled]) AS x;
-- A send rolled back never held the key.
BEGIN;
SELECT pgjobq.send('q_uniq', '{"v": "rolled back"}', unique_key => 'fleeting') > 0 AS sent;
ROLLBACK;
SELECT pgjobq.send('q_uniq', '{"v": "kept"}', unique_key => 'fleeting') AS fleeting \gset
SELECT payload FROM pgjobq.get_job(:fleeting);

-- In a batch, duplicates map to one job, also with a key a live job already holds; the ids
-- come back in payload order.
CREATE TEMP TABLE batch AS
SELECT u.n, u.id FROM pgjobq.send_batch('q_uniq', ARRAY['{"b": 1}', '{"b": 2}', '{"b": 3}', '{"b": 4}', '{"b": 5}', '{"b": 6}']::jsonb[],
                                        unique_keys => ARRAY['k1', 'k2', 'k1', NULL, 'k2', 'report']) WITH ORDINALITY AS u(id, n);
SELECT b.n, g.payload, b.id = :after_cancelled AS is_report_job
  FROM batch AS b CROSS JOIN LATERAL pgjobq.get_job(b.id) AS g ORDER BY b.n;
SELECT (SELECT id FROM batch WHERE n = 1) = (SELECT id FROM batch WHERE n = 3) AS k1_same,
       (SELECT id FROM batch WHERE n = 2) = (SELECT id FROM batch WHERE n = 5) AS k2_same,
       (SELECT count(DISTINCT id) FROM batch) AS distinct_ids;
SELECT unique_key, payload FROM pg_temp.live('q_uniq') ORDER BY id;
-- A deduplicated job is the existing job: its own depends_on is ignored, and a later job of the
-- batch naming it with -k depends on the existing job (here k1, which is available).
SELECT id AS k1 FROM batch WHERE n = 1 \gset
CREATE TEMP TABLE batch2 AS
SELECT u.n, u.id FROM pgjobq.send_batch('q_uniq', ARRAY['{"c": 1}', '{"c": 2}']::jsonb[],
                                        depends_on => ARRAY[jsonb_build_array(:fleeting), '[-1]'],
                                        unique_keys => ARRAY['k1', NULL]) WITH ORDINALITY AS u(id, n);
SELECT id AS c2 FROM batch2 WHERE n = 2 \gset
SELECT (SELECT id FROM batch2 WHERE n = 1) = :k1 AS first_is_k1;
SELECT id = :k1 AS is_k1, state, blockers FROM pgjobq.job WHERE id IN (:k1, :c2) ORDER BY id;
SELECT parent_id = :k1 AS parent_is_k1, child_id = :c2 AS child_is_c2
  FROM pgjobq.job_dependency WHERE child_id IN (:k1, :c2);
-- With an ordering key as well: one job per unique key, in FIFO order.
SELECT count(DISTINCT u.id) AS jobs
  FROM pgjobq.send_batch('q_uniq', ARRAY['{"o": 1}', '{"o": 2}', '{"o": 3}']::jsonb[],
                         ordering_keys => ARRAY['o', 'o', 'o'], unique_keys => ARRAY['o1', 'o2', 'o1']) AS u(id);
SELECT state, unique_key, payload FROM pg_temp.live('q_uniq') WHERE payload ? 'o' ORDER BY id;

-- A bounded queue: a deduplicated send takes no place; the count matches the rows (maintain()
-- recounts them and finds the same).
SELECT pgjobq.create_queue('q_uniq_bound', max_size => 3, max_attempts => 1);
SELECT pgjobq.send('q_uniq_bound', '{"v": 1}', unique_key => 'a') AS a \gset
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT pgjobq.send('q_uniq_bound', '{"v": 2}', unique_key => 'a') = :a AS same,
       pgjobq.send('q_uniq_bound', '{"v": 3}', unique_key => 'a') = :a AS same;
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
CREATE TEMP TABLE batch3 AS
SELECT u.n, u.id FROM pgjobq.send_batch('q_uniq_bound', ARRAY['{"v": 4}', '{"v": 5}']::jsonb[], unique_keys => ARRAY['a', 'b'])
                      WITH ORDINALITY AS u(id, n);
SELECT n, id = :a AS is_a FROM batch3 ORDER BY n;
SELECT id AS b FROM batch3 WHERE n = 2 \gset
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT pgjobq.maintain() >= 0 AS maintained;
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT state, unique_key, payload FROM pg_temp.live('q_uniq_bound') ORDER BY id;
-- A send whose unique key a live job holds needs no place: it returns that job, alone or in a
-- batch, and the free places stay as they were.
SELECT pgjobq.send('q_uniq_bound', '{}', unique_key => 'a') = :a AS same_a;
SELECT array_agg(u.id = CASE u.n WHEN 1 THEN :a ELSE :b END ORDER BY u.n) AS same_ids
  FROM pgjobq.send_batch('q_uniq_bound', ARRAY['{}', '{}']::jsonb[], unique_keys => ARRAY['a', 'b'])
       WITH ORDINALITY AS u(id, n);
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
-- A job that dies frees its key and its place; a new job takes both.
SELECT pg_temp.take('q_uniq_bound') = ARRAY[:a - :base, :b - :base]::bigint[] AS a_and_b_delivered;
SELECT pg_temp.fail(:a - :base) AS nack_a, pg_temp.ack(:b - :base) AS ack_b;
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT pgjobq.send('q_uniq_bound', '{"v": 6}', unique_key => 'a') AS a2 \gset
SELECT :a2 <> :a AS new_job;
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;

-- Redrive leaves a dead job in the dead letter table while a live job holds its unique key (and
-- gives back the place it took for it); once the key is free, it moves.
SELECT pgjobq.redrive('q_uniq_bound') AS moved;
SELECT id = :a AS is_a, unique_key FROM pgjobq.dead_letter
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_uniq_bound');
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT pg_temp.take('q_uniq_bound') = ARRAY[:a2 - :base]::bigint[] AS a2_delivered;
SELECT pg_temp.ack(:a2 - :base) AS ack;
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT pgjobq.redrive('q_uniq_bound') AS moved;
SELECT id = :a - :base AS is_a, state, unique_key, payload FROM pg_temp.live('q_uniq_bound') ORDER BY id;
SELECT pgjobq.wait_for_space('q_uniq_bound') AS free;
SELECT count(*) AS dead FROM pgjobq.dead_letter
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_uniq_bound');
-- The redriven job holds its key again.
SELECT pgjobq.send('q_uniq_bound', '{"v": 7}', unique_key => 'a') = :a AS same;
-- Two dead jobs with one unique key (the key was free again when the second was sent): redrive
-- moves the oldest and leaves the other dead.
SELECT pgjobq.create_queue('q_uniq_twice', max_attempts => 1);
SELECT pgjobq.send('q_uniq_twice', '{"n": 1}', unique_key => 'z') AS z1 \gset
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_uniq_twice');
SELECT pgjobq.send('q_uniq_twice', '{"n": 2}', unique_key => 'z') AS z2 \gset
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_uniq_twice');
SELECT pgjobq.redrive('q_uniq_twice') AS moved;
SELECT id = :z1 - :base AS oldest_moved, state FROM pg_temp.live('q_uniq_twice');
SELECT id = :z2 AS newer_still_dead FROM pgjobq.dead_letter
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_uniq_twice');
SELECT pgjobq.drop_queue('q_uniq_twice', force => true);

-- Bad keys: empty or longer than 255 characters (255 is fine); unique_keys pairs with payloads.
SELECT pg_temp.try($$SELECT pgjobq.send('q_uniq', '{}', unique_key => '')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_uniq', '{}', unique_key => repeat('u', 256))$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_uniq', ARRAY['{}', '{}']::jsonb[], unique_keys => ARRAY['u', ''])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_uniq', ARRAY['{}', '{}']::jsonb[], unique_keys => ARRAY['u'])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_uniq', ARRAY['{}']::jsonb[], unique_keys => ARRAY[NULL, NULL]::text[])$$);
SELECT pgjobq.send('q_uniq', '{"v": "long key"}', unique_key => repeat('u', 255))
     = pgjobq.send('q_uniq', '{"v": "long key again"}', unique_key => repeat('u', 255)) AS same_job;

SELECT pgjobq.drop_queue('q_uniq', force => true);
SELECT pgjobq.drop_queue('q_uniq_other', force => true);
SELECT pgjobq.drop_queue('q_uniq_bound', force => true);
