------------------------------------------------------------------------------------------------
-- Recurring jobs (pg_cron-compatible): types, tables, helpers, public API
------------------------------------------------------------------------------------------------
--
-- A schedule (pgjobq.cron_job) runs an SQL command or sends a job to a queue at the occurrences
-- of a cron schedule. pgjobq.tick() fires what is due; call it every second (pg_cron, the Go
-- client, or any scheduler). Decisions, in short (the README has the long form):
--   * Time zone: UTC, always (pg_cron's default, GMT).
--   * Catch-up: a schedule that missed occurrences while nothing ticked fires once, then resumes
--     at its next occurrence after the tick; the run records the occurrence it stood for.
--   * Exactly once: tick claims due schedules with FOR UPDATE SKIP LOCKED and advances
--     next_run_at in the same statement, so concurrent ticks never fire one occurrence twice.
--   * Security: an SQL command runs only in a tick whose connection logged in as the command's
--     owner and runs as that role (session_user = current_user = login role = owner); other
--     ticks leave it due. Row-level security shows each role only the schedules of roles it is a
--     member of. Sends run with the rights of whoever ticks, like every pgjobq call.

-- cron_spec is a parsed schedule: either seconds (an 'N seconds' interval) or the sorted values
-- of the five fields. day_or is vixie cron's rule: when neither day field starts with '*', a day
-- matches if its day of month OR its day of week does; otherwise both must. last_day is '$'.
CREATE TYPE pgjobq.cron_spec AS (
    seconds  integer,    -- 1-59 for '[1-59] seconds' schedules, else NULL
    minutes  integer[],  -- 0-59
    hours    integer[],  -- 0-23
    days     integer[],  -- 1-31, days of month
    months   integer[],  -- 1-12
    weekdays integer[],  -- 0-6, Sunday is 0 (7 is folded into 0)
    last_day boolean,    -- '$': the last day of the month
    day_or   boolean     -- both day fields restricted: either may match
);

CREATE SEQUENCE pgjobq.cron_job_jobid_seq;
CREATE SEQUENCE pgjobq.cron_job_run_details_runid_seq;

-- cron_job holds one row per schedule: pg_cron's cron.job, plus the send form (queue, payload,
-- attributes, priority instead of command), the parsed schedule and when it is next due.
-- username is the owner, a regrole: it follows a renamed role and never passes to a new role
-- that takes a dropped role's name.
CREATE TABLE pgjobq.cron_job (
    jobid        bigint      PRIMARY KEY DEFAULT nextval('pgjobq.cron_job_jobid_seq'),
    jobname      text,
    schedule     text        NOT NULL,
    command      text,
    queue        text,
    payload      jsonb,
    attributes   jsonb,
    priority     integer,
    username     regrole     NOT NULL,
    active       boolean     NOT NULL DEFAULT true,
    spec         pgjobq.cron_spec NOT NULL,
    next_run_at  timestamptz NOT NULL,
    last_due_at  timestamptz,             -- the occurrence the last run stood for
    created_at   timestamptz NOT NULL,
    CONSTRAINT cron_job_name_uniq UNIQUE (jobname, username),
    CONSTRAINT cron_job_one_kind CHECK ((command IS NULL) <> (queue IS NULL)),
    CONSTRAINT cron_job_send_complete CHECK (queue IS NULL OR (payload IS NOT NULL AND attributes IS NOT NULL
                                                               AND priority IS NOT NULL))
);
ALTER SEQUENCE pgjobq.cron_job_jobid_seq OWNED BY pgjobq.cron_job.jobid;
CREATE INDEX cron_job_due_idx ON pgjobq.cron_job (next_run_at) WHERE active;

