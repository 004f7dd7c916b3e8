-- Schedules: schedule, schedule_send, unschedule, alter_job and list_schedules, pg_cron's API in
-- schema pgjobq, with their errors; schedule_tick_with_pg_cron.
\set VERBOSITY terse
SET timezone = 'UTC';
SET datestyle = 'ISO';
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SET pgjobq.now = '2030-01-01 00:00:30+00';
SELECT pgjobq.create_queue('q_cron_sched');
-- A named SQL schedule: owned by the current role, due at its next occurrence after now.
SELECT pgjobq.schedule('cs_vacuum', '0 10 * * *', 'SELECT 1') AS vacuum_id \gset
SELECT jobname, schedule, command, username = current_user::regrole AS mine, active, next_run_at, last_due_at
  FROM pgjobq.cron_job WHERE jobid = :vacuum_id;
-- The same name again replaces schedule and command and keeps the id (pg_cron's behaviour).
SELECT pgjobq.schedule('cs_vacuum', '0 11 * * *', 'SELECT 2') = :vacuum_id AS same_id;
SELECT schedule, command, next_run_at FROM pgjobq.cron_job WHERE jobid = :vacuum_id;
-- An unchanged schedule keeps its next occurrence (a due run is not skipped by re-scheduling).
SET pgjobq.now = '2030-01-01 12:00:00+00';
SELECT pgjobq.schedule('cs_vacuum', '0 11 * * *', 'SELECT 3') = :vacuum_id AS same_id;
SELECT command, next_run_at FROM pgjobq.cron_job WHERE jobid = :vacuum_id;
SET pgjobq.now = '2030-01-01 00:00:30+00';
-- Without a name: always a new schedule.
SELECT pgjobq.schedule('*/5 * * * *', 'SELECT 4') AS anon_id \gset
SELECT pgjobq.schedule('*/5 * * * *', 'SELECT 4') <> :anon_id AS new_id;
SELECT jobname IS NULL AS unnamed, next_run_at FROM pgjobq.cron_job WHERE jobid = :anon_id;
-- The send form: a job for the queue at each occurrence.
SELECT pgjobq.schedule_send('cs_report', '@daily', 'q_cron_sched', '{"report": "daily"}',
                            attributes => '{"kind": "report"}', priority => 5) AS send_id \gset
SELECT jobname, schedule, command, queue, payload, attributes, priority, next_run_at
  FROM pgjobq.cron_job WHERE jobid = :send_id;
-- Re-using a name switches between the forms.
SELECT pgjobq.schedule('cs_report', '@hourly', 'SELECT 5') = :send_id AS same_id;
SELECT command, queue, payload FROM pgjobq.cron_job WHERE jobid = :send_id;
SELECT pgjobq.schedule_send('cs_report', '@daily', 'q_cron_sched', '{"report": "daily"}') = :send_id AS same_id;
SELECT command, queue, payload, attributes, priority FROM pgjobq.cron_job WHERE jobid = :send_id;
SELECT pgjobq.schedule_send(NULL, '30 seconds', 'q_cron_sched', '{}') > 0 AS unnamed_send;
-- list_schedules shows them all, by id.
SELECT jobname, schedule, command, queue, username = current_user AS mine, active, next_run_at
  FROM pgjobq.list_schedules() ORDER BY jobid;

-- Errors of schedule and schedule_send.
SELECT pg_temp.try($$SELECT pgjobq.schedule('cs_bad', '61 * * * *', 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule(NULL, '* * * * *', 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule('cs_bad', '* * * * *', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule('* * * * *', '  ')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule('cs_bad', NULL, 'SELECT 1')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '* * * * *', 'no_such_queue', '{}')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '* * * * *', NULL, '{}')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '* * * * *', 'q_cron_sched', NULL)$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '* * * * *', 'q_cron_sched', 'null')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '* * * * *', 'q_cron_sched', '{}', '[1]')$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '* * * * *', 'q_cron_sched', '{}', priority => 40000)$$);
SELECT pg_temp.try($$SELECT pgjobq.schedule_send('cs_bad', '@reboot', 'q_cron_sched', '{}')$$);
SELECT count(*) AS nothing_saved FROM pgjobq.cron_job WHERE jobname = 'cs_bad';

