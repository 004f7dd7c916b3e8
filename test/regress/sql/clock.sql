-- One clock: pgjobq.now() is transaction time unless a test freezes it with the pgjobq.now
-- setting, and no other function of pgjobq reads the clock.
\set VERBOSITY terse
\set SHOW_CONTEXT never
-- Not set: transaction time, the same all through a transaction.
SELECT pgjobq.now() = now() AS transaction_time;
BEGIN;
SELECT now() AS started \gset
SELECT pgjobq.now() = :'started'::timestamptz AS transaction_time, pgjobq.now() <= clock_timestamp() AS not_after_the_wall_clock;
SELECT pgjobq.now() = :'started'::timestamptz AS still_transaction_time;
COMMIT;
-- Frozen: exactly the value set, whatever the time zone it was written in.
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.now();
SELECT pgjobq.now() = '2030-01-01 00:00:00+00'::timestamptz AS frozen;
SET pgjobq.now = '2030-06-01 12:34:56.789+02';
SELECT pgjobq.now(), pgjobq.now() = '2030-06-01 10:34:56.789+00'::timestamptz AS frozen;
-- Frozen time does not move within or across transactions.
BEGIN;
SELECT pgjobq.now() = '2030-06-01 10:34:56.789+00'::timestamptz AS frozen;
COMMIT;
SELECT pgjobq.now() = '2030-06-01 10:34:56.789+00'::timestamptz AS frozen;
-- SET LOCAL freezes it for one transaction only.
BEGIN;
SET LOCAL pgjobq.now = '2031-01-01 00:00:00+00';
SELECT pgjobq.now() = '2031-01-01 00:00:00+00'::timestamptz AS frozen_locally;
COMMIT;
SELECT pgjobq.now() = '2030-06-01 10:34:56.789+00'::timestamptz AS frozen;
-- Reset, or set to empty: transaction time again.
RESET pgjobq.now;
SELECT pgjobq.now() = now() AS transaction_time;
SET pgjobq.now = '2030-01-01 00:00:00+00';
SET pgjobq.now = '';
SELECT pgjobq.now() = now() AS transaction_time;
RESET pgjobq.now;
-- A value that is not a time is an error, not a silent fallback.
SET pgjobq.now = 'soon';
SELECT pgjobq.now();
-- The queue is checked before the clock is read: an unknown queue is still PJ001.
SELECT * FROM pgjobq.send('no_such_queue', '{}');
SELECT * FROM pgjobq.receive('no_such_queue');
RESET pgjobq.now;

-- No function of pgjobq other than pgjobq.now reads the clock: no now() except pgjobq.now(), no
-- clock functions or SQL-standard time keywords, no 'now'/'today' literals.
SELECT p.oid::regprocedure AS reads_the_clock
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pgjobq' AND p.oid <> 'pgjobq.now()'::regprocedure
   AND (regexp_replace(coalesce(pg_get_function_sqlbody(p.oid), p.prosrc), 'pgjobq\.now\s*\(\s*\)', '', 'gi')
          ~* '(\mnow\s*\(|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|\mcurrent_timestamp\M|\mlocaltimestamp\M|\mcurrent_date\M|\mcurrent_time\M|\mlocaltime\M)'
        OR coalesce(pg_get_function_sqlbody(p.oid), p.prosrc) ~* '''\s*(now|today|tomorrow|yesterday)\s*''');
-- An SQL-standard body keeps no 'now' literal: it holds the time the function was created. No
-- body of pgjobq holds a time literal at all (expect none).
SELECT p.oid::regprocedure AS frozen_time
  FROM pg_proc AS p
 WHERE p.pronamespace = 'pgjobq'::regnamespace
   AND pg_get_function_sqlbody(p.oid) ~ '''[^'']*''::(timestamp|date|time)';
-- pgjobq.now itself reads transaction time only (not the wall clock).
SELECT coalesce(pg_get_function_sqlbody(oid), prosrc) ~* 'transaction_timestamp\(\)' AS transaction_time,
       coalesce(pg_get_function_sqlbody(oid), prosrc) !~* '(clock_timestamp|statement_timestamp|timeofday)' AS no_wall_clock,
       provolatile AS volatility
  FROM pg_proc WHERE oid = 'pgjobq.now()'::regprocedure;
-- The check would catch a function that read the clock (this one is in pg_temp, not pgjobq).
CREATE FUNCTION pg_temp.sneaky() RETURNS timestamptz LANGUAGE sql AS $$ SELECT NOW () $$;
SELECT regexp_replace(coalesce(pg_get_function_sqlbody(p.oid), p.prosrc), 'pgjobq\.now\s*\(\s*\)', '', 'gi') ~* '\mnow\s*\(' AS caught
  FROM pg_proc AS p WHERE p.oid = 'pg_temp.sneaky()'::regprocedure;
-- ... also in an SQL-standard body (its source text is not kept: the checks read the stored body).
CREATE FUNCTION pg_temp.sneaky_atomic() RETURNS timestamptz LANGUAGE sql
BEGIN ATOMIC SELECT clock_timestamp(); END;
SELECT coalesce(pg_get_function_sqlbody(p.oid), p.prosrc) ~* 'clock_timestamp' AS caught
  FROM pg_proc AS p WHERE p.oid = 'pg_temp.sneaky_atomic()'::regprocedure;
CREATE FUNCTION pg_temp.frozen_atomic() RETURNS timestamptz LANGUAGE sql
BEGIN ATOMIC SELECT 'now'::timestamptz; END;
SELECT pg_get_function_sqlbody(p.oid) ~ '''[^'']*''::(timestamp|date|time)' AS caught
  FROM pg_proc AS p WHERE p.oid = 'pg_temp.frozen_atomic()'::regprocedure;
