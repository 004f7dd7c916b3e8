
------------------------------------------------------------------------------------------------
-- search_path
------------------------------------------------------------------------------------------------

-- Every PL/pgSQL function runs with search_path = pg_catalog, pg_temp. Names of pgjobq's own
-- objects are qualified, but operators (= on job_state, @> on jsonb) are looked up through the
-- path: without this, a role that can create objects in a schema on the caller's path could slip
-- in an operator that runs with the caller's rights. SQL functions have SQL-standard bodies
-- (BEGIN ATOMIC), whose names PostgreSQL resolves once, here, so they need no pinned path, and a
-- function without SET can be inlined into its caller instead of being planned on every call
-- (if it is declared no less volatile than what it calls: hence STABLE, like jsonb_build_object).
--
-- Plans: the job table of a busy queue holds few live rows and many dead ones until vacuum. Its
-- statistics (an empty queue after VACUUM has no pages) would make the planner pick sequential
-- scans, which then read every dead row, twice per job, until the next autovacuum; so the
-- functions never scan a table sequentially where an index serves. Their statements keep one
-- generic plan per session instead of planning again on every call (the plans do not depend on
-- the values: every lookup goes through an index; statements that join the job table to a list
-- of ids also give the ids as an index condition, so no plan walks an index from its start). No
-- JIT: with sequential scans priced out, a statement that can only scan a small table
-- sequentially would cost more than jit_above_cost and be compiled on every call.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc AS p
              WHERE p.pronamespace = 'pgjobq'::regnamespace
                AND p.prolang = (SELECT l.oid FROM pg_catalog.pg_language AS l
                                  WHERE l.lanname = 'plpgsql') LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp '
                                  'SET enable_seqscan = off SET plan_cache_mode = force_generic_plan '
                                  'SET jit = off', f);
    END LOOP;
END
$$;

------------------------------------------------------------------------------------------------
-- pg_dump keeps queues and jobs
------------------------------------------------------------------------------------------------

SELECT pg_catalog.pg_extension_config_dump('pgjobq.queue', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job_archive', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job_dependency', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.dead_letter', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.queue_size', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.queue_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('pgjobq.job_id_seq', '');