-- alter_job: NULL leaves a property unchanged.
SELECT pgjobq.alter_job(:vacuum_id, command => 'SELECT 6');
SELECT schedule, command, active, next_run_at FROM pgjobq.cron_job WHERE jobid = :vacuum_id;
SELECT pgjobq.alter_job(:vacuum_id, schedule => '30 * * * *');
SELECT schedule, command, active, next_run_at FROM pgjobq.cron_job WHERE jobid = :vacuum_id;
-- Paused, then active again: the next occurrence is the first after the time it is activated.
SELECT pgjobq.alter_job(:vacuum_id, active => false);
SET pgjobq.now = '2030-01-01 05:45:00+00';
SELECT pgjobq.alter_job(:vacuum_id, active => true);
SELECT active, next_run_at FROM pgjobq.cron_job WHERE jobid = :vacuum_id;
SET pgjobq.now = '2030-01-01 00:00:30+00';
-- database: only this one; username: a role that exists and that you are a member of.
SELECT pgjobq.alter_job(:vacuum_id, database => current_database(), username => current_user);
SELECT pg_temp.try(format('SELECT pgjobq.alter_job(%s, database => %L)', :vacuum_id, 'elsewhere'));
SELECT pg_temp.try(format('SELECT pgjobq.alter_job(%s, username => %L)', :vacuum_id, 'no_such_role'));
SELECT pg_temp.try(format('SELECT pgjobq.alter_job(%s)', :vacuum_id));
SELECT pg_temp.try(format('SELECT pgjobq.alter_job(%s, schedule => %L)', :vacuum_id, '* * * * 9'));
SELECT pg_temp.try(format('SELECT pgjobq.alter_job(%s, command => %L)', :vacuum_id, ' '));
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.alter_job(%s, command => %L)', :send_id, 'SELECT 1')),
                      'schedule \d+', 'schedule N') AS send_has_no_command;
SELECT pg_temp.try('SELECT pgjobq.alter_job(-1, active => false)');
SELECT pg_temp.try('SELECT pgjobq.alter_job(NULL, active => false)');
SELECT schedule, command, active FROM pgjobq.cron_job WHERE jobid = :vacuum_id;

-- Roles: a schedule belongs to its creator. Another role sees only the schedules of roles it is
-- a member of (row-level security); others' schedules "do not exist" for it.
CREATE ROLE pgjobq_cron_ann;
CREATE ROLE pgjobq_cron_ben;
GRANT USAGE ON SCHEMA pgjobq TO pgjobq_cron_ann, pgjobq_cron_ben;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgjobq TO pgjobq_cron_ann, pgjobq_cron_ben;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pgjobq TO pgjobq_cron_ann, pgjobq_cron_ben;
SET ROLE pgjobq_cron_ann;
SELECT pgjobq.schedule('cs_ann', '0 * * * *', 'SELECT 7') AS ann_id \gset
SELECT count(*) AS ann_sees FROM pgjobq.list_schedules();
RESET ROLE;
SET ROLE pgjobq_cron_ben;
SELECT count(*) AS ben_sees FROM pgjobq.list_schedules();
SELECT pg_temp.try(format('SELECT pgjobq.alter_job(%s, active => false)', :ann_id)) ~ '^PJ006: schedule \d+ does not exist' AS hidden;
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.unschedule(%s)', :ann_id)), 'schedule \d+', 'schedule N') AS error;
SELECT pg_temp.try($$SELECT pgjobq.unschedule('cs_ann')$$);
-- Writing the table directly is held to the same rule.
WITH u AS (UPDATE pgjobq.cron_job SET command = 'SELECT 666' WHERE jobid = :ann_id RETURNING 1)
SELECT count(*) AS changed FROM u;
SELECT pg_temp.try(format('INSERT INTO pgjobq.cron_job (schedule, command, username, spec, next_run_at, created_at)
    VALUES (%L, %L, %L, pgjobq.parse_schedule(%L), pgjobq.now(), pgjobq.now())',
    '* * * * *', 'SELECT 1', 'pgjobq_cron_ann', '* * * * *'));
-- Nor can ben give his schedules to ann.
SELECT pgjobq.schedule('cs_ben', '0 * * * *', 'SELECT 8') AS ben_id \gset
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.alter_job(%s, username => %L)', :ben_id, 'pgjobq_cron_ann')),
                      'schedule \d+', 'schedule N') AS error;
