-- FIFO groups (ordering keys): the jobs of one (queue, key) run one at a time, in send order.
-- The head of a key is its oldest live job; the others are blocked until it leaves. A retrying
-- head still holds the key; a dead-lettered or cancelled one gives it up; a redriven job waits
-- behind the live jobs of its key. Other keys and unkeyed jobs run alongside; priorities and
-- delays never let a job overtake the head of its key.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_fifo', max_attempts => 5, lease_duration => '1 hour');
SELECT pgjobq.create_queue('q_fifo_dl', max_attempts => 1, lease_duration => '1 minute');

-- Jobs are named by their payload's "n" (unique in this file) instead of by id.
-- id_of finds a job of the queues of this file by name, live, finished or dead.
CREATE FUNCTION pg_temp.id_of(name text) RETURNS bigint LANGUAGE sql AS $$
    SELECT u.id FROM (SELECT j.id, j.queue_id, j.payload FROM pgjobq.job AS j
                      UNION ALL SELECT a.id, a.queue_id, a.payload FROM pgjobq.job_archive AS a
                      UNION ALL SELECT d.id, d.queue_id, d.payload FROM pgjobq.dead_letter AS d) AS u
      JOIN pgjobq.queue AS q ON q.queue_id = u.queue_id
     WHERE q.name IN ('q_fifo', 'q_fifo_dl', 'q_fifo_two') AND u.payload ->> 'n' = id_of.name
$$;
-- jobs shows jobs by name: state and the last entry of their history.
CREATE FUNCTION pg_temp.jobs(VARIADIC names text[])
RETURNS TABLE (job text, state pgjobq.job_state, last text)
LANGUAGE sql AS $$
    SELECT u.name, g.state,
           (g.errors -> -1 ->> 'outcome') || coalesce(': ' || (g.errors -> -1 ->> 'error'), '')
      FROM unnest(names) WITH ORDINALITY AS u(name, n)
     CROSS JOIN LATERAL pgjobq.get_job(pg_temp.id_of(u.name)) AS g
     ORDER BY u.n
$$;
-- take receives up to max_jobs jobs of queue and returns their names in delivery order; they
-- stay leased.
CREATE FUNCTION pg_temp.take(queue text, max_jobs integer DEFAULT 1000) RETURNS text[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(r.payload ->> 'n' ORDER BY r.o), '{}')
      FROM pgjobq.receive(queue, max_jobs) WITH ORDINALITY AS r(id, lease_token, payload, attributes,
                                                              attempt, priority, created_at,
                                                              lease_expires_at, o)
$$;
-- ack, fail and give_back finish or release a leased job by name with its current lease.
CREATE FUNCTION pg_temp.ack(name text) RETURNS pgjobq.job_state LANGUAGE sql AS $$
    SELECT pgjobq.ack(j.id, j.lease_token) FROM pgjobq.job AS j WHERE j.id = pg_temp.id_of(name)
$$;
CREATE FUNCTION pg_temp.fail(name text, retry_in interval DEFAULT NULL) RETURNS pgjobq.job_state LANGUAGE sql AS $$
    SELECT pgjobq.nack(j.id, j.lease_token, 'boom', retry_in) FROM pgjobq.job AS j WHERE j.id = pg_temp.id_of(name)
$$;
CREATE FUNCTION pg_temp.give_back(name text) RETURNS boolean LANGUAGE sql AS $$
    SELECT pgjobq.release(j.id, j.lease_token) FROM pgjobq.job AS j WHERE j.id = pg_temp.id_of(name)
