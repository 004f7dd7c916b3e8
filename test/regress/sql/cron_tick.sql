-- tick fires each due occurrence once, at its time and never before; a schedule that missed
-- occurrences fires once and resumes at its next one; a failing command is recorded and stops
-- nothing else; the send form sends jobs; the history is bounded; SQL commands run only in their
-- owner's own session. Time is frozen with pgjobq.now.
\set VERBOSITY terse
SET timezone = 'UTC';
SET datestyle = 'ISO';
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT current_user AS regress_user \gset
SET pgjobq.now = '2030-01-01 00:00:00+00';
CREATE TABLE public.cron_tick_log (at timestamptz, what text, by_role text);
SELECT pgjobq.create_queue('q_cron_tick');
SELECT pgjobq.schedule('ct_hourly', '0 * * * *',
    $$INSERT INTO cron_tick_log VALUES (pgjobq.now(), 'hourly', current_user)$$) AS hourly_id \gset
-- A failing command: its INSERT is rolled back with it, and the others still run.
SELECT pgjobq.schedule('ct_failing', '0 * * * *',
    $$INSERT INTO cron_tick_log VALUES (pgjobq.now(), 'failing', current_user); SELECT 1 / 0$$) AS failing_id \gset
SELECT pgjobq.schedule_send('ct_send', '30 * * * *', 'q_cron_tick', '{"report": 1}',
    attributes => '{"kind": "report"}', priority => 3) AS send_id \gset
SELECT pgjobq.schedule('ct_paused', '* * * * *', $$INSERT INTO cron_tick_log VALUES (pgjobq.now(), 'paused', current_user)$$) AS paused_id \gset
SELECT pgjobq.alter_job(:paused_id, active => false);

-- Nothing is due yet; one microsecond before an occurrence is not the occurrence.
SELECT pgjobq.tick();
SET pgjobq.now = '2030-01-01 00:29:59.999999+00';
SELECT pgjobq.tick();
-- At half past: the send form sends its job through pgjobq.send.
SET pgjobq.now = '2030-01-01 00:30:00+00';
SELECT pgjobq.tick();
SELECT payload, attributes, priority, state FROM pgjobq.job
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_cron_tick');
SET pgjobq.now = '2030-01-01 00:59:59.999999+00';
SELECT pgjobq.tick();
-- At the hour: both hourly schedules fire, once.
SET pgjobq.now = '2030-01-01 01:00:00+00';
SELECT pgjobq.tick();
SELECT pgjobq.tick() AS again;
SELECT at, what, by_role = current_user AS as_owner FROM cron_tick_log ORDER BY at, what;
SELECT j.jobname, r.status, regexp_replace(r.return_message, 'job \d+', 'job N') AS return_message, r.command, r.scheduled_at, r.start_time, r.end_time,
       r.job_pid = pg_backend_pid() AS this_backend, r.database = current_database() AS this_database,
       r.username = current_user::regrole AS owner
  FROM pgjobq.cron_job_run_details AS r JOIN pgjobq.cron_job AS j USING (jobid) ORDER BY r.runid;
SELECT jobname, next_run_at, last_due_at FROM pgjobq.cron_job ORDER BY jobid;
SET pgjobq.now = '2030-01-01 01:30:00+00';
SELECT pgjobq.tick();
SELECT status, return_message ~ '^sent job \d+ to queue "q_cron_tick"$' AS says_which, command IS NULL AS no_command
  FROM pgjobq.cron_job_run_details WHERE jobid = :send_id;

-- Catch-up: nothing ticked from 01:30 to 05:45. Each schedule fires once, for its first missed
-- occurrence (scheduled_at), and resumes at its next occurrence after now.
SET pgjobq.now = '2030-01-01 05:45:00+00';
SELECT pgjobq.tick();
SELECT j.jobname, r.status, r.scheduled_at, r.start_time, j.next_run_at
  FROM pgjobq.cron_job_run_details AS r JOIN pgjobq.cron_job AS j USING (jobid)
 WHERE r.start_time = pgjobq.now() ORDER BY r.runid;
