-- Retries back off exponentially: a job that failed its attempt n waits
-- backoff_base * 2^(n-1), capped at backoff_max, shortened by up to backoff_jitter of itself.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_backoff', max_attempts => 9, backoff_base => '1 second',
                           backoff_max => '30 seconds', backoff_jitter => 0);
SELECT pgjobq.send('q_backoff', '{}') AS id \gset
-- fail_once receives the job at its due time, nacks it, moves the clock to the retry time and
-- returns the attempt and the delay it got (n is only there to call it once per row).
CREATE FUNCTION pg_temp.fail_once(n integer, OUT attempt integer, OUT delay interval) LANGUAGE plpgsql AS $$
DECLARE
    j   record;
    due timestamptz;
BEGIN
    SELECT * INTO STRICT j FROM pgjobq.receive('q_backoff');
    PERFORM pgjobq.nack(j.id, j.lease_token, 'fail ' || j.attempt);
    SELECT g.run_at INTO due FROM pgjobq.get_job(j.id) AS g;
    attempt := j.attempt;
    delay := due - pgjobq.now();
    IF due IS NOT NULL THEN
        PERFORM set_config('pgjobq.now', due::text, false);
    END IF;
END $$;
-- Jitter 0: exactly 1, 2, 4, 8, 16 seconds, then capped at 30.
SELECT (f).attempt, (f).delay
  FROM (SELECT pg_temp.fail_once(n) AS f FROM generate_series(1, 8) AS n OFFSET 0) AS s;
-- After eight failures the job is due again (the clock is at its retry time), with all eight
-- failures in its history.
SELECT state, attempts, jsonb_array_length(errors) AS history, errors->7 AS last
  FROM pgjobq.get_job(:id);
-- Its last attempt fails for good.
SELECT attempt FROM pg_temp.fail_once(9);
SELECT state, attempts FROM pgjobq.get_job(:id);

-- A job is not received a moment before its retry time.
SET pgjobq.now = '2030-01-01 01:00:00+00';
SELECT pgjobq.alter_queue('q_backoff', backoff_base => '10 seconds', backoff_max => '1 hour');
SELECT pgjobq.send('q_backoff', '{}') AS id \gset
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_backoff');
SELECT state, run_at FROM pgjobq.get_job(:id);
SET pgjobq.now = '2030-01-01 01:00:09.999999+00';
SELECT count(*) FROM pgjobq.receive('q_backoff');
SET pgjobq.now = '2030-01-01 01:00:10+00';
SELECT attempt FROM pgjobq.receive('q_backoff');
SELECT pgjobq.drop_queue('q_backoff', force => true);

-- backoff_base 0: a failed job is due again at once.
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_backoff_zero', backoff_base => '0', backoff_max => '0');
SELECT pgjobq.send('q_backoff_zero', '{}') AS id \gset
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_backoff_zero');
SELECT state, run_at - pgjobq.now() AS delay FROM pgjobq.get_job(:id);
SELECT attempt FROM pgjobq.receive('q_backoff_zero');
SELECT pgjobq.drop_queue('q_backoff_zero', force => true);

-- Jitter 0.5, through nack: 300 jobs fail their first attempt (base 4 s); each waits between
-- 2 and 4 seconds, and the waits differ.
SELECT pgjobq.create_queue('q_backoff_jitter', backoff_base => '4 seconds', backoff_jitter => 0.5);
SELECT count(*) FROM pgjobq.send_batch('q_backoff_jitter', (SELECT array_agg('{}'::jsonb) FROM generate_series(1, 300)));
SELECT count(*) FILTER (WHERE pgjobq.nack(id, lease_token) IS NOT NULL) AS failed
  FROM pgjobq.receive('q_backoff_jitter', 300);
SELECT count(*) AS jobs,
       bool_and(j.run_at - pgjobq.now() BETWEEN interval '2 seconds' AND interval '4 seconds') AS within_jitter,
       count(DISTINCT j.run_at) > 10 AS varies,
       min(j.run_at - pgjobq.now()) < interval '2.5 seconds' AS some_short,
       max(j.run_at - pgjobq.now()) > interval '3.5 seconds' AS some_long
  FROM pgjobq.job AS j JOIN pgjobq.queue AS q ON q.queue_id = j.queue_id
 WHERE q.name = 'q_backoff_jitter' AND j.state = 'retrying';
-- The same bounds for later attempts, drawn many times from the backoff function itself: delay
-- for a failed attempt a within [2^(a-1) / 2, 2^(a-1)] seconds (base 1 s), and capped at
-- backoff_max (1 hour) also when the attempt number is huge.
SELECT pgjobq.alter_queue('q_backoff_jitter', backoff_base => '1 second');
SELECT bool_and(d BETWEEN make_interval(secs => least(0.5 * 2 ^ (a - 1), 1800))
                      AND make_interval(secs => least(2 ^ (a - 1), 3600))) AS within_jitter,
       count(DISTINCT d) > 100 AS varies
  FROM (SELECT a, pgjobq._backoff(q, a) AS d
          FROM pgjobq.queue AS q, generate_series(1, 20) AS a, generate_series(1, 50)
         WHERE q.name = 'q_backoff_jitter') AS s;
SELECT pgjobq.alter_queue('q_backoff_jitter', backoff_jitter => 0);
SELECT pgjobq._backoff(q, a) AS delay, a AS attempt
  FROM pgjobq.queue AS q, unnest(ARRAY[0, 1, 12, 13, 1000, 2147483647]) AS a
 WHERE q.name = 'q_backoff_jitter';
SELECT pgjobq.drop_queue('q_backoff_jitter', force => true);
