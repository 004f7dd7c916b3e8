-- cancel, cancel_many, cancel_matching: a job that is not running is cancelled for good; a
-- running one is marked, its holder told (NOTIFY pgjobq_cancel), and it ends cancelled whatever
-- it reports; a finished one is left alone, and the answer says so. (The notifications are
-- checked by the isolation spec cancel.)
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_cancel', max_attempts => 2);
SELECT pgjobq.create_queue('q_cancel_size', max_size => 2);

-- Queued jobs in every waiting state: available, scheduled, retrying, blocked.
SELECT pgjobq.send('q_cancel', '{"s": "available"}', notify_completion => true) AS available \gset
SELECT pgjobq.send('q_cancel', '{"s": "scheduled"}', delay => '1 hour') AS scheduled \gset
SELECT pgjobq.send('q_cancel', '{"s": "retrying"}', priority => 9) AS retrying \gset
SELECT pgjobq.nack(id, lease_token, 'first try failed') FROM pgjobq.receive('q_cancel');
SELECT pgjobq.send('q_cancel', '{"s": "blocked"}', depends_on => ARRAY[:scheduled]::bigint[]) AS blocked \gset
SELECT id - :available AS job, state FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_cancel') ORDER BY id;
SELECT pgjobq.cancel(:available, 'not needed any more');
SELECT pgjobq.cancel(:retrying);
-- Cancelling the parent cancels its child: the child's history says why.
SELECT pgjobq.cancel(:scheduled, 'plan changed');
SELECT id - :available AS job, state, errors -> -1 ->> 'outcome' AS outcome,
       replace(errors -> -1 ->> 'error', :scheduled::text, '<scheduled>') AS why
  FROM pgjobq.job_archive WHERE id BETWEEN :available AND :blocked ORDER BY id;
-- None is ever delivered: nothing is left to receive, even once they are due.
SET pgjobq.now = '2030-01-02 00:00:00+00';
SELECT count(*) AS delivered FROM pgjobq.receive('q_cancel', 10);
-- Cancelling again changes nothing and says so.
SELECT pgjobq.cancel(:available);
SELECT state FROM pgjobq.get_job(:available);

-- A running job: cancel_requested; the holder is told; extend reports it; ack ends it cancelled.
SELECT pgjobq.send('q_cancel', '{"s": "running"}', notify_completion => true) AS running \gset
SELECT lease_token AS token FROM pgjobq.receive('q_cancel') \gset
SELECT pgjobq.cancel(:running, 'user pressed stop');
SELECT pgjobq.cancel(:running);  -- still running: same answer, first reason kept
SELECT state, cancel_requested FROM pgjobq.get_job(:running);
SELECT id - :running AS job, cancel_requested FROM pgjobq.extend_many(ARRAY[:running]::bigint[], ARRAY[:'token']::uuid[]);
SELECT pgjobq.ack(:running, :'token', '{"partial": true}');
SELECT state, result, errors -> -1 ->> 'outcome' AS outcome, errors -> -1 ->> 'error' AS why
  FROM pgjobq.get_job(:running);
SELECT pgjobq.cancel(:running);

-- A running job that then fails: nack reports cancelled, no retry (max_attempts is 2).
SELECT pgjobq.send('q_cancel', '{"s": "fails"}') AS fails \gset
SELECT lease_token AS token FROM pgjobq.receive('q_cancel') \gset
SELECT pgjobq.cancel(:fails);
SELECT pgjobq.nack(:fails, :'token', 'gave up');
SELECT state, jsonb_path_query_array(errors, '$[*].outcome') AS outcomes FROM pgjobq.get_job(:fails);

-- A running job whose lease then expires: cancelled, not redelivered, not dead.
SELECT pgjobq.send('q_cancel', '{"s": "vanishes"}') AS vanishes \gset
SELECT lease_token AS token FROM pgjobq.receive('q_cancel', lease_duration => '1 minute') \gset
SELECT pgjobq.cancel(:vanishes);
SET pgjobq.now = '2030-01-02 00:05:00+00';
SELECT count(*) AS delivered FROM pgjobq.receive('q_cancel', 10);
SELECT state FROM pgjobq.get_job(:vanishes);

-- A running job given back by a worker shutting down: cancelled, not available again.
SELECT pgjobq.send('q_cancel', '{"s": "released"}') AS released \gset
SELECT lease_token AS token FROM pgjobq.receive('q_cancel') \gset
SELECT pgjobq.cancel(:released);
SELECT pgjobq.release(:released, :'token');
SELECT state FROM pgjobq.get_job(:released);

-- A dead job: left dead.
SELECT pgjobq.send('q_cancel', '{"s": "dies"}') AS dies \gset
SELECT pgjobq.nack(id, lease_token, retry_in => '0') FROM pgjobq.receive('q_cancel');
SELECT pgjobq.nack(id, lease_token) FROM pgjobq.receive('q_cancel');
SELECT pgjobq.cancel(:dies);

-- cancel_many: each id with its outcome; unknown ids are reported, the others still cancelled.
SELECT pgjobq.send('q_cancel', '{"n": 1}') AS m1 \gset
SELECT pgjobq.send('q_cancel', '{"n": 2}') AS m2 \gset
SELECT CASE WHEN id = 999999999 THEN 'unknown' ELSE (id - :m1)::text END AS job, outcome
  FROM pgjobq.cancel_many(ARRAY[:m1, :m2, :m1, :dies, :running, 999999999]::bigint[]) ORDER BY id;

-- cancel_matching: live jobs whose attributes contain the filter.
SELECT pgjobq.send('q_cancel', '{}', attributes => '{"tenant": "acme", "n": 1}') AS a1 \gset
SELECT pgjobq.send('q_cancel', '{}', attributes => '{"tenant": "acme", "n": 2}') AS a2 \gset
SELECT pgjobq.send('q_cancel', '{}', attributes => '{"tenant": "other"}') AS o1 \gset
SELECT id - :a1 AS job, outcome FROM pgjobq.cancel_matching('q_cancel', '{"tenant": "acme"}');
SELECT id - :a1 AS job, outcome FROM pgjobq.cancel_matching('q_cancel', '{"tenant": "acme"}');
SELECT id - :a1 AS job, outcome FROM pgjobq.cancel_matching('q_cancel', '{}');
SELECT count(*) AS live FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_cancel');

-- A cancelled job frees its place in a bounded queue.
SELECT pgjobq.send('q_cancel_size', '{}') AS s1 \gset
SELECT pgjobq.send('q_cancel_size', '{}') AS s2 \gset
SELECT pg_temp.try($$SELECT pgjobq.send('q_cancel_size', '{}')$$);
SELECT pgjobq.cancel(:s1);
SELECT pgjobq.wait_for_space('q_cancel_size');

-- Bad input.
SELECT pg_temp.try($$SELECT pgjobq.cancel(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel(999999999)$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel_many(NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel_many(ARRAY[1, NULL]::bigint[])$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel_many(array_fill(1::bigint, ARRAY[10001]))$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel_matching('q_cancel', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel_matching('q_cancel', '[1]')$$);
SELECT pg_temp.try($$SELECT pgjobq.cancel_matching('no_such_queue', '{}')$$);

SELECT pgjobq.drop_queue('q_cancel', force => true);
SELECT pgjobq.drop_queue('q_cancel_size', force => true);
