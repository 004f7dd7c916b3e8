-- Redelivery: an expired lease makes the job available again as a new attempt with a new
-- token; the old token no longer works. A job whose leases keep expiring (its worker keeps
-- crashing) ends in the dead-letter queue after max_attempts: it never loops forever. Heartbeats
-- (extend) keep a job from being redelivered.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_redeliver', lease_duration => '30 seconds', max_attempts => 3);
SELECT pgjobq.send('q_redeliver', '{"task": "crashes"}', attributes => '{"k": 1}') AS id \gset

SELECT lease_token AS t1, attempt FROM pgjobq.receive('q_redeliver') \gset
SELECT :attempt AS attempt;
-- Still leased a moment before the expiry: nobody else gets it.
SET pgjobq.now = '2030-01-01 00:00:29.999999+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
-- At the expiry it is delivered again: the same job and payload, attempt 2, a new token.
SET pgjobq.now = '2030-01-01 00:00:30+00';
SELECT id = :id AS same_job, payload, attributes, attempt, lease_token <> :'t1' AS new_token,
       lease_token AS t2, lease_expires_at
  FROM pgjobq.receive('q_redeliver') \gset
SELECT :'same_job' AS same_job, :'payload' AS payload, :'attributes' AS attributes,
       :attempt AS attempt, :'new_token' AS new_token, :'lease_expires_at' AS lease_expires_at;
-- The first holder's token no longer works for anything, and changes nothing.
SELECT pgjobq.ack(:id, :'t1');
SELECT pgjobq.nack(:id, :'t1', 'late failure');
SELECT pgjobq.extend(:id, :'t1');
SELECT count(*) FROM pgjobq.ack_many(ARRAY[:id], ARRAY[:'t1']::uuid[]);
-- The history records the expired lease as attempt 1's outcome.
SELECT state, attempts, lease_expires_at, errors FROM pgjobq.get_job(:id);

-- Heartbeats keep the job: extended before its expiry, it is not redelivered after the
-- original expiry, only after the extended one.
SET pgjobq.now = '2030-01-01 00:00:50+00';
SELECT pgjobq.extend(:id, :'t2');
SET pgjobq.now = '2030-01-01 00:01:10+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
SELECT pgjobq.extend(:id, :'t2', lease_duration => '1 hour');
SET pgjobq.now = '2030-01-01 02:00:00+00';
-- Its holder lets it expire: the third attempt, again with a new token.
SELECT attempt, lease_token <> :'t2' AS new_token FROM pgjobq.receive('q_redeliver');
-- The third lease also expires: that was the last attempt, so the job is dead, not delivered.
SET pgjobq.now = '2030-01-01 02:00:30+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
SELECT state, attempts, errors FROM pgjobq.get_job(:id);
SELECT id = :id AS same_job, reason, attempts, payload, attributes, died_at
  FROM pgjobq.list_dead('q_redeliver');
-- Much later it is still dead and never delivered again.
SET pgjobq.now = '2031-01-01 00:00:00+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
SELECT queue, available, leased, retrying, dead FROM pgjobq.list_queues() WHERE queue = 'q_redeliver';

-- A crash loop over many jobs: each receive leases every due job and lets the leases expire.
-- With max_attempts 4 every job is delivered exactly 4 times and then dead; the loop ends.
SELECT pgjobq.create_queue('q_redeliver_loop', lease_duration => '1 second', max_attempts => 4);
SELECT count(*) FROM pgjobq.send_batch('q_redeliver_loop', (SELECT array_agg(jsonb_build_object('n', g)) FROM generate_series(1, 20) AS g));
CREATE FUNCTION pg_temp.crash_loop(OUT rounds integer, OUT deliveries integer) LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    rounds := 0;
    deliveries := 0;
    LOOP
        SELECT count(*) INTO n FROM pgjobq.receive('q_redeliver_loop', 100);
        EXIT WHEN n = 0 OR rounds = 100;
        rounds := rounds + 1;
        deliveries := deliveries + n;
        PERFORM set_config('pgjobq.now', (pgjobq.now() + interval '1 second')::text, false);
    END LOOP;
END $$;
SELECT * FROM pg_temp.crash_loop();
SELECT count(*) AS dead, min(attempts) AS min_attempts, max(attempts) AS max_attempts,
       bool_and(reason = 'lease_expired') AS all_expired,
       bool_and(jsonb_array_length(errors) = 4) AS four_entries
  FROM pgjobq.list_dead('q_redeliver_loop');
SELECT queue, scheduled, available, leased, retrying, dead
  FROM pgjobq.list_queues() WHERE queue = 'q_redeliver_loop';

-- With max_attempts 1 the first expired lease is fatal.
SET pgjobq.now = '2031-06-01 00:00:00+00';
SELECT pgjobq.create_queue('q_redeliver_once', lease_duration => '10 seconds', max_attempts => 1);
SELECT pgjobq.send('q_redeliver_once', '{}') AS once \gset
SELECT attempt FROM pgjobq.receive('q_redeliver_once');
SET pgjobq.now = '2031-06-01 00:00:10+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver_once');
SELECT state, attempts, errors->0->>'outcome' AS outcome FROM pgjobq.get_job(:once);

SELECT pgjobq.drop_queue('q_redeliver', force => true);
SELECT pgjobq.drop_queue('q_redeliver_loop', force => true);
SELECT pgjobq.drop_queue('q_redeliver_once', force => true);
