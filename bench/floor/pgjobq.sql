-- pgjobq's SQL path: send, receive, ack. Three transactions per job.
SELECT pgjobq.send('floor', '{"n": 1}');
SELECT count(*) AS n, max(id) AS id, max(lease_token::text) AS token
  FROM pgjobq.receive('floor') \gset
\if :n > 0
SELECT pgjobq.ack(:id, :token::uuid);
\endif
