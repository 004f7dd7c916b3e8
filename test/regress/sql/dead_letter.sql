-- Dead letters: jobs that used up their attempts; list, redrive, purge.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pgjobq.create_queue('q_dead', max_attempts => 2, backoff_base => '0');
SELECT nextval('pgjobq.job_id_seq') AS base \gset
SELECT count(*) FROM pgjobq.send_batch('q_dead', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[],
                                       attributes => ARRAY['{"k": 1}', '{"k": 2}', '{"k": 3}']::jsonb[]);
-- fail_all nacks everything available until nothing is left to deliver.
CREATE FUNCTION pg_temp.fail_all() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    j record;
    n integer := 0;
BEGIN
    LOOP
        SELECT * INTO j FROM pgjobq.receive('q_dead');
        EXIT WHEN NOT FOUND;
        PERFORM pgjobq.nack(j.id, j.lease_token, 'failure ' || j.attempt);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;
SELECT pg_temp.fail_all() AS deliveries;
SELECT id - :base AS id, reason, attempts, payload, attributes, errors, created_at, died_at
  FROM pgjobq.list_dead('q_dead');
SELECT id - :base AS id FROM pgjobq.list_dead('q_dead', max_jobs => 2);
SELECT state FROM pgjobq.get_job(:base + 1);
SELECT queue, dead FROM pgjobq.list_queues() WHERE queue = 'q_dead';

-- Redrive by id: back to available with fresh attempts and its history kept.
SELECT pgjobq.redrive('q_dead', ARRAY[:base + 1]);
SELECT state, attempts, jsonb_array_length(errors) AS history FROM pgjobq.get_job(:base + 1);
SELECT id - :base AS id, attempt, payload FROM pgjobq.receive('q_dead');
-- Ids that are not dead letters of the queue are not moved.
SELECT pgjobq.redrive('q_dead', ARRAY[:base + 1, 999999999]);
-- Redrive all.
SELECT pgjobq.redrive('q_dead');
SELECT count(*) FROM pgjobq.list_dead('q_dead');
SELECT pg_temp.fail_all() AS deliveries;
SELECT count(*) FROM pgjobq.list_dead('q_dead');

-- Purge by id, then all.
SELECT pgjobq.purge_dead('q_dead', ARRAY[:base + 2]);
SELECT id - :base AS id FROM pgjobq.list_dead('q_dead');
SELECT pgjobq.purge_dead('q_dead');
SELECT pgjobq.purge_dead('q_dead');
SELECT count(*) FROM pgjobq.dead_letter;

-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.list_dead('nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.list_dead('q_dead', max_jobs => 0)$$);
SELECT pg_temp.try($$SELECT pgjobq.redrive('nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.purge_dead('nope')$$);
SELECT pg_temp.try($$SELECT pgjobq.purge_dead(NULL)$$);

SELECT pgjobq.drop_queue('q_dead', force => true);
