-- Plans: on an emptied, vacuumed job table (no pages, so the statistics invite sequential scans)
-- the hot path still finds rows through indexes, and keeps doing so as dead rows pile up.
-- Run in a database of its own, whose job table has never held a row.
\set VERBOSITY terse
SELECT current_database() AS regress_db \gset
SET client_min_messages = warning;
DROP DATABASE IF EXISTS pgjobq_plans;  -- left by an interrupted run
RESET client_min_messages;
CREATE DATABASE pgjobq_plans;
\c pgjobq_plans
SET client_min_messages = warning;
CREATE EXTENSION pgjobq;
RESET client_min_messages;
SET stats_fetch_consistency = none;
SELECT pgjobq.create_queue('q_plans');
VACUUM (ANALYZE) pgjobq.job;
SELECT relpages, reltuples FROM pg_class WHERE oid = 'pgjobq.job'::regclass;
-- This backend's counts reach the shared statistics when it is idle after a forced flush.
SELECT pg_stat_force_next_flush();
SELECT seq_scan AS seq_before FROM pg_stat_user_tables WHERE relid = 'pgjobq.job'::regclass \gset
-- Send, receive and ack, each in its own transaction, as a worker does, ten times.
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pgjobq.send('q_plans', '{}') IS NOT NULL AS sent \gset
SELECT id, lease_token FROM pgjobq.receive('q_plans') \gset
SELECT pgjobq.ack(:id, :'lease_token');
SELECT pg_stat_force_next_flush();
-- No sequential scan of the job table (expect 0), and every job finished.
SELECT seq_scan - :seq_before AS seq_scans FROM pg_stat_user_tables
 WHERE relid = 'pgjobq.job'::regclass;
SELECT count(*) AS archived FROM pgjobq.job_archive;

-- The general paths, planned in this session on the empty table: a keyed job, a parent with a
-- child, a cancelled queued job. Then 3000 keyed jobs wait in another queue, and the same paths
-- run again: they must look jobs up by their ids and keys, not read whole indexes (the index
-- entries they read, expect a handful, not thousands).
SELECT pgjobq.create_queue('q_fill');
\getenv abs_srcdir PG_ABS_SRCDIR
\set round_psql :abs_srcdir /sql/include/plans_round.psql
\i :round_psql
SELECT count(*) AS filled
  FROM pgjobq.send_batch('q_fill', array_fill('{}'::jsonb, ARRAY[3000]),
                         ordering_keys => ARRAY(SELECT 'k' || i FROM generate_series(1, 3000) AS i));
SELECT pg_stat_force_next_flush();
SELECT sum(idx_tup_read) AS read_before FROM pg_stat_user_indexes
 WHERE relid = 'pgjobq.job'::regclass \gset
\i :round_psql
SELECT pg_stat_force_next_flush();
SELECT sum(idx_tup_read) - :read_before < 100 AS few_entries_read FROM pg_stat_user_indexes
 WHERE relid = 'pgjobq.job'::regclass;
\c :regress_db
DROP DATABASE pgjobq_plans;
