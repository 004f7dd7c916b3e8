-- Security and packaging: SECURITY INVOKER everywhere, no dynamic SQL, dump registration.
\set VERBOSITY terse
-- Functions that are SECURITY DEFINER without a pinned search_path (expect none).
SELECT p.oid::regprocedure
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pgjobq' AND p.prosecdef
   AND NOT coalesce(p.proconfig::text[] && ARRAY['search_path=pg_catalog, pg_temp'], false);
-- Functions that build SQL at run time (expect none: identifiers would need format('%I')).
SELECT p.oid::regprocedure
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pgjobq' AND p.prosrc ~* '\mexecute\M';
-- Every public function has a comment.
SELECT p.oid::regprocedure AS undocumented
  FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
 WHERE n.nspname = 'pgjobq' AND p.proname !~ '^_' AND obj_description(p.oid, 'pg_proc') IS NULL;
-- Tables and sequences whose data pg_dump keeps.
SELECT c.relname
  FROM pg_extension AS e CROSS JOIN LATERAL unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class AS c ON c.oid = cfg.oid
 WHERE e.extname = 'pgjobq' ORDER BY c.relname;
