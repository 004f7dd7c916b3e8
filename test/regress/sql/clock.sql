-- One clock: pgjobq.now() is transaction time unless frozen, and nothing else reads the clock.
\set VERBOSITY terse
SELECT pgjobq.now() = now() AS transaction_time;
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.now();
SET pgjobq.now = '2030-06-01 12:34:56.789+02';
SELECT pgjobq.now();
RESET pgjobq.now;
SELECT pgjobq.now() = now() AS transaction_time;
SET pgjobq.now = '';
SELECT pgjobq.now() = now() AS transaction_time;
-- No function of pgjobq but pgjobq.now reads the clock.
SELECT p.oid::regprocedure AS reads_the_clock
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pgjobq' AND p.proname <> 'now'
   AND (regexp_replace(p.prosrc, 'pgjobq\.now\(\)', '', 'g')
        ~* '(\mnow\(|clock_timestamp|statement_timestamp|transaction_timestamp|current_timestamp|localtimestamp|current_date|current_time|timeofday)');