RESET ROLE;
-- A member of ann's role may manage her schedules (it could SET ROLE to her anyway).
GRANT pgjobq_cron_ann TO pgjobq_cron_ben;
SET ROLE pgjobq_cron_ben;
SELECT pgjobq.alter_job(:ann_id, schedule => '15 * * * *');
SELECT pgjobq.alter_job(:ben_id, username => 'pgjobq_cron_ann');
SELECT jobname, schedule, command, username FROM pgjobq.list_schedules() ORDER BY jobid;
RESET ROLE;

-- unschedule by id and by name (the name is looked up among the current role's schedules).
SELECT pgjobq.unschedule('cs_vacuum');
SELECT pg_temp.try($$SELECT pgjobq.unschedule('cs_vacuum')$$);
SELECT pg_temp.try($$SELECT pgjobq.unschedule('cs_ann')$$);
SELECT pgjobq.unschedule(:ann_id), pgjobq.unschedule(:ben_id), pgjobq.unschedule(:send_id), pgjobq.unschedule(:anon_id);
SELECT pg_temp.try(format('SELECT pgjobq.unschedule(%s::bigint)', :anon_id)) ~ '^PJ006: schedule \d+ does not exist' AS gone;
SELECT pg_temp.try($$SELECT pgjobq.unschedule(NULL::text)$$);
SELECT pgjobq.unschedule(jobid) FROM pgjobq.cron_job;
SELECT count(*) AS left_over FROM pgjobq.cron_job;

-- schedule_tick_with_pg_cron: pg_cron is not in this database, so it says so (55000) and, when
-- pg_cron is loaded for another database (cron.database_name), what to run there.
SELECT pg_temp.try('SELECT pgjobq.schedule_tick_with_pg_cron()') AS error \gset
SELECT substring(:'error' FROM '^55000: pg_cron is not installed') AS error,
       current_setting('cron.database_name', true) IS NULL
       OR :'error' ~ ('cron\.schedule_in_database\(''pgjobq-tick'', ''1 seconds'', ''SELECT pgjobq\.tick\(\)'', ''' || current_database() || '''\)')
           AS says_what_to_run;
-- With a stand-in for pg_cron's cron.schedule (the real one is tested in Go): one call, a job
-- that runs SELECT pgjobq.tick() every second, as the current role.
CREATE SCHEMA cron;
CREATE TABLE cron.job (jobid bigserial, jobname text UNIQUE, schedule text, command text);
CREATE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO cron.job (jobname, schedule, command) VALUES (job_name, schedule, command)
    ON CONFLICT (jobname) DO UPDATE SET schedule = excluded.schedule, command = excluded.command
    RETURNING jobid
$$;
SELECT pgjobq.schedule_tick_with_pg_cron() > 0 AS scheduled;
SELECT pgjobq.schedule_tick_with_pg_cron('my-tick') > 0 AS scheduled;
SELECT jobname, schedule, command FROM cron.job ORDER BY jobid;
-- pg_cron before 1.5 rejects '1 seconds' (22023): then every minute, with a notice.
CREATE OR REPLACE FUNCTION cron.schedule(job_name text, schedule text, command text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    IF schedule LIKE '%seconds' THEN
        RAISE EXCEPTION 'invalid schedule: %', schedule USING ERRCODE = '22023';
    END IF;
    INSERT INTO cron.job (jobname, schedule, command) VALUES (job_name, schedule, command)
    ON CONFLICT (jobname) DO UPDATE SET schedule = excluded.schedule, command = excluded.command;
    RETURN 1;
END $$;
SELECT pgjobq.schedule_tick_with_pg_cron('old-tick');
SELECT jobname, schedule, command FROM cron.job ORDER BY jobid;
SELECT pg_temp.try('SELECT pgjobq.schedule_tick_with_pg_cron(NULL)');
DROP SCHEMA cron CASCADE;

DROP OWNED BY pgjobq_cron_ann, pgjobq_cron_ben;
DROP ROLE pgjobq_cron_ann;
DROP ROLE pgjobq_cron_ben;
SELECT pgjobq.drop_queue('q_cron_sched', force => true);
