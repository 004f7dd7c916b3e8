-- Runs exactly the SQL quick start of README.md (scripts/test.sh checks that the block below is
-- the README's), in a fresh copy of the extension so job ids start at 1 as the README shows.
DROP EXTENSION pgjobq;
CREATE EXTENSION pgjobq;
-- quick-start: begin
SELECT pgjobq.create_queue('emails');
SELECT pgjobq.send('emails', '{"to": "ada@example.com"}') AS id;
-- A worker leases the job; the lease token fences its later ack, nack or extend.
SELECT id, lease_token, payload FROM pgjobq.receive('emails') \gset
\echo received job :id with payload :payload
SELECT pgjobq.ack(:id, :'lease_token', result => '{"sent": true}');
SELECT state, attempts, result FROM pgjobq.get_job(:id);
-- quick-start: end
SELECT pgjobq.drop_queue('emails', force => true);
