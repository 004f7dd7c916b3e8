-- Dead letters: jobs that used up their attempts keep their payload, attributes and attempt
-- history; list_dead (oldest death first), redrive (all or by id) and purge_dead.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_dead', max_attempts => 2, backoff_base => '0', backoff_max => '0');
-- Ids are shown relative to :base so that the file runs in any order.
SELECT nextval('pgjobq.job_id_seq') AS base \gset
SELECT id - :base AS id FROM pgjobq.send_batch('q_dead', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[],
    attributes => ARRAY['{"k": 1}', '{"k": 2}', '{"k": 3}']::jsonb[], priority => 4,
    notify_completion => true) AS id;
-- fail nacks job id until it is dead and returns the deliveries it took. Other jobs it receives
-- on the way are released, which does not charge their attempt.
CREATE FUNCTION pg_temp.fail(id bigint) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    got record;
    hit boolean;
    n   integer := 0;
BEGIN
    LOOP
        hit := false;
        FOR got IN SELECT r.id, r.lease_token, r.attempt FROM pgjobq.receive('q_dead', 100) AS r LOOP
            IF got.id = fail.id THEN
                PERFORM pgjobq.nack(got.id, got.lease_token, 'failure ' || got.attempt);
                n := n + 1;
                hit := true;
            ELSE
                PERFORM pgjobq.release(got.id, got.lease_token);
            END IF;
        END LOOP;
        EXIT WHEN NOT hit;
    END LOOP;
    RETURN n;
END $$;
-- Jobs die in the order 3, 1, 2, a second apart.
SELECT pg_temp.fail(:base + 3) AS deliveries;
SET pgjobq.now = '2030-01-01 00:00:01+00';
SELECT pg_temp.fail(:base + 1) AS deliveries;
SET pgjobq.now = '2030-01-01 00:00:02+00';
SELECT pg_temp.fail(:base + 2) AS deliveries;
-- Every dead job keeps what it had, with an entry per failed attempt, oldest death first.
SELECT id - :base AS id, reason, attempts, payload, attributes, errors, created_at, died_at
  FROM pgjobq.list_dead('q_dead');
SELECT id - :base AS id FROM pgjobq.list_dead('q_dead', max_jobs => 2);
SELECT id - :base AS id, state, attempts, max_attempts, finished_at FROM pgjobq.get_job(:base + 1);
SELECT queue, available, leased, retrying, dead FROM pgjobq.list_queues() WHERE queue = 'q_dead';
-- Dead jobs are not delivered.
SELECT count(*) FROM pgjobq.receive('q_dead', 10);

-- Redrive by id: available again with fresh attempts, its priority, attributes and
-- notify_completion, and its history kept.
SELECT pgjobq.redrive('q_dead', ARRAY[:base + 1]);
SELECT id - :base AS id, state, attempts, priority, attributes, jsonb_array_length(errors) AS history,
       run_at, created_at
  FROM pgjobq.get_job(:base + 1);
SELECT notify_completion FROM pgjobq.job WHERE id = :base + 1;
SELECT id - :base AS id, attempt, payload FROM pgjobq.receive('q_dead');
-- Ids that are not dead letters of the queue are not moved: leased, unknown, another queue's.
SELECT pgjobq.create_queue('q_dead_other', max_attempts => 1);
SELECT pgjobq.send('q_dead_other', '{"other": true}') AS other \gset
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_dead_other');
SELECT pgjobq.redrive('q_dead', ARRAY[:base + 1, -1, :other]);
SELECT pgjobq.redrive('q_dead', ARRAY[]::bigint[]);
SELECT pgjobq.purge_dead('q_dead', ARRAY[:other]);
SELECT id = :other AS other, state FROM pgjobq.get_job(:other);
-- Redrive all: the two other dead jobs (job 1 is leased again).
SELECT pgjobq.redrive('q_dead');
SELECT count(*) FROM pgjobq.list_dead('q_dead');
SELECT queue, available, leased, retrying, dead FROM pgjobq.list_queues() WHERE queue = 'q_dead';
-- They fail again, in the order 2, 3.
SELECT pg_temp.fail(:base + 2) + pg_temp.fail(:base + 3) AS deliveries;
SELECT id - :base AS id, attempts, jsonb_array_length(errors) AS history FROM pgjobq.list_dead('q_dead');
-- Redriving what was redriven already moves nothing.
SELECT pgjobq.redrive('q_dead', ARRAY[:base + 1]);

-- Purge by id, then all; a purged job is gone.
SELECT pgjobq.purge_dead('q_dead', ARRAY[:base + 2]);
SELECT id - :base AS id FROM pgjobq.list_dead('q_dead');
SELECT pgjobq.purge_dead('q_dead', ARRAY[:base + 1, -1]);
SELECT pgjobq.purge_dead('q_dead');
SELECT pgjobq.purge_dead('q_dead');
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.get_job(%s)', :base + 3)), '\m' || (:base + 3) || '\M', '<id>') AS try;
SELECT count(*) FROM pgjobq.list_dead('q_dead');
-- The other queue's dead letter was not touched.
SELECT count(*) FROM pgjobq.list_dead('q_dead_other');

-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.list_dead('q_dead_nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.list_dead(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.list_dead('q_dead', max_jobs => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.list_dead('q_dead', max_jobs => -1)$$);
SELECT pg_temp.try($$SELECT pgjobq.list_dead('q_dead', max_jobs => NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.redrive('q_dead_nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.redrive(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.purge_dead('q_dead_nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.purge_dead(NULL)$$);
-- An unknown queue is an error whatever plan the DELETE gets, also with no dead letter at all.
SELECT pgjobq.drop_queue('q_dead_other', force => true);
BEGIN;
DELETE FROM pgjobq.dead_letter;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SELECT pg_temp.try($$SELECT pgjobq.purge_dead('q_dead_nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.purge_dead('q_dead_nope', ARRAY[1])$$);
ROLLBACK;

SELECT pgjobq.drop_queue('q_dead', force => true);
