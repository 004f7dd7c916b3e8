-- The wake-up mark (pgjobq.queue.receivers_waiting): a receive that finds nothing marks the queue
-- as waited on; the first send after that clears it (and sends NOTIFY pgjobq_wake, which the
-- isolation spec wake shows; this file does not LISTEN, as psql would print a backend PID);
-- later sends find it clear and notify nothing.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_wake');
SELECT pgjobq.create_queue('q_wake_other');
CREATE VIEW pg_temp.mark AS
SELECT name, receivers_waiting FROM pgjobq.queue WHERE name LIKE 'q\_wake%' ORDER BY name;
SELECT * FROM pg_temp.mark;
-- An empty receive sets the mark of its queue only.
SELECT count(*) FROM pgjobq.receive('q_wake');
SELECT * FROM pg_temp.mark;
-- A second empty receive leaves it set.
SELECT count(*) FROM pgjobq.receive('q_wake');
SELECT * FROM pg_temp.mark;
-- The first send clears it; the second finds it clear.
SELECT pgjobq.send('q_wake', '{}') > 0 AS sent;
SELECT * FROM pg_temp.mark;
SELECT pgjobq.send('q_wake', '{}') > 0 AS sent;
SELECT * FROM pg_temp.mark;
-- A receive that gets jobs leaves the mark alone.
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT * FROM pg_temp.mark;
-- A filtered receive that finds nothing sets it, even with other jobs in the queue.
SELECT pgjobq.send('q_wake', '{}', attributes => '{"tenant": "a"}') > 0 AS sent;
SELECT count(*) FROM pgjobq.receive('q_wake', filter => '{"tenant": "b"}');
SELECT * FROM pg_temp.mark;
-- A send rolled back leaves the mark set, for the next send to clear.
BEGIN;
SELECT pgjobq.send('q_wake', '{}') > 0 AS sent;
SELECT * FROM pg_temp.mark;
ROLLBACK;
SELECT * FROM pg_temp.mark;
-- A batch clears it once, like a single send.
SELECT count(*) FROM pgjobq.send_batch('q_wake', ARRAY['{}', '{}', '{}']::jsonb[]);
SELECT * FROM pg_temp.mark;
-- A delayed send does not clear it: nothing is receivable yet. A send due now (run_at in the
-- past) does.
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT pgjobq.send('q_wake', '{}', delay => '1 minute') > 0 AS sent;
SELECT count(*) FROM pgjobq.send_batch('q_wake', ARRAY['{}', '{}']::jsonb[], run_at => '2030-06-01');
SELECT * FROM pg_temp.mark;
SELECT pgjobq.send('q_wake', '{}', run_at => '2029-01-01') > 0 AS sent;
SELECT * FROM pg_temp.mark;
-- A release gives a job back at once: it clears the mark like a send.
SELECT id, lease_token FROM pgjobq.receive('q_wake') \gset
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT * FROM pg_temp.mark;
SELECT pgjobq.release(:id, :'lease_token');
SELECT * FROM pg_temp.mark;
-- A redrive clears it like a send.
SELECT pgjobq.alter_queue('q_wake', max_attempts => 1);
SELECT count(*) FILTER (WHERE pgjobq.nack(id, lease_token) IS NOT NULL) AS failed FROM pgjobq.receive('q_wake', 10);
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT * FROM pg_temp.mark;
SELECT pgjobq.redrive('q_wake');
SELECT * FROM pg_temp.mark;
-- A redrive that moves nothing leaves it set.
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT pgjobq.redrive('q_wake');
SELECT * FROM pg_temp.mark;
-- A nack that retries at once wakes a waiting receiver like a send; one with a delay does not.
SELECT pgjobq.create_queue('q_wake_nack');
CREATE VIEW pg_temp.nack_mark AS SELECT receivers_waiting FROM pgjobq.queue WHERE name = 'q_wake_nack';
SELECT pgjobq.send('q_wake_nack', '{}') AS nid \gset
SELECT lease_token AS ntok FROM pgjobq.receive('q_wake_nack') \gset
SELECT count(*) FROM pgjobq.receive('q_wake_nack');  -- marks the queue as waited on
SELECT pgjobq.nack(:nid, :'ntok', retry_in => '1 minute');
SELECT * FROM pg_temp.nack_mark;
SET pgjobq.now = '2031-01-01 00:00:00+00';
SELECT lease_token AS ntok FROM pgjobq.receive('q_wake_nack') \gset
SELECT count(*) FROM pgjobq.receive('q_wake_nack');
SELECT * FROM pg_temp.nack_mark;
SELECT pgjobq.nack(:nid, :'ntok', retry_in => '0');
SELECT * FROM pg_temp.nack_mark;
SELECT pgjobq.drop_queue('q_wake_nack', force => true);
SELECT pgjobq.drop_queue('q_wake', force => true);
SELECT pgjobq.drop_queue('q_wake_other', force => true);
