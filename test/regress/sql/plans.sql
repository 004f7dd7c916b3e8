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
\c :regress_db
DROP DATABASE pgjobq_plans;
