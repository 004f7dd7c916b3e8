-- pgjobq 1.0: a durable job queue inside PostgreSQL.
--
-- This script is what CREATE EXTENSION runs and what a reviewer reads. Sections, in order:
--   types; tables and indexes; internal helpers; public API (README order); comments;
--   pg_extension_config_dump.
--
-- Conventions: every object is schema-qualified; functions are SECURITY INVOKER; time comes only
-- from pgjobq.now(); expected outcomes (a stale lease) are return values, misuse raises with an
-- SQLSTATE, a DETAIL or HINT where it helps. Our own SQLSTATEs (class PJ):
--   PJ001 queue does not exist      PJ002 queue already exists
--   PJ003 queue is full (max_size)  PJ004 job does not exist
--   PJ005 queue still has jobs (drop without force)
--   PJ006 schedule (recurring job) does not exist or belongs to another role
-- Standard ones: 22004 NULL where a value is required, 22023 invalid parameter value,
-- 54000 value or batch too large.

\echo Use "CREATE EXTENSION pgjobq" to load this file. \quit