SELECT count(*) AS jobs_sent FROM pgjobq.job
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_cron_tick');
-- A paused schedule never fired; activated, it starts at its next occurrence (none are replayed).
SELECT count(*) AS paused_runs FROM pgjobq.cron_job_run_details WHERE jobid = :paused_id;
SELECT pgjobq.alter_job(:paused_id, active => true);
SELECT pgjobq.tick();
SET pgjobq.now = '2030-01-01 05:46:00+00';
SELECT pgjobq.tick();
SELECT pgjobq.unschedule(:paused_id);

-- Ticks in one transaction see each other: the second finds nothing due.
SET pgjobq.now = '2030-01-01 06:00:00+00';
BEGIN;
SELECT pgjobq.tick() AS first, pgjobq.tick() AS second;
COMMIT;
-- A rolled-back tick fired nothing: the occurrence is still due for the next tick.
SET pgjobq.now = '2030-01-01 07:00:00+00';
BEGIN;
SELECT pgjobq.tick();
ROLLBACK;
SELECT pgjobq.tick();

-- A command that fails in any way is recorded with its SQLSTATE and message: a missing table,
-- a command that cannot run in a transaction, a nested tick.
SELECT pgjobq.schedule('ct_errors_1', '0 8 * * *', 'SELECT * FROM no_such_table') AS e1 \gset
SELECT pgjobq.schedule('ct_errors_2', '0 8 * * *', 'VACUUM') AS e2 \gset
SELECT pgjobq.schedule('ct_errors_3', '0 8 * * *', 'SELECT pgjobq.tick()') AS e3 \gset
SET pgjobq.now = '2030-01-01 08:00:00+00';
SELECT pgjobq.tick();
SELECT j.jobname, r.status, r.return_message FROM pgjobq.cron_job_run_details AS r JOIN pgjobq.cron_job AS j USING (jobid)
 WHERE r.jobid IN (:e1, :e2, :e3) ORDER BY r.runid;
SELECT pgjobq.unschedule(:e1), pgjobq.unschedule(:e2), pgjobq.unschedule(:e3);
-- The send form fails (and says why) when its queue is gone.
SELECT pgjobq.drop_queue('q_cron_tick', force => true);
SET pgjobq.now = '2030-01-01 08:30:00+00';
SELECT pgjobq.tick();
SELECT status, return_message FROM pgjobq.cron_job_run_details WHERE jobid = :send_id ORDER BY runid DESC LIMIT 1;
SELECT pgjobq.unschedule(:send_id), pgjobq.unschedule(:failing_id), pgjobq.unschedule(:hourly_id);

-- The history keeps the last 100 runs of each schedule.
SELECT pgjobq.schedule('ct_often', '1 seconds', 'SELECT 1') AS often_id \gset
DO $$
BEGIN
    FOR i IN 1 .. 130 LOOP
        PERFORM set_config('pgjobq.now', (timestamptz '2030-01-01 09:00:00+00' + i * interval '1 second')::text, false);
        PERFORM pgjobq.tick();
    END LOOP;
END $$;
SELECT count(*) AS kept, min(scheduled_at) AS oldest, max(scheduled_at) AS newest
  FROM pgjobq.cron_job_run_details WHERE jobid = :often_id;
-- Unscheduling deletes a schedule's history.
SELECT pgjobq.unschedule(:often_id);
SELECT count(*) AS history FROM pgjobq.cron_job_run_details WHERE jobid = :often_id;

