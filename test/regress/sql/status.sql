-- get_job: the state of a job wherever it lives (live, finished or dead), with its attempts,
-- history, result and times. A delayed or retrying job whose time has come shows as available.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_status', max_attempts => 1);
SELECT pgjobq.create_queue('q_status_retry', max_attempts => 2, backoff_base => '1 minute',
                           backoff_jitter => 0);
SELECT pgjobq.send('q_status', '{"s": "scheduled"}', delay => '1 hour') AS scheduled \gset
SELECT pgjobq.send('q_status', '{"s": "due"}', delay => '1 second') AS due \gset
SELECT pgjobq.send('q_status', '{"s": "available"}', attributes => '{"a": 1}') AS available \gset
SELECT pgjobq.send('q_status', '{"s": "leased"}', priority => 3) AS leased \gset
SELECT pgjobq.send('q_status', '{"s": "completed"}', priority => 2) AS completed \gset
SELECT pgjobq.send('q_status', '{"s": "dead"}', priority => 1) AS dead \gset
SELECT pgjobq.send('q_status', '{"s": "completed, no result"}', priority => 1) AS no_result \gset
SELECT pgjobq.send('q_status_retry', '{"s": "retrying"}') AS retrying \gset
SELECT pgjobq.send('q_status_retry', '{"s": "retry due"}') AS retry_due \gset
SELECT payload FROM pgjobq.receive('q_status');
SELECT pgjobq.ack(id, lease_token, '{"done": true}') FROM pgjobq.receive('q_status');
SELECT pgjobq.nack(id, lease_token, 'bad') FROM pgjobq.receive('q_status');
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_status');
SELECT pgjobq.nack(id, lease_token, 'flaky') FROM pgjobq.receive('q_status_retry');
SELECT pgjobq.nack(id, lease_token, 'flaky', retry_in => '1 second') FROM pgjobq.receive('q_status_retry');
-- One second later: the job delayed by a second and the one retried after a second are due.
SET pgjobq.now = '2030-01-01 00:00:01+00';
SELECT j.payload->>'s' AS job, j.state, j.queue, j.priority, j.attempts, j.max_attempts,
       j.attributes, j.result, jsonb_array_length(j.errors) AS errors, j.created_at, j.run_at,
       j.lease_expires_at, j.finished_at
  FROM (VALUES (:scheduled), (:due), (:available), (:leased), (:completed), (:dead), (:no_result),
               (:retrying), (:retry_due)) AS v(id)
  CROSS JOIN LATERAL pgjobq.get_job(v.id) AS j
 ORDER BY v.id;
-- The id is the job's, and errors hold the attempt history.
SELECT id = :dead AS same_id, errors FROM pgjobq.get_job(:dead);
SELECT id = :retrying AS same_id, errors FROM pgjobq.get_job(:retrying);
-- get_job only reads: the due jobs are still not leased, and are received as usual.
SELECT payload->>'s' AS job FROM pgjobq.receive('q_status', 10);
SELECT payload->>'s' AS job FROM pgjobq.receive('q_status_retry', 10);

-- Unknown and NULL ids.
SELECT pg_temp.try($$SELECT pgjobq.get_job(-1)$$);
SELECT pg_temp.try($$SELECT pgjobq.get_job(0)$$);
SELECT pg_temp.try($$SELECT pgjobq.get_job(NULL)$$);
-- A job of a dropped queue is gone with it.
SELECT pgjobq.drop_queue('q_status', force => true);
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.get_job(%s)', :completed)),
                      '\m' || :completed || '\M', '<id>') AS try;
SELECT pgjobq.drop_queue('q_status_retry', force => true);
