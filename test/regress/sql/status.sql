-- get_job: the state of a job wherever it lives.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT pgjobq.create_queue('q_status', max_attempts => 1);
SELECT pgjobq.create_queue('q_status_retry', max_attempts => 2, backoff_base => '1 minute', backoff_jitter => 0);
SELECT pgjobq.send('q_status', '{"s": "scheduled"}', delay => '1 hour') AS scheduled \gset
SELECT pgjobq.send('q_status', '{"s": "due"}', delay => '1 second') AS due \gset
SELECT pgjobq.send('q_status', '{"s": "available"}') AS available \gset
SELECT pgjobq.send('q_status', '{"s": "leased"}', priority => 3) AS leased \gset
SELECT pgjobq.send('q_status', '{"s": "completed"}', priority => 2) AS completed \gset
SELECT pgjobq.send('q_status', '{"s": "dead"}', priority => 1) AS dead \gset
SELECT pgjobq.send('q_status_retry', '{"s": "retrying"}') AS retrying \gset
SELECT count(*) FROM pgjobq.receive('q_status');  -- the leased one
SELECT pgjobq.ack(id, lease_token, '{"done": true}') FROM pgjobq.receive('q_status');
SELECT pgjobq.nack(id, lease_token, 'bad') FROM pgjobq.receive('q_status');
SELECT pgjobq.nack(id, lease_token, 'flaky') FROM pgjobq.receive('q_status_retry');
SET pgjobq.now = '2030-01-01 00:00:01+00';
SELECT s.payload->>'s' AS job, j.state, j.queue, j.priority, j.attempts, j.max_attempts, j.result,
       jsonb_array_length(j.errors) AS errors, j.run_at, j.lease_expires_at, j.finished_at
  FROM (VALUES (:scheduled), (:due), (:available), (:leased), (:completed), (:dead), (:retrying))
       AS v(id)
  CROSS JOIN LATERAL pgjobq.get_job(v.id) AS j
  JOIN LATERAL (SELECT j.payload) AS s ON true
 ORDER BY v.id;

SELECT pg_temp.try($$SELECT pgjobq.get_job(-1)$$);
SELECT pg_temp.try($$SELECT pgjobq.get_job(NULL)$$);

SELECT pgjobq.drop_queue('q_status', force => true);
SELECT pgjobq.drop_queue('q_status_retry', force => true);
