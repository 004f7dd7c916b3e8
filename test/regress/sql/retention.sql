-- maintain() deletes finished jobs once they are older than their queue's retention and dead
-- letters once older than its dead_letter_retention (never, when that is NULL), nothing
-- younger and no live job, and returns how many rows it deleted.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_keep', retention => '1 day', max_attempts => 1,
                           dead_letter_retention => '2 days');
SELECT pgjobq.create_queue('q_keep_forever', retention => '10 days', max_attempts => 1);
SELECT pgjobq.create_queue('q_keep_none', retention => '0', max_attempts => 1,
                           dead_letter_retention => '1 microsecond');
-- finish acks one job of queue (returning its id) and dead-letters another, and leaves a leased
-- and a scheduled job.
CREATE FUNCTION pg_temp.finish(queue text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    done bigint;
BEGIN
    PERFORM pgjobq.send_batch(queue, ARRAY['{"ok": 1}', '{"bad": 1}', '{"slow": 1}']::jsonb[]);
    PERFORM pgjobq.send(queue, '{"later": 1}', delay => '1 year');
    SELECT r.id INTO done FROM pgjobq.receive(queue) AS r WHERE pgjobq.ack(r.id, r.lease_token) = 'completed';
    PERFORM pgjobq.nack(r.id, r.lease_token, 'no') FROM pgjobq.receive(queue) AS r;
    PERFORM pgjobq.receive(queue, lease_duration => '7 days');
    RETURN done;
END $$;
SELECT pg_temp.finish('q_keep') AS done \gset
SELECT pg_temp.finish('q_keep_forever') IS NOT NULL AS finished;
SELECT pg_temp.finish('q_keep_none') IS NOT NULL AS finished;
-- counts shows what each table holds for this file's queues.
CREATE VIEW pg_temp.counts AS
SELECT q.name,
       (SELECT count(*) FROM pgjobq.job_archive AS a WHERE a.queue_id = q.queue_id) AS finished,
       (SELECT count(*) FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id) AS dead,
       (SELECT count(*) FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id) AS live
  FROM pgjobq.queue AS q WHERE q.name LIKE 'q\_keep%' ORDER BY q.name;
SELECT * FROM pg_temp.counts;
-- At once: nothing is older than a retention, not even of zero.
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
-- Two microseconds later the retentions of q_keep_none (zero and a microsecond) have passed.
SET pgjobq.now = '2030-01-01 00:00:00.000002+00';
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
-- Exactly one day: not older than the retention yet; a microsecond more, it is, and get_job
-- no longer knows the job.
SET pgjobq.now = '2030-01-02 00:00:00+00';
SELECT pgjobq.maintain();
SELECT state, result FROM pgjobq.get_job(:done);
SET pgjobq.now = '2030-01-02 00:00:00.000001+00';
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.get_job(%s)', :done)),
                      '\m' || :done || '\M', '<id>') AS try;
-- The dead letter of q_keep goes after two days.
SET pgjobq.now = '2030-01-03 00:00:00+00';
SELECT pgjobq.maintain();
SET pgjobq.now = '2030-01-03 00:00:00.000001+00';
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
-- After ten days the finished job of q_keep_forever goes; its dead letter stays for good.
SET pgjobq.now = '2030-01-11 00:00:01+00';
SELECT pgjobq.maintain();
SET pgjobq.now = '2040-01-01 00:00:00+00';
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
SELECT reason, payload FROM pgjobq.list_dead('q_keep_forever');
-- Retention is read when maintain runs: shortening it applies to jobs finished before.
SELECT pgjobq.alter_queue('q_keep_forever', dead_letter_retention => '1 day');
SELECT pgjobq.maintain();
SELECT * FROM pg_temp.counts;
-- Live jobs were never touched, ten years later.
SELECT name, live FROM pg_temp.counts;

SELECT pgjobq.drop_queue('q_keep', force => true);
SELECT pgjobq.drop_queue('q_keep_forever', force => true);
SELECT pgjobq.drop_queue('q_keep_none', force => true);
