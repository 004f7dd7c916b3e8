-- Schedules: every form pg_cron takes parses into the compact form cron_next reads (sorted
-- values per field, the '$' flag, the day rule), and every bad one is a 22023 naming the field.
\set VERBOSITY terse
SET timezone = 'UTC';
SET datestyle = 'ISO';
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
-- Five fields: *, numbers, lists, ranges, steps on * and on ranges, leading zeros.
SELECT pgjobq.parse_schedule('* * * * *');
SELECT pgjobq.parse_schedule('5 4 * * *');
SELECT pgjobq.parse_schedule('0,30 8-10,17 1,15 */3 1-5');
SELECT pgjobq.parse_schedule('*/20 0-12/4 10-31/10 2-12/5 */2');
SELECT pgjobq.parse_schedule('05 09 01 01 00');
SELECT (pgjobq.parse_schedule('*/100 * * * *')).minutes AS step_past_the_end;
-- Names of months and weekdays, any case, alone, in lists and ranges, with steps.
SELECT (s).months, (s).weekdays FROM pgjobq.parse_schedule('0 0 * JAN,mar-May,Dec sun,Wed-fri') AS s;
SELECT (s).months, (s).weekdays FROM pgjobq.parse_schedule('0 0 * jan-dec/3 mon-sat/2') AS s;
-- Weekday 7 is Sunday, like 0.
SELECT (pgjobq.parse_schedule('0 0 * * 7')).weekdays, (pgjobq.parse_schedule('0 0 * * 5-7')).weekdays;
-- The day rule (vixie cron, pg_cron): when neither day field starts with '*', either may match
-- (day_or); a field starting with '*' (even */2) makes both have to.
SELECT (pgjobq.parse_schedule('0 0 1 * 1')).day_or AS both_restricted,
       (pgjobq.parse_schedule('0 0 1 * *')).day_or AS weekday_star,
       (pgjobq.parse_schedule('0 0 * * 1')).day_or AS day_star,
       (pgjobq.parse_schedule('0 0 */2 * 1')).day_or AS day_star_step,
       (pgjobq.parse_schedule('0 0 1 * */2')).day_or AS weekday_star_step,
       (pgjobq.parse_schedule('0 0 1-31 * 1')).day_or AS full_range_is_not_star;
-- '$' is the last day of the month (the whole day-of-month field).
SELECT pgjobq.parse_schedule('0 12 $ * *');
SELECT (pgjobq.parse_schedule('0 12 $ * 1')).day_or AS last_day_or_monday;
-- Shorthands.
SELECT s, pgjobq.parse_schedule(s) = pgjobq.parse_schedule(e) AS same
  FROM (VALUES ('@yearly', '0 0 1 1 *'), ('@annually', '0 0 1 1 *'), ('@monthly', '0 0 1 * *'),
               ('@weekly', '0 0 * * 0'), ('@daily', '0 0 * * *'), ('@midnight', '0 0 * * *'),
               ('@hourly', '0 * * * *')) AS v(s, e);
-- Interval schedules: '[1-59] seconds', singular or plural, any case and spacing.
SELECT s, (pgjobq.parse_schedule(s)).seconds
  FROM unnest(ARRAY['1 second', '1 seconds', ' 30 sEcOnDs ', '17  seconds ', '59 seconds', '05 seconds', '9seconds']) AS s;
-- Surrounding blanks and tabs between fields are fine.
SELECT pgjobq.parse_schedule(E'  5\t4  *  *  * ') = pgjobq.parse_schedule('5 4 * * *') AS blanks_ok;

-- Bad schedules: 22023 with the field and a hint with the syntax (shown once, then only messages).
SELECT pg_temp.try($$SELECT pgjobq.parse_schedule('* * * *')$$);
SELECT regexp_replace(pg_temp.try(format('SELECT pgjobq.parse_schedule(%s)', quote_literal(s))), E'\nHINT: A schedule is .*', '') AS error
  FROM unnest(ARRAY[
    '', '   ', '* * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *', '* * 32 * *', '* * * 0 *',
    '* * * 13 *', '* * * * 8', '-1 * * * *', '5/10 * * * *', '*/0 * * * *', '5-1 * * * *',
    '* * * * fri-mon', '1,,2 * * * *', '1, * * * *', '*-5 * * * *', '1-2-3 * * * *', '? * * * *',
    '* * * * monday', '* * * january *', 'jan * * * *', '* * * */jan *', 'L * * * *', '5! * * * *',
    '99999999999 * * * *', '* * 1,$ * *', '* * * * $', '0 0 30 2 *', '0 0 31 4,6,9,11 *',
    '@Daily', '@every 5m', '@daily 5', '@', '0 seconds', '60 seconds', '-1 seconds', '10000000000 seconds',
    '5 secondc', '50 seconds c', '5 minutes', E'1 2\n3 4 5']) AS s;
SELECT pg_temp.try($$SELECT pgjobq.parse_schedule('@reboot')$$);
SELECT pg_temp.try($$SELECT pgjobq.parse_schedule('@restart')$$);
SELECT pg_temp.try($$SELECT pgjobq.parse_schedule(repeat('1', 1001))$$);
SELECT pg_temp.try($$SELECT pgjobq.parse_schedule(NULL)$$);
-- Day 30 of February never comes, but with weekdays restricted too it fires on Mondays (OR).
SELECT pgjobq.cron_next('0 0 30 2 1', '2030-01-01 00:00+00');
