-- maintain() deletes finished jobs past their queue's retention and dead letters past
-- dead_letter_retention, and nothing younger.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_keep', retention => '1 day', max_attempts => 1, dead_letter_retention => '2 days');
SELECT pgjobq.create_queue('q_keep_forever', retention => '10 days', max_attempts => 1);
SELECT count(*) FROM pgjobq.send_batch('q_keep', ARRAY['{"ok": 1}', '{"ok": 2}']::jsonb[]);
SELECT count(*) FROM pgjobq.send_batch('q_keep_forever', ARRAY['{"ok": 1}', '{"bad": 1}']::jsonb[]);
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_keep');
SELECT pgjobq.nack(id, lease_token, 'no') FROM pgjobq.receive('q_keep');
SELECT pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_keep_forever');
SELECT pgjobq.nack(id, lease_token, 'no') FROM pgjobq.receive('q_keep_forever');
-- counts shows what each table holds for the two queues.
CREATE VIEW pg_temp.counts AS
SELECT q.name,
       (SELECT count(*) FROM pgjobq.job_archive AS a WHERE a.queue_id = q.queue_id) AS finished,
       (SELECT count(*) FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id) AS dead
  FROM pgjobq.queue AS q WHERE q.name LIKE 'q_keep%' ORDER BY q.name;
SELECT * FROM pg_temp.counts;
SELECT pgjobq.maintain();
SET pgjobq.now = '2030-01-02 00:00:00+00';  -- exactly one day: not older than retention yet
SELECT pgjobq.maintain();
SET pgjobq.now = '2030-01-02 00:00:00.000001+00';
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
SET pgjobq.now = '2030-01-03 00:00:01+00';
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
SET pgjobq.now = '2030-06-01 00:00:00+00';  -- dead letters without a retention stay
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
SELECT pgjobq.drop_queue('q_keep', force => true);
SELECT pgjobq.drop_queue('q_keep_forever', force => true);