$$;
-- wave receives every job of queue that can run now, acks them all and returns their names in
-- delivery order: called until it returns {}, it shows the order in which the jobs run.
CREATE FUNCTION pg_temp.wave(queue text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE
    got text[];
BEGIN
    got := pg_temp.take(queue);
    PERFORM pgjobq.ack(j.id, j.lease_token) FROM pgjobq.job AS j
      WHERE j.id IN (SELECT pg_temp.id_of(g) FROM unnest(got) AS g) ORDER BY j.id;
    RETURN got;
END
$$;
-- send sends a job named name with ordering key key (and options).
CREATE FUNCTION pg_temp.send(queue text, name text, key text, priority integer DEFAULT 0,
                             delay interval DEFAULT NULL) RETURNS text LANGUAGE sql AS $$
    SELECT name FROM pgjobq.send(queue, jsonb_build_object('n', name), ordering_key => key,
                                 priority => priority, delay => delay)
$$;

-- One at a time, in send order; other keys and unkeyed jobs run alongside. The first job of a
-- key is available, the later ones blocked.
SELECT pg_temp.send('q_fifo', 'a1', 'a'), pg_temp.send('q_fifo', 'a2', 'a'), pg_temp.send('q_fifo', 'a3', 'a'),
       pg_temp.send('q_fifo', 'u1', NULL), pg_temp.send('q_fifo', 'b1', 'b'), pg_temp.send('q_fifo', 'b2', 'b');
SELECT * FROM pg_temp.jobs('a1', 'a2', 'a3', 'u1', 'b1', 'b2');
-- A receive asking for ten gets the heads and the unkeyed job, never two jobs of one key.
SELECT pg_temp.take('q_fifo', 10) AS delivered;
SELECT pg_temp.take('q_fifo', 10) AS delivered;
-- A head completes: the next job of its key (and only it) is available.
SELECT pg_temp.ack('a1') AS ack_a1, pg_temp.ack('u1') AS ack_u1, pg_temp.ack('b1') AS ack_b1;
SELECT * FROM pg_temp.jobs('a1', 'a2', 'a3', 'b1', 'b2');
SELECT pg_temp.take('q_fifo', 10) AS delivered;
SELECT pg_temp.ack('b2') AS ack_b2;

-- A failed head that will be retried keeps the key: while it waits to retry, the rest of the
-- key stays blocked, and it is the head again when it comes due (its second attempt).
SELECT pg_temp.fail('a2', retry_in => '5 minutes') AS nack;
SELECT * FROM pg_temp.jobs('a2', 'a3');
SELECT pg_temp.take('q_fifo', 10) AS delivered;
SET pgjobq.now = '2030-01-01 00:05:00+00';
SELECT pg_temp.take('q_fifo', 10) AS delivered;
SELECT attempts FROM pgjobq.get_job(pg_temp.id_of('a2'));
-- A retry due at once (retry_in 0) is also the head: it comes back before a3.
SELECT pg_temp.fail('a2', retry_in => '0') AS nack;
SELECT pg_temp.take('q_fifo', 10) AS delivered;
-- An expired lease is a retry too: the head is delivered again, not the next job of its key.
SET pgjobq.now = '2030-01-01 01:10:00+00';
SELECT pg_temp.take('q_fifo', 10) AS delivered;
SELECT attempts FROM pgjobq.get_job(pg_temp.id_of('a2'));
SELECT * FROM pg_temp.jobs('a2', 'a3');
-- A released head is available again and still the head.
SELECT pg_temp.give_back('a2') AS released;
SELECT * FROM pg_temp.jobs('a2', 'a3');
SELECT pg_temp.take('q_fifo', 10) AS delivered;
SELECT attempts FROM pgjobq.get_job(pg_temp.id_of('a2'));
SELECT pg_temp.ack('a2') AS ack;
SELECT pg_temp.wave('q_fifo') AS wave_1;
SELECT pg_temp.wave('q_fifo') AS wave_2;

-- A dead-lettered head gives up its key: the next job runs. Redriven, the dead job waits behind
-- the live jobs of its key, and then goes before the later ones that have not started.
SELECT pg_temp.send('q_fifo_dl', 'c1', 'c'), pg_temp.send('q_fifo_dl', 'c2', 'c'), pg_temp.send('q_fifo_dl', 'c3', 'c');
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SELECT pg_temp.fail('c1') AS nack;
SELECT * FROM pg_temp.jobs('c1', 'c2', 'c3');
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SELECT pgjobq.redrive('q_fifo_dl');
SELECT * FROM pg_temp.jobs('c1', 'c2', 'c3');
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SELECT pg_temp.ack('c2') AS ack;
SELECT pg_temp.wave('q_fifo_dl') AS wave_1;
SELECT pg_temp.wave('q_fifo_dl') AS wave_2;
SELECT pg_temp.wave('q_fifo_dl') AS wave_3;
-- Two dead jobs of a key with no live job, redriven together: they run in id order.
SELECT pg_temp.send('q_fifo_dl', 'd1', 'd'), pg_temp.send('q_fifo_dl', 'd2', 'd');
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SELECT pg_temp.fail('d1') AS nack;
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SELECT pg_temp.fail('d2') AS nack;
SELECT pgjobq.redrive('q_fifo_dl');
SELECT * FROM pg_temp.jobs('d1', 'd2');
SELECT pg_temp.wave('q_fifo_dl') AS wave_1;
SELECT pg_temp.wave('q_fifo_dl') AS wave_2;
SELECT pg_temp.wave('q_fifo_dl') AS wave_3;
-- A head whose lease expires on its last attempt dies there: the receive that finds it buries
-- it and delivers the next job of the key at once.
SELECT pg_temp.send('q_fifo_dl', 'e1', 'e'), pg_temp.send('q_fifo_dl', 'e2', 'e');
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SET pgjobq.now = '2030-01-01 01:20:00+00';
SELECT pg_temp.take('q_fifo_dl') AS delivered;
SELECT * FROM pg_temp.jobs('e1', 'e2');
SELECT pg_temp.ack('e2') AS ack;

-- A cancelled head gives up its key, whether it was waiting or running (then at the end of the
-- run, which ends cancelled). Cancelling a job behind the head changes nothing for the head.
SELECT pg_temp.send('q_fifo', 'f1', 'f'), pg_temp.send('q_fifo', 'f2', 'f'), pg_temp.send('q_fifo', 'f3', 'f'),
       pg_temp.send('q_fifo', 'f4', 'f');
SELECT pgjobq.cancel(pg_temp.id_of('f1'));
SELECT * FROM pg_temp.jobs('f1', 'f2', 'f3', 'f4');
SELECT pg_temp.take('q_fifo') AS delivered;
SELECT pgjobq.cancel(pg_temp.id_of('f2'));
SELECT pgjobq.cancel(pg_temp.id_of('f3'));
SELECT * FROM pg_temp.jobs('f2', 'f3', 'f4');
SELECT pg_temp.take('q_fifo') AS delivered;
SELECT pg_temp.ack('f2') AS ack;
SELECT * FROM pg_temp.jobs('f2', 'f3', 'f4');
SELECT pg_temp.wave('q_fifo') AS wave;

-- Priorities order the heads of different keys and unkeyed jobs, but a high-priority job never
-- overtakes the head of its own key.
SELECT pg_temp.send('q_fifo', 'p1', 'p', priority => 0), pg_temp.send('q_fifo', 'p2', 'p', priority => 10),
       pg_temp.send('q_fifo', 'p3', NULL, priority => 5), pg_temp.send('q_fifo', 'p4', 'p4', priority => 1);
SELECT * FROM pg_temp.jobs('p1', 'p2', 'p3', 'p4');
SELECT pg_temp.take('q_fifo', 1) AS first, pg_temp.take('q_fifo', 1) AS second,
       pg_temp.take('q_fifo', 1) AS third, pg_temp.take('q_fifo', 1) AS fourth;
SELECT pg_temp.ack('p1') AS ack;
SELECT pg_temp.take('q_fifo', 1) AS delivered;
SELECT pg_temp.ack('p2'), pg_temp.ack('p3'), pg_temp.ack('p4');

-- Delays: a delayed head holds its key until it has run, even if a later job of the key is due
-- now; a delayed job that becomes the head waits for its time.
SELECT pg_temp.send('q_fifo', 'g1', 'g', delay => '1 hour'), pg_temp.send('q_fifo', 'g2', 'g'),
       pg_temp.send('q_fifo', 'g3', 'g', delay => '3 hours');
SELECT * FROM pg_temp.jobs('g1', 'g2', 'g3');
SELECT pg_temp.take('q_fifo') AS delivered;
SET pgjobq.now = '2030-01-01 02:20:00+00';
SELECT pg_temp.wave('q_fifo') AS wave_1;
SELECT pg_temp.wave('q_fifo') AS wave_2;
SELECT * FROM pg_temp.jobs('g3');
SELECT pg_temp.wave('q_fifo') AS wave_3;
SET pgjobq.now = '2030-01-01 04:20:00+00';
SELECT pg_temp.wave('q_fifo') AS wave_4;

-- A batch with ordering keys: each key in send order; keys are per queue.
SELECT pgjobq.create_queue('q_fifo_two');
SELECT count(*) FROM pgjobq.send_batch('q_fifo',
    ARRAY['{"n": "x1"}', '{"n": "y1"}', '{"n": "x2"}', '{"n": "z1"}', '{"n": "x3"}']::jsonb[],
    ordering_keys => ARRAY['x', 'y', 'x', NULL, 'x']);
SELECT pg_temp.send('q_fifo_two', 'x1 elsewhere', 'x');
SELECT * FROM pg_temp.jobs('x1', 'y1', 'x2', 'z1', 'x3', 'x1 elsewhere');
SELECT pg_temp.wave('q_fifo') AS wave_1;
SELECT pg_temp.wave('q_fifo') AS wave_2;
SELECT pg_temp.wave('q_fifo') AS wave_3;
SELECT pg_temp.wave('q_fifo') AS wave_4;
SELECT pg_temp.wave('q_fifo_two') AS other_queue;
-- The first job of a chain may have a key (it has no parent).
SELECT count(*) FROM pgjobq.send_batch('q_fifo_two', ARRAY['{"n": "k1"}', '{"n": "k2"}']::jsonb[],
                                       chain => true, ordering_keys => ARRAY['k', NULL]);
SELECT * FROM pg_temp.jobs('k1', 'k2');
SELECT pg_temp.wave('q_fifo_two') AS wave_1;
SELECT pg_temp.wave('q_fifo_two') AS wave_2;

-- 200 jobs of one key and 200 unkeyed ones: taking ten at a time, each receive gets the head of
-- the key and nine others, never two jobs of the key, and the key's jobs run in send order.
SELECT count(*) FROM pgjobq.send_batch('q_fifo',
    (SELECT array_agg(jsonb_build_object('n', 'm' || g, 'i', g) ORDER BY g) FROM generate_series(1, 200) AS g),
    ordering_keys => array_fill('m'::text, ARRAY[200]));
SELECT count(*) FROM pgjobq.send_batch('q_fifo',
    (SELECT array_agg(jsonb_build_object('n', 'v' || g) ORDER BY g) FROM generate_series(1, 200) AS g),
    priority => -1);
CREATE TEMP TABLE fifo_log (step integer, keyed integer, unkeyed integer, i integer[]);
DO $$
DECLARE
    got  record;
    seen integer[];
    k    integer;
    u    integer;
BEGIN
    FOR s IN 1 .. 1000 LOOP
        k := 0; u := 0; seen := '{}';
        FOR got IN SELECT r.id, r.lease_token, (r.payload ->> 'i')::integer AS i
                     FROM pgjobq.receive('q_fifo', 10) AS r LOOP
            IF got.i IS NULL THEN u := u + 1; ELSE k := k + 1; seen := seen || got.i; END IF;
            PERFORM pgjobq.ack(got.id, got.lease_token);
        END LOOP;
        INSERT INTO fifo_log VALUES (s, k, u, seen);
        EXIT WHEN k + u = 0;
    END LOOP;
END
$$;
SELECT max(keyed) AS most_keyed_at_once, sum(keyed) AS keyed, sum(unkeyed) AS unkeyed,
       (SELECT array_agg(x ORDER BY step, o) FROM fifo_log, unnest(i) WITH ORDINALITY AS e(x, o))
           = ARRAY(SELECT generate_series(1, 200)) AS in_send_order
  FROM fifo_log;

-- Bad keys: empty or longer than 255 characters (255 is fine); ordering_keys pairs with
-- payloads.
SELECT pg_temp.try($$SELECT pgjobq.send('q_fifo', '{}', ordering_key => '')$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_fifo', '{}', ordering_key => repeat('k', 256))$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_fifo', ARRAY['{}', '{}']::jsonb[], ordering_keys => ARRAY['k', ''])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_fifo', ARRAY['{}', '{}']::jsonb[], ordering_keys => ARRAY['k'])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_fifo', ARRAY['{}']::jsonb[], ordering_keys => ARRAY['k', 'k'])$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_fifo', '{}', depends_on => ARRAY[1]::bigint[], ordering_key => 'k')$$);
SELECT pg_temp.send('q_fifo', 'long', repeat('k', 255));
SELECT pg_temp.wave('q_fifo') AS wave;

