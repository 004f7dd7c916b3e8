-- The wake-up mark: a receive that finds nothing marks the queue as waited on; the first send
-- after that clears it (and sends NOTIFY pgjobq_wake, seen in the isolation spec wake); later
-- sends find it clear and notify nothing.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_wake');
CREATE VIEW pg_temp.mark AS SELECT receivers_waiting FROM pgjobq.queue WHERE name = 'q_wake';
SELECT * FROM pg_temp.mark;
SELECT count(*) FROM pgjobq.receive('q_wake');
SELECT * FROM pg_temp.mark;
SELECT pgjobq.send('q_wake', '{}') > 0 AS sent;
SELECT * FROM pg_temp.mark;
SELECT pgjobq.send('q_wake', '{}') > 0 AS sent;
SELECT * FROM pg_temp.mark;
-- A receive that gets jobs leaves the mark alone.
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT * FROM pg_temp.mark;
-- A delayed send does not clear it: nothing is receivable yet.
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT pgjobq.send('q_wake', '{}', delay => '1 minute') > 0 AS sent;
SELECT * FROM pg_temp.mark;
-- A redrive clears it like a send. (With max_attempts 1 the two leases that expired at 00:00:30
-- were their last attempts too: three jobs are dead.)
SELECT pgjobq.alter_queue('q_wake', max_attempts => 1);
SET pgjobq.now = '2030-01-01 00:01:00+00';
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_wake');
SELECT count(*) FROM pgjobq.receive('q_wake', 10);
SELECT * FROM pg_temp.mark;
SELECT pgjobq.redrive('q_wake');
SELECT * FROM pg_temp.mark;
SELECT pgjobq.drop_queue('q_wake', force => true);
