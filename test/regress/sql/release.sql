-- release: a worker gives a leased job back without charging the attempt.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_release', max_attempts => 1);
SELECT pgjobq.send('q_release', '{"n": 1}') AS id \gset
SELECT lease_token AS token, attempt FROM pgjobq.receive('q_release') \gset
SELECT :attempt AS attempt;
SELECT pgjobq.release(:id, gen_random_uuid());
SELECT pgjobq.release(:id, :'token');
SELECT pgjobq.release(:id, :'token');
SELECT state, attempts, lease_expires_at, errors FROM pgjobq.get_job(:id);
-- Delivered again as attempt 1: with max_attempts 1 it can still be worked and acked.
SELECT attempt, pgjobq.ack(id, lease_token) FROM pgjobq.receive('q_release');
SELECT state, attempts FROM pgjobq.get_job(:id);
-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.release(NULL, gen_random_uuid())$$);
SELECT pg_temp.try($$SELECT pgjobq.release(1, NULL)$$);
SELECT pgjobq.drop_queue('q_release', force => true);
