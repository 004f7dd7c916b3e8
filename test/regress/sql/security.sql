-- Security and packaging: functions run with the caller's rights (or pin search_path), build no
-- SQL at run time, and pg_dump keeps the data of every table and sequence.
\set VERBOSITY terse
\set SHOW_CONTEXT never
-- The functions checked below (so that an empty result is not an empty schema).
SELECT count(*) > 30 AS many_functions FROM pg_proc WHERE pronamespace = 'pgjobq'::regnamespace;
-- SECURITY DEFINER functions without a pinned search_path (expect none; today every function
-- is SECURITY INVOKER).
SELECT p.oid::regprocedure AS unsafe_definer
  FROM pg_proc AS p
 WHERE p.pronamespace = 'pgjobq'::regnamespace AND p.prosecdef
   AND NOT EXISTS (SELECT FROM unnest(p.proconfig) AS c WHERE c LIKE 'search\_path=%');
SELECT bool_and(NOT prosecdef) AS all_invoker FROM pg_proc WHERE pronamespace = 'pgjobq'::regnamespace;
-- Functions that build SQL at run time: no format('%L') or quote_literal anywhere, and EXECUTE
-- only in the two that cannot do without: tick runs each schedule's SQL command as its owner
-- wrote it, and schedule_tick_with_pg_cron calls pg_cron, which may not be installed (values
-- passed with USING only).
SELECT p.oid::regprocedure AS dynamic_sql
  FROM pg_proc AS p
 WHERE p.pronamespace = 'pgjobq'::regnamespace
   AND coalesce(pg_get_function_sqlbody(p.oid), p.prosrc)
       ~* '(\mexecute\M|%L|\mquote_(literal|nullable)\M)';
-- Every function is in a language that cannot reach outside the database.
SELECT DISTINCT l.lanname
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'pgjobq'::regnamespace ORDER BY l.lanname;
-- Every public function has a comment (shown by \df+).
SELECT p.oid::regprocedure AS undocumented
  FROM pg_proc AS p
 WHERE p.pronamespace = 'pgjobq'::regnamespace AND p.proname !~ '^_'
   AND obj_description(p.oid, 'pg_proc') IS NULL;
-- Tables and sequences whose data pg_dump keeps: every table and sequence of the schema.
SELECT c.relname, c.relkind
  FROM pg_extension AS e CROSS JOIN LATERAL unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class AS c ON c.oid = cfg.oid
 WHERE e.extname = 'pgjobq' ORDER BY c.relname;
SELECT c.relname AS not_dumped
  FROM pg_class AS c
 WHERE c.relnamespace = 'pgjobq'::regnamespace AND c.relkind IN ('r', 'S')
   AND c.oid <> ALL ((SELECT e.extconfig FROM pg_extension AS e WHERE e.extname = 'pgjobq')::oid[]);
-- Every PL/pgSQL function pins search_path, so no operator on the caller's path can stand in, and
-- every SQL function has an SQL-standard body, resolved when it was created (expect none).
SELECT p.oid::regprocedure AS unpinned
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'pgjobq'::regnamespace
   AND CASE l.lanname
       WHEN 'plpgsql' THEN NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
       WHEN 'sql' THEN p.prosqlbody IS NULL
       ELSE true END;
-- SQL functions carry no SET, so the planner can inline them (expect none).
SELECT p.oid::regprocedure AS not_inlinable
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'pgjobq'::regnamespace AND l.lanname = 'sql' AND p.proconfig IS NOT NULL;
