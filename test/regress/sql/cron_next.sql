-- cron_next: the first occurrence strictly after a time, in UTC, whatever the session's time
-- zone. The Go oracle test compares it with robfig/cron over thousands of schedules; these are
-- the cases pg_cron and robfig/cron disagree on, and the ones robfig/cron has no syntax for.
\set VERBOSITY terse
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SET timezone = 'America/New_York';
SET datestyle = 'ISO';
-- Strictly after: an occurrence equal to after is not returned; seconds round up.
SELECT pgjobq.cron_next('0 10 * * *', '2030-01-01 10:00:00+00') AT TIME ZONE 'UTC' AS at_the_occurrence,
       pgjobq.cron_next('0 10 * * *', '2030-01-01 09:59:59.999999+00') AT TIME ZONE 'UTC' AS just_before,
       pgjobq.cron_next('* * * * *', '2030-01-01 10:00:00.000001+00') AT TIME ZONE 'UTC' AS next_minute;
-- UTC, not the session's zone: 0 10 * * * is 10:00 UTC (05:00 in New York).
SELECT pgjobq.cron_next('0 10 * * *', '2030-01-01 00:00:00+00');
-- Month ends, leap years, year ends.
SELECT a AT TIME ZONE 'UTC' AS after, pgjobq.cron_next(s, a) AT TIME ZONE 'UTC' AS next, s AS schedule
  FROM (VALUES ('0 0 29 2 *', '2029-03-01 00:00+00'::timestamptz), ('0 0 29 2 *', '2032-02-28 23:59+00'),
               ('0 0 31 * *', '2030-04-01 00:00+00'), ('59 23 31 12 *', '2030-12-31 23:59+00'),
               ('0 0 1 1 *', '2030-12-31 23:59:59+00'), ('* * * * *', '2030-12-31 23:59:30+00'),
               ('0 0 29 2 1', '2030-03-01 00:00+00')) AS v(s, a);
-- '$': the last day of each month, leap years included.
SELECT pgjobq.cron_next('0 12 $ * *', a) AT TIME ZONE 'UTC' AS last_day
  FROM unnest(ARRAY['2030-01-31 12:00+00', '2030-02-01 00:00+00', '2032-02-01 00:00+00', '2030-04-30 11:59+00',
                    '2030-12-31 12:00+00']::timestamptz[]) AS a;
-- '$' with a restricted weekday is "last day OR that weekday" (the vixie rule); with */n, AND.
SELECT pgjobq.cron_next('0 0 $ * 1', '2030-01-01 00:00+00') AT TIME ZONE 'UTC' AS last_or_monday,
       pgjobq.cron_next('0 0 $ * */5', '2030-01-01 00:00+00') AT TIME ZONE 'UTC' AS last_and_sun_or_fri;
-- Both day fields restricted: either matches (1 March 2030 is a Friday; the 4th a Monday).
SELECT pgjobq.cron_next('0 0 15 * 1', '2030-03-01 00:00+00') AT TIME ZONE 'UTC' AS monday_or_15th;
-- A day field starting with '*' makes both match, even */n (robfig/cron counts */2 as restricted
-- and would answer Monday the 4th here): the odd days that are Mondays, so 11 March.
SELECT pgjobq.cron_next('0 0 */2 * 1', '2030-03-01 00:00+00') AT TIME ZONE 'UTC' AS odd_day_and_monday,
       pgjobq.cron_next('0 0 1,15 * */7', '2030-03-01 00:00+00') AT TIME ZONE 'UTC' AS first_or_15th_and_sunday;
-- Weekday 7 is Sunday.
SELECT pgjobq.cron_next('0 0 * * 7', '2030-03-01 00:00+00') AT TIME ZONE 'UTC' AS sunday;
-- 'N seconds': every instant whose Unix time is a multiple of N (for N dividing 60: seconds 0,
-- N, 2N, ... of each minute), strictly after.
SELECT a AT TIME ZONE 'UTC' AS after, s AS schedule, pgjobq.cron_next(s, a) AT TIME ZONE 'UTC' AS next
  FROM (VALUES ('1 second', '2030-01-01 00:00:00+00'::timestamptz), ('1 second', '2030-01-01 00:00:00.5+00'),
               ('10 seconds', '2030-01-01 00:00:00+00'), ('10 seconds', '2030-01-01 00:00:09.999+00'),
               ('10 seconds', '2030-01-01 00:00:55+00'), ('15 seconds', '2030-12-31 23:59:45+00'),
               ('7 seconds', '2030-01-01 00:00:00+00'), ('59 seconds', '2030-01-01 00:00:00+00')) AS v(s, a);
-- Bad arguments.
SELECT pg_temp.try($$SELECT pgjobq.cron_next('* * * * *', 'infinity')$$);
SELECT pgjobq.cron_next('* * * * *', NULL) IS NULL AS null_after;
SELECT pg_temp.try($$SELECT pgjobq.cron_next('nope', '2030-01-01')$$);
RESET timezone;
RESET datestyle;
