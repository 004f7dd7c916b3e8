-- Redelivery: an expired lease makes the job available again as a new attempt; a job whose
-- leases keep expiring (its worker keeps crashing) ends in the dead-letter queue.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_redeliver', lease_duration => '30 seconds', max_attempts => 3);
SELECT pgjobq.send('q_redeliver', '{"task": "crashes"}', notify_completion => true) AS id \gset

SELECT lease_token AS t1, attempt FROM pgjobq.receive('q_redeliver') \gset
-- Still leased just before the expiry: nobody else gets it.
SET pgjobq.now = '2030-01-01 00:00:29.999999+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
-- At the expiry it is delivered again, with a new token and attempt 2.
SET pgjobq.now = '2030-01-01 00:00:30+00';
SELECT id = :id AS same_job, attempt, lease_token <> :'t1' AS new_token, lease_token AS t2
  FROM pgjobq.receive('q_redeliver') \gset
SELECT :'same_job' AS same_job, :attempt AS attempt, :'new_token' AS new_token;
-- The first holder's token no longer works.
SELECT pgjobq.ack(:id, :'t1');
SELECT pgjobq.extend(:id, :'t1');
SELECT state, attempts, errors FROM pgjobq.get_job(:id);

-- Heartbeats keep the job: extended before expiry, it is not redelivered.
SET pgjobq.now = '2030-01-01 00:00:50+00';
SELECT pgjobq.extend(:id, :'t2');
SET pgjobq.now = '2030-01-01 00:01:10+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
-- The third lease also expires: that was the last attempt, so the job is dead, not redelivered.
SET pgjobq.now = '2030-01-01 00:01:20+00';
SELECT attempt FROM pgjobq.receive('q_redeliver');
SET pgjobq.now = '2030-01-01 00:01:50+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
SELECT state, attempts, errors FROM pgjobq.get_job(:id);
SELECT id = :id AS same_job, reason, attempts, payload FROM pgjobq.list_dead('q_redeliver');
-- Much later it is still dead and never delivered again.
SET pgjobq.now = '2031-01-01 00:00:00+00';
SELECT count(*) FROM pgjobq.receive('q_redeliver');
SELECT count(*) FROM pgjobq.job WHERE id = :id;

SELECT pgjobq.drop_queue('q_redeliver', force => true);
