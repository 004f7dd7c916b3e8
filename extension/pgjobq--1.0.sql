-- placeholder while the core is written
\echo Use "CREATE EXTENSION pgjobq" to load this file. \quit
CREATE FUNCTION pgjobq.now() RETURNS timestamptz LANGUAGE sql STABLE
AS $$ SELECT coalesce(nullif(current_setting('pgjobq.now', true), '')::timestamptz, transaction_timestamp()) $$;