-- cron_job_run_details is pg_cron's cron.job_run_details: one row per run, kept for the last
-- 100 runs of each schedule (tick prunes; unschedule deletes a schedule's runs). start_time and
-- end_time are both the tick's time (pgjobq.now()): pgjobq reads no other clock.
CREATE TABLE pgjobq.cron_job_run_details (
    runid          bigint      PRIMARY KEY DEFAULT nextval('pgjobq.cron_job_run_details_runid_seq'),
    jobid          bigint      NOT NULL,
    job_pid        integer     NOT NULL,
    database       text        NOT NULL,
    username       regrole     NOT NULL,
    command        text,                  -- the SQL run; NULL for a send
    status         text        NOT NULL CHECK (status IN ('succeeded', 'failed')),
    return_message text,
    scheduled_at   timestamptz NOT NULL,  -- the occurrence this run stands for
    start_time     timestamptz NOT NULL,
    end_time       timestamptz NOT NULL
);
ALTER SEQUENCE pgjobq.cron_job_run_details_runid_seq OWNED BY pgjobq.cron_job_run_details.runid;
CREATE INDEX cron_job_run_details_job_idx ON pgjobq.cron_job_run_details (jobid, runid);

-- Each role sees and changes only the schedules (and runs) of roles it is a member of; the
-- table owner and superusers see all. The EXISTS keeps a dropped owner from raising an error.
ALTER TABLE pgjobq.cron_job ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_job_owner ON pgjobq.cron_job
    USING (EXISTS (SELECT FROM pg_catalog.pg_roles AS r
                    WHERE r.oid = cron_job.username AND pg_catalog.pg_has_role(r.oid, 'MEMBER')))
    WITH CHECK (EXISTS (SELECT FROM pg_catalog.pg_roles AS r
                         WHERE r.oid = cron_job.username AND pg_catalog.pg_has_role(r.oid, 'MEMBER')));
ALTER TABLE pgjobq.cron_job_run_details ENABLE ROW LEVEL SECURITY;
CREATE POLICY cron_job_run_details_owner ON pgjobq.cron_job_run_details
    USING (EXISTS (SELECT FROM pg_catalog.pg_roles AS r
                    WHERE r.oid = cron_job_run_details.username AND pg_catalog.pg_has_role(r.oid, 'MEMBER')))
    WITH CHECK (EXISTS (SELECT FROM pg_catalog.pg_roles AS r
                         WHERE r.oid = cron_job_run_details.username AND pg_catalog.pg_has_role(r.oid, 'MEMBER')));

COMMENT ON TABLE pgjobq.cron_job IS 'Recurring jobs (pg_cron''s cron.job)';
COMMENT ON TABLE pgjobq.cron_job_run_details IS 'Runs of recurring jobs, the last 100 per schedule (pg_cron''s cron.job_run_details)';

SELECT pg_catalog.pg_extension_config_dump('pgjobq.cron_job', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.cron_job_run_details', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.cron_job_jobid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.cron_job_run_details_runid_seq', '');

------------------------------------------------------------------------------------------------
-- Recurring jobs: internal helpers
------------------------------------------------------------------------------------------------

-- _cron_hint is the syntax every schedule error points to.
CREATE FUNCTION pgjobq._cron_hint() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT 'A schedule is five fields "minute hour day-of-month month day-of-week" (e.g. "5 4 * * *"; '
        || 'lists 1,2, ranges 1-5, steps */10 or 0-30/10, names jan-dec and sun-sat, 7 = Sunday, '
        || '$ = last day of the month), a shorthand (@yearly, @annually, @monthly, @weekly, @daily, '
        || '@midnight, @hourly) or an interval "[1-59] seconds". Times are UTC.';
END;

-- _cron_value parses one value of field what (a number, or a name when names is given, whose
-- first entry is worth lo) and checks it is within lo..hi.
CREATE FUNCTION pgjobq._cron_value(schedule text, what text, token text, lo integer, hi integer,
                                   names text[])
RETURNS integer
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    v integer;
BEGIN
    IF token ~ '^[0-9]+$' THEN
        v := CASE WHEN length(ltrim(token, '0')) > 4 THEN 10000 ELSE token::integer END;
    ELSIF array_position(names, lower(token)) IS NOT NULL THEN
        v := lo + array_position(names, lower(token)) - 1;
    ELSE
        RAISE EXCEPTION 'invalid schedule "%": % field: "%" is not a number%', schedule, what, token,
            CASE WHEN names IS NULL THEN '' ELSE ' or a name (' || array_to_string(names, ', ') || ')' END
            USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
    END IF;
    IF v NOT BETWEEN lo AND hi THEN
        RAISE EXCEPTION 'invalid schedule "%": % field: % is out of range %-%', schedule, what, token, lo, hi
            USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
    END IF;
    RETURN v;
END
$$;

-- _cron_field parses one field of a five-field schedule (a comma-separated list of *, n, n-m,
-- */s or n-m/s) into its sorted values. As in pg_cron, a step needs * or a range ("5/10" is
-- an error) and names are allowed wherever a number is, but not as a step.
CREATE FUNCTION pgjobq._cron_field(schedule text, field text, what text, lo integer, hi integer,
                                   names text[] DEFAULT NULL)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    part text;
    m    text[];
    a    integer;
    b    integer;
    step integer;
    vals integer[] := '{}'::integer[];
BEGIN
    FOREACH part IN ARRAY string_to_array(field, ',') LOOP
        m := regexp_match(part, '^(?:(\*)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$');
        IF m IS NULL THEN
            RAISE EXCEPTION 'invalid schedule "%": % field: cannot parse "%"', schedule, what, part
                USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
        END IF;
        IF m[1] IS NOT NULL THEN
            a := lo;
            b := hi;
        ELSE
            a := pgjobq._cron_value(schedule, what, m[2], lo, hi, names);
            IF m[3] IS NOT NULL THEN
                b := pgjobq._cron_value(schedule, what, m[3], lo, hi, names);
            ELSIF m[4] IS NOT NULL THEN
                RAISE EXCEPTION 'invalid schedule "%": % field: "%" has a step but no range', schedule, what, part
                    USING ERRCODE = '22023',
                    HINT = format('Write %s-%s/%s (or */%s) for every %s from %s.', m[2], hi, m[4], m[4], m[4], m[2]);
            ELSE
                b := a;
            END IF;
        END IF;
        step := CASE WHEN m[4] IS NULL THEN 1
                     WHEN length(ltrim(m[4], '0')) > 4 THEN 10000 ELSE m[4]::integer END;
        IF step = 0 THEN
            RAISE EXCEPTION 'invalid schedule "%": % field: the step of "%" must be at least 1', schedule, what, part
                USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
        END IF;
        IF a > b THEN
            RAISE EXCEPTION 'invalid schedule "%": % field: range "%" ends before it starts', schedule, what, part
                USING ERRCODE = '22023', HINT = 'Ranges do not wrap around; use a list such as 22-23,0-2.';
        END IF;
        vals := vals || ARRAY(SELECT generate_series(a, b, step));
    END LOOP;
    RETURN ARRAY(SELECT DISTINCT v FROM unnest(vals) AS v ORDER BY v);
END
$$;

-- parse_schedule parses a pg_cron schedule into its compact form, or raises 22023 naming the
-- bad field, with the syntax as HINT. A five-field schedule that can never fire (day 30 of
-- February) is an error too.
CREATE FUNCTION pgjobq.parse_schedule(schedule text) RETURNS pgjobq.cron_spec
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    s      text := btrim(parse_schedule.schedule, E' \t\r\n');
    m      text[];
    f      text[];
    spec   pgjobq.cron_spec;
BEGIN
    IF parse_schedule.schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF length(parse_schedule.schedule) > 1000 THEN
        RAISE EXCEPTION 'invalid schedule: longer than 1000 characters' USING ERRCODE = '22023',
            HINT = pgjobq._cron_hint();
    END IF;

    m := regexp_match(s, '^([+-]?[0-9]+)\s*seconds?$', 'i');
    IF m IS NOT NULL THEN
        IF m[1] !~ '^[0-9]+$' OR length(ltrim(m[1], '0')) > 2 OR m[1]::integer NOT BETWEEN 1 AND 59 THEN
            RAISE EXCEPTION 'invalid schedule "%": an interval must be 1 to 59 seconds', parse_schedule.schedule
                USING ERRCODE = '22023', HINT = 'For a minute or more, use a cron schedule such as */5 * * * *.';
        END IF;
        spec.seconds := m[1]::integer;
        RETURN spec;
    END IF;

    IF s LIKE '@%' THEN
        IF s IN ('@reboot', '@restart') THEN
            RAISE EXCEPTION 'invalid schedule "%": pgjobq does not run jobs at server start', parse_schedule.schedule
                USING ERRCODE = '22023',
                HINT = 'Run it from the code that starts your application, or schedule it in pg_cron itself.';
        END IF;
        s := CASE s WHEN '@yearly' THEN '0 0 1 1 *' WHEN '@annually' THEN '0 0 1 1 *'
                    WHEN '@monthly' THEN '0 0 1 * *' WHEN '@weekly' THEN '0 0 * * 0'
                    WHEN '@daily' THEN '0 0 * * *' WHEN '@midnight' THEN '0 0 * * *'
                    WHEN '@hourly' THEN '0 * * * *' END;
        IF s IS NULL THEN
            RAISE EXCEPTION 'invalid schedule "%": unknown shorthand', parse_schedule.schedule
                USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
        END IF;
    END IF;

    f := regexp_split_to_array(s, '[ \t]+');
    IF s ~* '^[^ ]+ +sec' THEN
        RAISE EXCEPTION 'invalid schedule "%": an interval is written "[1-59] seconds"', parse_schedule.schedule
            USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
    END IF;
    IF s = '' OR cardinality(f) <> 5 THEN
        RAISE EXCEPTION 'invalid schedule "%": % fields, a cron schedule has 5', parse_schedule.schedule,
            CASE WHEN s = '' THEN 0 ELSE cardinality(f) END
            USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
    END IF;
    IF f[1] ~ '\$' OR f[2] ~ '\$' OR f[4] ~ '\$' OR f[5] ~ '\$' OR (f[3] ~ '\$' AND f[3] <> '$') THEN
        RAISE EXCEPTION 'invalid schedule "%": "$" (last day of the month) must be the whole day-of-month field',
            parse_schedule.schedule USING ERRCODE = '22023', HINT = pgjobq._cron_hint();
    END IF;

    spec.minutes := pgjobq._cron_field(parse_schedule.schedule, f[1], 'minute', 0, 59);
    spec.hours := pgjobq._cron_field(parse_schedule.schedule, f[2], 'hour', 0, 23);
    spec.last_day := f[3] = '$';
    spec.days := CASE WHEN spec.last_day THEN '{}'::integer[]
                      ELSE pgjobq._cron_field(parse_schedule.schedule, f[3], 'day-of-month', 1, 31) END;
    spec.months := pgjobq._cron_field(parse_schedule.schedule, f[4], 'month', 1, 12,
        '{jan,feb,mar,apr,may,jun,jul,aug,sep,oct,nov,dec}');
    spec.weekdays := ARRAY(SELECT DISTINCT v % 7 FROM unnest(pgjobq._cron_field(parse_schedule.schedule,
        f[5], 'day-of-week', 0, 7, '{sun,mon,tue,wed,thu,fri,sat}')) AS v ORDER BY 1);
    -- vixie cron: a day field whose text starts with '*' (even */2) makes the day rule AND.
    spec.day_or := left(f[3], 1) <> '*' AND left(f[5], 1) <> '*';

    IF NOT spec.day_or AND NOT spec.last_day
       AND NOT EXISTS (SELECT FROM unnest(spec.months) AS mo, unnest(spec.days) AS d
                        WHERE d <= (ARRAY[31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[mo]) THEN
        RAISE EXCEPTION 'invalid schedule "%": it never fires (no month in it has any of its days)',
            parse_schedule.schedule USING ERRCODE = '22023',
            HINT = 'Use $ for the last day of the month.';
    END IF;
    RETURN spec;
END
$$;

-- _cron_next is the first occurrence of spec strictly after after, in UTC; NULL if there is none
-- within 400 years (a full cycle of the Gregorian calendar, so: never).
CREATE FUNCTION pgjobq._cron_next(spec pgjobq.cron_spec, after timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    t     timestamp;
    y     integer;
    mo    integer;
    d     integer;
    h     integer;
    mi    integer;
    last  integer;
    wd1   integer;
    v     integer;
    x     integer;
    stop  integer;
BEGIN
    IF spec IS NULL OR after IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT isfinite(after) THEN
        RAISE EXCEPTION 'after must be a finite time, got %', after USING ERRCODE = '22023';
    END IF;
    IF spec.seconds IS NOT NULL THEN
        -- Every instant whose Unix time is a multiple of the interval.
        RETURN to_timestamp(((floor(extract(epoch FROM after) / spec.seconds) + 1) * spec.seconds)::float8);
    END IF;

    t := date_trunc('minute', after AT TIME ZONE 'UTC') + interval '1 minute';
    y := extract(year FROM t);
    mo := extract(month FROM t);
    d := extract(day FROM t);
    h := extract(hour FROM t);
    mi := extract(minute FROM t);
    stop := y + 400;
    LOOP
        IF y > stop THEN
            RETURN NULL;
        END IF;
        -- The month, or the first day of the next month in the schedule.
        IF NOT mo = ANY (spec.months) THEN
            v := NULL;
            FOREACH x IN ARRAY spec.months LOOP
                IF x > mo THEN v := x; EXIT; END IF;
            END LOOP;
            IF v IS NULL THEN
                y := y + 1;
                v := spec.months[1];
            END IF;
            mo := v; d := 1; h := 0; mi := 0;
            CONTINUE;
        END IF;
        -- The day, or the next month.
        last := extract(day FROM make_date(y, mo, 1) + interval '1 month' - interval '1 day');
        wd1 := extract(dow FROM make_date(y, mo, 1));
        v := NULL;
        FOR x IN d .. last LOOP
            IF (CASE WHEN spec.day_or
                     THEN x = ANY (spec.days) OR (spec.last_day AND x = last)
                          OR (wd1 + x - 1) % 7 = ANY (spec.weekdays)
                     ELSE (x = ANY (spec.days) OR (spec.last_day AND x = last))
                          AND (wd1 + x - 1) % 7 = ANY (spec.weekdays) END) THEN
                v := x;
                EXIT;
            END IF;
        END LOOP;
        IF v IS NULL THEN
            mo := mo + 1; d := 1; h := 0; mi := 0;
            IF mo > 12 THEN mo := 1; y := y + 1; END IF;
            CONTINUE;
        END IF;
        IF v > d THEN d := v; h := 0; mi := 0; END IF;
        -- The hour, or the next day.
        v := NULL;
        FOREACH x IN ARRAY spec.hours LOOP
            IF x >= h THEN v := x; EXIT; END IF;
        END LOOP;
        IF v IS NULL THEN
            d := d + 1; h := 0; mi := 0;
            IF d > last THEN
                d := 1; mo := mo + 1;
                IF mo > 12 THEN mo := 1; y := y + 1; END IF;
            END IF;
            CONTINUE;
        END IF;
        IF v > h THEN h := v; mi := 0; END IF;
        -- The minute, or the next hour.
        v := NULL;
        FOREACH x IN ARRAY spec.minutes LOOP
            IF x >= mi THEN v := x; EXIT; END IF;
        END LOOP;
        IF v IS NULL THEN
            h := h + 1; mi := 0;
            IF h > 23 THEN
                h := 0; d := d + 1;
                IF d > last THEN
                    d := 1; mo := mo + 1;
                    IF mo > 12 THEN mo := 1; y := y + 1; END IF;
                END IF;
            END IF;
            CONTINUE;
        END IF;
        RETURN make_timestamp(y, mo, d, h, v, 0) AT TIME ZONE 'UTC';
    END LOOP;
END
$$;

-- _cron_role is the oid of role name, or raises 42704.
CREATE FUNCTION pgjobq._cron_role(name text) RETURNS regrole
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    r regrole;
BEGIN
    SELECT ro.oid::regrole INTO r FROM pg_catalog.pg_roles AS ro WHERE ro.rolname = _cron_role.name;
    IF r IS NULL THEN
        RAISE EXCEPTION 'role "%" does not exist', _cron_role.name USING ERRCODE = '42704';
    END IF;
    RETURN r;
END
$$;

-- _cron_runner is the role whose SQL commands this session may run: the role it logged in as,
-- provided it still runs as that role (no SET ROLE, SET SESSION AUTHORIZATION or SECURITY
-- DEFINER in between: each of those would let a command switch back to a stronger role).
-- NULL otherwise.
CREATE FUNCTION pgjobq._cron_runner() RETURNS regrole
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT r.oid::regrole
      FROM pg_catalog.pg_roles AS r
     WHERE r.rolname = current_user AND current_user = session_user
       AND r.oid = (SELECT a.usesysid FROM pg_catalog.pg_stat_activity AS a
                     WHERE a.pid = pg_catalog.pg_backend_pid());
END;

-- _cron_job returns schedule job_id locked for update, or raises PJ006.
CREATE FUNCTION pgjobq._cron_job(job_id bigint) RETURNS pgjobq.cron_job
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    j pgjobq.cron_job;
BEGIN
    IF _cron_job.job_id IS NULL THEN
        RAISE EXCEPTION 'job_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO j FROM pgjobq.cron_job AS c WHERE c.jobid = _cron_job.job_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'schedule % does not exist', _cron_job.job_id USING ERRCODE = 'PJ006',
            DETAIL = 'Or it belongs to a role you are not a member of.',
            HINT = 'List yours with pgjobq.list_schedules().';
    END IF;
    RETURN j;
END
$$;

-- _cron_save creates the schedule job_name of the current role, or replaces its schedule and
-- what it runs if it exists (and activates it), and returns its id. Exactly one of command and
-- queue is given. An unchanged schedule keeps its next occurrence.
CREATE FUNCTION pgjobq._cron_save(job_name text, schedule text, command text, queue text,
                                  payload jsonb, attributes jsonb, priority integer)
RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    spec pgjobq.cron_spec := pgjobq.parse_schedule(_cron_save.schedule);
    t    timestamptz := pgjobq.now();
    id   bigint;
BEGIN
    INSERT INTO pgjobq.cron_job AS c (jobname, schedule, command, queue, payload, attributes,
                                      priority, username, spec, next_run_at, created_at)
    VALUES (_cron_save.job_name, _cron_save.schedule, _cron_save.command, _cron_save.queue,
            _cron_save.payload, _cron_save.attributes, _cron_save.priority,
            pgjobq._cron_role(current_user), spec, pgjobq._cron_next(spec, t), t)
    ON CONFLICT ON CONSTRAINT cron_job_name_uniq DO UPDATE
       SET schedule = excluded.schedule, command = excluded.command, queue = excluded.queue,
           payload = excluded.payload, attributes = excluded.attributes,
           priority = excluded.priority, spec = excluded.spec, active = true,
           next_run_at = CASE WHEN c.active AND c.spec = excluded.spec THEN c.next_run_at
                              ELSE excluded.next_run_at END
    RETURNING c.jobid INTO id;
    RETURN id;
END
$$;

------------------------------------------------------------------------------------------------
-- Public API: recurring jobs
------------------------------------------------------------------------------------------------

-- cron_next returns the first occurrence of schedule strictly after after, in UTC, or NULL if
-- it has none. Raises 22023 for a bad schedule.
CREATE FUNCTION pgjobq.cron_next(schedule text, after timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
    SELECT pgjobq._cron_next(pgjobq.parse_schedule(schedule), after);
END;

-- schedule creates a schedule named job_name that runs the SQL command at each occurrence of
-- schedule, owned by the current role, and returns its id. If the role already has a schedule
-- of that name, its schedule and command are replaced (and it is activated): same id.
CREATE FUNCTION pgjobq.schedule(job_name text, schedule text, command text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF schedule.job_name IS NULL THEN
        RAISE EXCEPTION 'job_name must not be NULL' USING ERRCODE = '22004',
            HINT = 'Call pgjobq.schedule(schedule, command) for a schedule without a name.';
    END IF;
    IF schedule.command IS NULL OR btrim(schedule.command) = '' THEN
        RAISE EXCEPTION 'command must not be NULL or empty' USING ERRCODE = '22004';
    END IF;
    RETURN pgjobq._cron_save(schedule.job_name, schedule.schedule, schedule.command,
                             NULL, NULL, NULL, NULL);
END
$$;

-- schedule creates a schedule without a name that runs the SQL command; see schedule above.
CREATE FUNCTION pgjobq.schedule(schedule text, command text) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF schedule.command IS NULL OR btrim(schedule.command) = '' THEN
        RAISE EXCEPTION 'command must not be NULL or empty' USING ERRCODE = '22004';
    END IF;
    RETURN pgjobq._cron_save(NULL, schedule.schedule, schedule.command, NULL, NULL, NULL, NULL);
END
$$;

-- schedule_send creates a schedule that sends a job with payload (and attributes, priority) to
-- queue at each occurrence, through pgjobq.send, and returns its id. A NULL job_name makes a
-- schedule without a name; an existing name of the current role is replaced as by schedule.
-- Raises PJ001 if the queue does not exist now; if it is dropped later, runs fail and say so.
CREATE FUNCTION pgjobq.schedule_send(
    job_name   text,
    schedule   text,
    queue      text,
    payload    jsonb,
    attributes jsonb   DEFAULT NULL,
    priority   integer DEFAULT 0
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(schedule_send.queue);
BEGIN
    IF schedule_send.payload IS NULL OR schedule_send.payload = 'null'::jsonb THEN
        RAISE EXCEPTION 'payload must not be NULL' USING ERRCODE = '22004',
            HINT = 'Send {} for a job without data.';
    END IF;
    IF pg_column_size(schedule_send.payload) > 1048576 THEN
        RAISE EXCEPTION 'payload is % bytes, the limit is 1 MiB', pg_column_size(schedule_send.payload)
            USING ERRCODE = '54000';
    END IF;
    IF jsonb_typeof(schedule_send.attributes) <> 'object' THEN
        RAISE EXCEPTION 'attributes must be a JSON object, got %', jsonb_typeof(schedule_send.attributes)
            USING ERRCODE = '22023';
    END IF;
    IF schedule_send.priority IS NULL OR schedule_send.priority NOT BETWEEN -32768 AND 32767 THEN
        RAISE EXCEPTION 'priority must be between -32768 and 32767, got %',
            coalesce(schedule_send.priority::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    RETURN pgjobq._cron_save(schedule_send.job_name, schedule_send.schedule, NULL, q.name,
                             schedule_send.payload, coalesce(schedule_send.attributes, '{}'),
                             schedule_send.priority);
END
$$;

-- unschedule deletes schedule job_id and its run history and returns true. Raises PJ006 if it
-- does not exist or belongs to a role the current role is not a member of.
CREATE FUNCTION pgjobq.unschedule(job_id bigint) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    j pgjobq.cron_job := pgjobq._cron_job(unschedule.job_id);
BEGIN
    DELETE FROM pgjobq.cron_job AS c WHERE c.jobid = j.jobid;
    DELETE FROM pgjobq.cron_job_run_details AS r WHERE r.jobid = j.jobid;
    RETURN true;
END
$$;

-- unschedule deletes the current role's schedule named job_name and its run history and returns
-- true. Raises PJ006 if the role has no schedule of that name.
CREATE FUNCTION pgjobq.unschedule(job_name text) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    id bigint;
BEGIN
    IF unschedule.job_name IS NULL THEN
        RAISE EXCEPTION 'job_name must not be NULL' USING ERRCODE = '22004';
    END IF;
    DELETE FROM pgjobq.cron_job AS c
     WHERE c.jobname = unschedule.job_name AND c.username = pgjobq._cron_role(current_user)
    RETURNING c.jobid INTO id;
    IF id IS NULL THEN
        RAISE EXCEPTION 'schedule "%" does not exist', unschedule.job_name USING ERRCODE = 'PJ006',
            DETAIL = format('Role %s has no schedule of that name.', current_user),
            HINT = 'List yours with pgjobq.list_schedules().';
    END IF;
    DELETE FROM pgjobq.cron_job_run_details AS r WHERE r.jobid = id;
    RETURN true;
END
$$;

-- alter_job changes schedule job_id; NULL leaves a property unchanged. database can only be the
-- current database (pgjobq runs schedules where it is installed); username gives the schedule
-- to a role the current role is a member of. A new schedule, or activating a paused one, moves
-- the next occurrence to the first one after now: occurrences missed while paused never fire.
CREATE FUNCTION pgjobq.alter_job(
    job_id   bigint,
    schedule text    DEFAULT NULL,
    command  text    DEFAULT NULL,
    database text    DEFAULT NULL,
    username text    DEFAULT NULL,
    active   boolean DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    j     pgjobq.cron_job;
    owner regrole;
BEGIN
    IF alter_job.schedule IS NULL AND alter_job.command IS NULL AND alter_job.database IS NULL
       AND alter_job.username IS NULL AND alter_job.active IS NULL THEN
        RAISE EXCEPTION 'no updates specified' USING ERRCODE = '22023',
            HINT = 'Give at least one of schedule, command, database, username, active.';
    END IF;
    j := pgjobq._cron_job(alter_job.job_id);
    IF alter_job.database IS DISTINCT FROM current_database() AND alter_job.database IS NOT NULL THEN
        RAISE EXCEPTION 'pgjobq runs schedules only in the database it is installed in, "%"',
            current_database() USING ERRCODE = '0A000',
            HINT = format('Install pgjobq in database "%s" and schedule there.', alter_job.database);
    END IF;
    IF alter_job.command IS NOT NULL AND j.command IS NULL THEN
        RAISE EXCEPTION 'schedule % sends jobs to queue "%"; it has no command', j.jobid, j.queue
            USING ERRCODE = '22023',
            HINT = 'Change what it sends with pgjobq.schedule_send(), or unschedule it and schedule the command.';
    END IF;
    IF btrim(alter_job.command) = '' THEN
        RAISE EXCEPTION 'command must not be empty' USING ERRCODE = '22023';
    END IF;
    IF alter_job.username IS NOT NULL THEN
        owner := pgjobq._cron_role(alter_job.username);
        IF NOT pg_has_role(owner, 'MEMBER') THEN
            RAISE EXCEPTION 'permission denied to give schedule % to role "%"', j.jobid, alter_job.username
                USING ERRCODE = '42501', HINT = 'You can give a schedule only to a role you are a member of.';
        END IF;
    END IF;
    IF alter_job.schedule IS NOT NULL THEN
        j.spec := pgjobq.parse_schedule(alter_job.schedule);
        j.schedule := alter_job.schedule;
        j.next_run_at := pgjobq._cron_next(j.spec, pgjobq.now());
    END IF;
    IF alter_job.active AND NOT j.active THEN
        j.next_run_at := pgjobq._cron_next(j.spec, pgjobq.now());
    END IF;
    UPDATE pgjobq.cron_job AS c
       SET schedule = j.schedule, spec = j.spec, next_run_at = j.next_run_at,
           command = coalesce(alter_job.command, c.command),
           username = coalesce(owner, c.username),
           active = coalesce(alter_job.active, c.active)
     WHERE c.jobid = j.jobid;
END
$$;

-- list_schedules lists the schedules the current role can see (its own and those of roles it
-- is a member of), by id.
CREATE FUNCTION pgjobq.list_schedules()
RETURNS TABLE (jobid bigint, jobname text, schedule text, command text, queue text, payload jsonb,
               attributes jsonb, priority integer, username text, active boolean,
               next_run_at timestamptz, last_due_at timestamptz, created_at timestamptz)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT c.jobid, c.jobname, c.schedule, c.command, c.queue, c.payload, c.attributes, c.priority,
           c.username::text, c.active, c.next_run_at, c.last_due_at, c.created_at
      FROM pgjobq.cron_job AS c
     ORDER BY c.jobid;
END;

-- tick fires every due occurrence of the schedules this session may run and returns how many
-- runs it fired. Call it every second. Each run is one row in cron_job_run_details; a failing
-- command is recorded as failed and does not stop the others. Concurrent ticks never fire one
-- occurrence twice (SKIP LOCKED; see the README). At most 1000 runs per call.
CREATE FUNCTION pgjobq.tick() RETURNS integer
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t       timestamptz := pgjobq.now();
    runner  regrole := pgjobq._cron_runner();
    -- What pgjobq's functions pin (see the end of the install script); a command runs with the
    -- session's defaults of these instead, as a fresh pg_cron connection would.
    pinned  text[] := ARRAY['search_path', 'enable_seqscan', 'plan_cache_mode', 'jit'];
    ours    text[];
    theirs  text[];
    jobs    pgjobq.cron_job[];
    j       pgjobq.cron_job;
    status  text;
    msg     text;
    n       bigint;
    sent    bigint;
BEGIN
    IF current_setting('pgjobq.ticking', true) = 'on' THEN
        RAISE EXCEPTION 'pgjobq.tick() cannot run inside a scheduled command' USING ERRCODE = '55000';
    END IF;
    -- Claim: lock what is due, skipping what another tick holds, and move it to its next
    -- occurrence after t, so one run stands for every occurrence missed until t.
    WITH due AS (
        SELECT c.jobid FROM pgjobq.cron_job AS c
         WHERE c.active AND c.next_run_at <= t
           AND (c.command IS NULL OR c.username = runner)
         ORDER BY c.next_run_at, c.jobid
         LIMIT 1000
           FOR UPDATE OF c SKIP LOCKED
    ), claimed AS (
        UPDATE pgjobq.cron_job AS c
           SET next_run_at = coalesce(pgjobq._cron_next(c.spec, t), 'infinity'),
               last_due_at = c.next_run_at
          FROM due AS d WHERE c.jobid = d.jobid
        RETURNING c AS job
    )
    SELECT array_agg(cl.job ORDER BY (cl.job).last_due_at, (cl.job).jobid) INTO jobs FROM claimed AS cl;
    IF jobs IS NULL THEN
        RETURN 0;
    END IF;

    PERFORM set_config('pgjobq.ticking', 'on', true);
    ours := ARRAY(SELECT current_setting(u.name) FROM unnest(pinned) WITH ORDINALITY AS u(name, i)
                   ORDER BY u.i);
    theirs := ARRAY(SELECT s.reset_val FROM unnest(pinned) WITH ORDINALITY AS u(name, i)
                      JOIN pg_catalog.pg_settings AS s ON s.name = u.name ORDER BY u.i);
    FOREACH j IN ARRAY jobs LOOP
        BEGIN  -- a subtransaction: a failing run rolls back alone
            IF j.command IS NOT NULL THEN
                -- The owner's own SQL in the owner's own session, with the session's defaults
                -- of the settings pgjobq pins.
                PERFORM set_config(u.name, u.value, true) FROM unnest(pinned, theirs) AS u(name, value);
                EXECUTE j.command;
                GET DIAGNOSTICS n = ROW_COUNT;
                PERFORM set_config(u.name, u.value, true) FROM unnest(pinned, ours) AS u(name, value);
                PERFORM set_config('role', 'none', true);
                msg := n || CASE WHEN n = 1 THEN ' row' ELSE ' rows' END;
            ELSE
                sent := pgjobq.send(j.queue, j.payload, j.attributes, priority => j.priority);
                msg := format('sent job %s to queue "%s"', sent, j.queue);
            END IF;
            status := 'succeeded';
        EXCEPTION WHEN OTHERS THEN
            status := 'failed';
            msg := SQLSTATE || ': ' || SQLERRM;
        END;
        INSERT INTO pgjobq.cron_job_run_details (jobid, job_pid, database, username, command, status,
                                                 return_message, scheduled_at, start_time, end_time)
        VALUES (j.jobid, pg_backend_pid(), current_database(), j.username, j.command, status,
                msg, j.last_due_at, t, t);
        -- Keep the last 100 runs of the schedule.
        DELETE FROM pgjobq.cron_job_run_details AS r
         WHERE r.jobid = j.jobid
           AND r.runid <= (SELECT o.runid FROM pgjobq.cron_job_run_details AS o
                            WHERE o.jobid = j.jobid ORDER BY o.runid DESC OFFSET 100 LIMIT 1);
    END LOOP;
    PERFORM set_config('pgjobq.ticking', '', true);
    RETURN cardinality(jobs);
END
$$;

-- schedule_tick_with_pg_cron makes pg_cron call pgjobq.tick() every second in this database as
-- the current role (every minute with pg_cron before 1.5, which has no second intervals), under
-- pg_cron job name job_name, and returns pg_cron's job id. Calling it again updates that job.
-- Raises 55000 if pg_cron is not installed in this database, with the command to run instead.
CREATE FUNCTION pgjobq.schedule_tick_with_pg_cron(job_name text DEFAULT 'pgjobq-tick') RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    cron_db text := current_setting('cron.database_name', true);
    db      text := replace(current_database(), '''', '''''');
    -- Dynamic because pg_cron may not be installed (a static call would not even compile).
    stmt    text := format('SELECT %I.schedule($1, $2, $3)', 'cron');
    id      bigint;
BEGIN
    IF schedule_tick_with_pg_cron.job_name IS NULL THEN
        RAISE EXCEPTION 'job_name must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF to_regprocedure('cron.schedule(text,text,text)') IS NULL
       AND to_regprocedure('cron.schedule(name,text,text)') IS NULL THEN
        IF cron_db IS NULL OR cron_db = '' THEN
            RAISE EXCEPTION 'pg_cron is not installed' USING ERRCODE = '55000',
                HINT = 'Add pg_cron to shared_preload_libraries, restart and CREATE EXTENSION pg_cron; '
                    || 'or call SELECT pgjobq.tick() every second from any scheduler.';
        END IF;
        RAISE EXCEPTION 'pg_cron is not installed in database "%"', current_database()
            USING ERRCODE = '55000',
            DETAIL = format('pg_cron runs in database "%s" (cron.database_name).', cron_db),
            HINT = format('In database "%s", run: SELECT cron.schedule_in_database(''%s'', ''1 seconds'', '
                          '''SELECT pgjobq.tick()'', ''%s'');', cron_db,
                          replace(schedule_tick_with_pg_cron.job_name, '''', ''''''), db);
    END IF;
    BEGIN
        EXECUTE stmt INTO id USING schedule_tick_with_pg_cron.job_name, '1 seconds', 'SELECT pgjobq.tick()';
    EXCEPTION WHEN invalid_parameter_value THEN
        EXECUTE stmt INTO id USING schedule_tick_with_pg_cron.job_name, '* * * * *', 'SELECT pgjobq.tick()';
        RAISE NOTICE 'this pg_cron has no second intervals (they came in 1.5): pgjobq.tick() runs every minute';
    END;
    RETURN id;
END
$$;

COMMENT ON FUNCTION pgjobq.parse_schedule(text) IS 'Parse a pg_cron schedule into its compact form; raises 22023 naming the bad field';
COMMENT ON FUNCTION pgjobq.cron_next(text, timestamptz) IS 'First occurrence of a schedule strictly after a time (UTC)';
COMMENT ON FUNCTION pgjobq.schedule(text, text, text) IS 'Run an SQL command on a schedule (pg_cron''s cron.schedule); a known name is updated';
COMMENT ON FUNCTION pgjobq.schedule(text, text) IS 'Run an SQL command on a schedule, without a name';
COMMENT ON FUNCTION pgjobq.schedule_send(text, text, text, jsonb, jsonb, integer) IS 'Send a job to a queue on a schedule';
COMMENT ON FUNCTION pgjobq.unschedule(bigint) IS 'Delete a schedule and its run history by id';
COMMENT ON FUNCTION pgjobq.unschedule(text) IS 'Delete one of your schedules and its run history by name';
COMMENT ON FUNCTION pgjobq.alter_job(bigint, text, text, text, text, boolean) IS 'Change a schedule; NULL leaves a property unchanged';
COMMENT ON FUNCTION pgjobq.list_schedules() IS 'The schedules you can see, by id';
COMMENT ON FUNCTION pgjobq.tick() IS 'Fire every due occurrence once; returns how many runs it fired. Call every second';
COMMENT ON FUNCTION pgjobq.schedule_tick_with_pg_cron(text) IS 'Make pg_cron call pgjobq.tick() every second in this database';