-- A redriven job has a lower id than the job of its key that runs now; a later job of the key
-- cancelled meanwhile must not let the redriven one run beside it (found in review).
SELECT pg_temp.send('q_fifo_dl', 'rD', 'r');
SELECT pg_temp.take('q_fifo_dl'), pg_temp.fail('rD');
SELECT pg_temp.send('q_fifo_dl', 'rH', 'r'), pg_temp.send('q_fifo_dl', 'rJ', 'r');
SELECT pg_temp.take('q_fifo_dl');
SELECT pgjobq.redrive('q_fifo_dl', ARRAY[pg_temp.id_of('rD')]);
SELECT pgjobq.cancel(pg_temp.id_of('rJ'));
SELECT * FROM pg_temp.jobs('rD', 'rH', 'rJ');
SELECT pg_temp.take('q_fifo_dl') AS while_rh_runs;
SELECT pg_temp.ack('rH');
SELECT pg_temp.wave('q_fifo_dl') AS after_rh;

SELECT count(*) AS live FROM pgjobq.job
 WHERE queue_id IN (SELECT queue_id FROM pgjobq.queue WHERE name IN ('q_fifo', 'q_fifo_dl', 'q_fifo_two'));
SELECT pgjobq.drop_queue('q_fifo', force => true);
SELECT pgjobq.drop_queue('q_fifo_dl', force => true);
SELECT pgjobq.drop_queue('q_fifo_two', force => true);
