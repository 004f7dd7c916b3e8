-- Functions are SECURITY INVOKER: a role uses pgjobq with the table privileges the README grants,
-- and without them gets a permission error, not a silent no-op.
\set VERBOSITY terse
SET pgjobq.now = '2030-01-01 00:00:00+00';
SELECT pgjobq.create_queue('q_priv');
CREATE ROLE pgjobq_regress_app;
SET ROLE pgjobq_regress_app;
SELECT pgjobq.send('q_priv', '{}');
RESET ROLE;
-- The grants of the README's "Privileges" section.
GRANT USAGE ON SCHEMA pgjobq TO pgjobq_regress_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA pgjobq TO pgjobq_regress_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA pgjobq TO pgjobq_regress_app;
SET ROLE pgjobq_regress_app;
SELECT pgjobq.send('q_priv', '{"n": 1}', notify_completion => true) > 0 AS sent;
SELECT pgjobq.ack(id, lease_token, '{"ok": true}') FROM pgjobq.receive('q_priv');
SELECT count(*) FROM pgjobq.receive('q_priv');
RESET ROLE;
SELECT pgjobq.drop_queue('q_priv', force => true);
REVOKE ALL ON ALL TABLES IN SCHEMA pgjobq FROM pgjobq_regress_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA pgjobq FROM pgjobq_regress_app;
REVOKE ALL ON SCHEMA pgjobq FROM pgjobq_regress_app;
DROP ROLE pgjobq_regress_app;
