-- The least a queue with leases can do: send, lease (a token, so a late finisher cannot finish
-- a job delivered again), finish. Three transactions per job, like pgjobq.
INSERT INTO leased_job (payload) VALUES ('{"n": 1}');
WITH l AS (
    UPDATE leased_job SET token = gen_random_uuid()
     WHERE id = (SELECT id FROM leased_job WHERE token IS NULL ORDER BY id LIMIT 1
                    FOR UPDATE SKIP LOCKED)
    RETURNING id, token)
SELECT count(*) AS n, max(id) AS id, max(token::text) AS token FROM l \gset
\if :n > 0
DELETE FROM leased_job WHERE id = :id AND token = :token::uuid;
\endif
