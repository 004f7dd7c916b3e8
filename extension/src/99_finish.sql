
------------------------------------------------------------------------------------------------
-- search_path
------------------------------------------------------------------------------------------------

-- Every function runs with search_path = pg_catalog, pg_temp. Names of pgjobq's own objects are
-- qualified, but operators (= on job_state, @> on jsonb) are looked up through the path: without
-- this, a role that can create objects in a schema on the caller's path could slip in an operator
-- that runs with the caller's rights.
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN SELECT p.oid FROM pg_catalog.pg_proc AS p
              WHERE p.pronamespace = 'pgjobq'::regnamespace LOOP
        EXECUTE pg_catalog.format('ALTER FUNCTION %s SET search_path = pg_catalog, pg_temp', f);
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