-- Security: an SQL command runs only in a session that logged in as its owner and runs as that
-- role. ann schedules a command; a superuser's tick, the same superuser acting as ann, and ben
-- (a member of ann's role) all leave it due; ann's own login runs it. Sends have no SQL: any
-- tick that can see them fires them.
SET pgjobq.now = '2030-01-01 10:00:00+00';
SELECT pgjobq.create_queue('q_cron_tick_roles');
CREATE ROLE pgjobq_cron_tick_ann LOGIN;
CREATE ROLE pgjobq_cron_tick_ben LOGIN IN ROLE pgjobq_cron_tick_ann;
GRANT USAGE ON SCHEMA pgjobq TO pgjobq_cron_tick_ann, pgjobq_cron_tick_ben;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgjobq TO pgjobq_cron_tick_ann, pgjobq_cron_tick_ben;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pgjobq TO pgjobq_cron_tick_ann, pgjobq_cron_tick_ben;
GRANT SELECT, INSERT ON public.cron_tick_log TO pgjobq_cron_tick_ann;
SET ROLE pgjobq_cron_tick_ann;
SELECT pgjobq.schedule('ct_ann', '5 10 * * *',
    $$INSERT INTO cron_tick_log VALUES (pgjobq.now(), 'ann ' || session_user, current_user)$$) > 0 AS scheduled;
SELECT pgjobq.schedule_send('ct_ann_send', '5 10 * * *', 'q_cron_tick_roles', '{"from": "ann"}') > 0 AS scheduled;
RESET ROLE;
SET pgjobq.now = '2030-01-01 10:05:00+00';
-- The superuser fires ann's send (it sees every schedule) but not her command.
SELECT pgjobq.tick() AS superuser_tick;
SET SESSION AUTHORIZATION pgjobq_cron_tick_ann;
SELECT pgjobq.tick() AS superuser_as_ann_tick;
RESET SESSION AUTHORIZATION;
\c - pgjobq_cron_tick_ben
SET timezone = 'UTC';
SET datestyle = 'ISO';
SET pgjobq.now = '2030-01-01 10:05:00+00';
SELECT count(*) AS ben_sees FROM pgjobq.cron_job;
SELECT pgjobq.tick() AS ben_tick;
\c - pgjobq_cron_tick_ann
SET timezone = 'UTC';
SET datestyle = 'ISO';
SET pgjobq.now = '2030-01-01 10:05:00+00';
SELECT pgjobq.tick() AS ann_tick;
SELECT at, what, by_role FROM cron_tick_log WHERE what LIKE 'ann%';
SELECT j.jobname, r.status, r.username FROM pgjobq.cron_job_run_details AS r JOIN pgjobq.cron_job AS j USING (jobid)
 ORDER BY r.runid;
\c - :regress_user
SELECT count(*) AS ann_jobs_sent FROM pgjobq.job
 WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_cron_tick_roles');

SELECT pgjobq.unschedule(jobid) FROM pgjobq.cron_job ORDER BY jobid;

-- A command runs with the session's own search_path, enable_seqscan, plan_cache_mode and jit,
-- not the values pgjobq's functions pin for themselves.
CREATE TABLE public.cron_tick_settings (search_path text, enable_seqscan text, plan_cache_mode text,
                                        jit text);
SET pgjobq.now = '2030-01-02 00:00:00+00';
SELECT pgjobq.schedule('ct_settings', '0 0 * * *',
    $$INSERT INTO public.cron_tick_settings VALUES (current_setting('search_path'),
        current_setting('enable_seqscan'), current_setting('plan_cache_mode'),
        current_setting('jit'))$$) AS settings_id \gset
SET pgjobq.now = '2030-01-03 00:00:00+00';
SELECT pgjobq.tick();
SELECT search_path = current_setting('search_path') AS session_path, enable_seqscan,
       plan_cache_mode, jit = current_setting('jit') AS session_jit FROM public.cron_tick_settings;
SELECT pgjobq.unschedule(:settings_id);
DROP TABLE public.cron_tick_settings;
SELECT pgjobq.drop_queue('q_cron_tick_roles', force => true);
DROP TABLE public.cron_tick_log;
DROP OWNED BY pgjobq_cron_tick_ann, pgjobq_cron_tick_ben;
DROP ROLE pgjobq_cron_tick_ben;
DROP ROLE pgjobq_cron_tick_ann;
