-- Retries back off exponentially: base * 2^(attempt-1), capped at backoff_max, with jitter.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_backoff', max_attempts => 8, backoff_base => '1 second',
                           backoff_max => '30 seconds', backoff_jitter => 0);
SELECT pgjobq.send('q_backoff', '{}') AS id \gset
-- fail_once receives the job at its due time and nacks it, returning the delay it got.
CREATE FUNCTION pg_temp.fail_once() RETURNS interval LANGUAGE plpgsql AS $$
DECLARE
    j record;
    due timestamptz;
    delay interval;
BEGIN
    SELECT * INTO j FROM pgjobq.receive('q_backoff');
    PERFORM pgjobq.nack(j.id, j.lease_token, 'fail');
    SELECT run_at INTO due FROM pgjobq.job WHERE id = j.id;
    delay := due - pgjobq.now();
    PERFORM set_config('pgjobq.now', due::text, false);  -- the clock moves to the retry time
    RETURN delay;
END $$;
SELECT attempt, pg_temp.fail_once() AS delay FROM generate_series(1, 7) AS attempt;
SELECT errors->6->>'attempt' AS last_attempt FROM pgjobq.get_job(:id);

-- With jitter 0.5 each delay falls in [half, full] of the exponential value.
SELECT pgjobq.alter_queue('q_backoff', backoff_jitter => 0.5, backoff_max => '1 hour');
SELECT bool_and(d BETWEEN make_interval(secs => 0.5 * 2 ^ (a - 1)) AND make_interval(secs => 2 ^ (a - 1)))
       AS within_jitter,
       count(DISTINCT d) > 1 AS varies
  FROM (SELECT a, pgjobq._backoff(q, a) AS d
          FROM pgjobq.queue AS q, generate_series(1, 10) AS a, generate_series(1, 50)
         WHERE q.name = 'q_backoff') AS s;
-- Large attempt numbers stay capped and never overflow.
SELECT pgjobq.alter_queue('q_backoff', backoff_jitter => 0);
SELECT pgjobq._backoff(q, 1000) FROM pgjobq.queue AS q WHERE q.name = 'q_backoff';

SELECT pgjobq.drop_queue('q_backoff', force => true);
