------------------------------------------------------------------------------------------------
-- Public API: cancellation
------------------------------------------------------------------------------------------------

-- _cancel cancels jobs ids and returns each id with what happened to it:
--   cancelled           it was blocked, scheduled, available or retrying: it is cancelled and
--                       will never be delivered (its children are cancelled, or run, as they asked)
--   cancel_requested    it is leased: its holder is told (NOTIFY pgjobq_cancel with the id, and
--                       extend_many's cancel_requested); its ack, nack or release, or its lease
--                       expiring, ends it as cancelled; it is never delivered again
--   already_completed, already_cancelled, already_dead
--                       it had finished: nothing changed
--   not_found           no such job (or deleted after its queue's retention)
CREATE FUNCTION pgjobq._cancel(ids bigint[], reason text)
RETURNS TABLE (id bigint, outcome text)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    t         timestamptz := pgjobq.now();
    queue_ids integer[];
    keys      text[];
    queued    bigint[];
    leased    bigint[];
    cancelled bigint[];
    why       text := coalesce(reason, 'cancelled');
BEGIN
    IF ids IS NULL OR array_position(ids, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'job ids must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF cardinality(ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per call, got %', cardinality(ids) USING ERRCODE = '54000';
    END IF;
    -- Keys before rows (see _lock_keys); a job's key never changes.
    -- The key test is a FILTER, not a WHERE: the lookup stays on the primary key.
    SELECT array_agg(j.queue_id) FILTER (WHERE j.ordering_key IS NOT NULL),
           array_agg(j.ordering_key) FILTER (WHERE j.ordering_key IS NOT NULL)
      INTO queue_ids, keys
      FROM pgjobq.job AS j WHERE j.id = ANY (ids);
    IF keys IS NOT NULL THEN
        PERFORM pgjobq._lock_keys(queue_ids, keys);
    END IF;
    -- Wait for the row (no SKIP LOCKED): a receive leasing it right now commits first, and the
    -- locked row is its newest version, so a job leased meanwhile is seen as leased.
    SELECT array_agg(l.id) FILTER (WHERE l.state <> 'leased'),
           array_agg(l.id) FILTER (WHERE l.state = 'leased')
      INTO queued, leased
      FROM (SELECT j.id, j.state FROM pgjobq.job AS j WHERE j.id = ANY (ids)
             ORDER BY j.id FOR UPDATE) AS l;

    cancelled := ARRAY(SELECT pgjobq._cancel_rows(queued,
                                                  array_fill(why, ARRAY[coalesce(cardinality(queued), 0)]), t));
    PERFORM pgjobq._settle(cancelled, 'was cancelled', t);

    UPDATE pgjobq.job AS j
       SET cancel_requested_at = coalesce(j.cancel_requested_at, t),
           cancel_reason = coalesce(j.cancel_reason, why)
     WHERE j.id = ANY (leased);
    PERFORM pg_notify('pgjobq_cancel', l::text) FROM unnest(leased) AS l;

    -- Finished jobs are read after the row locks, with a new snapshot: a job acked while this
    -- waited shows as completed.
    RETURN QUERY
    SELECT u.id,
           CASE WHEN u.id = ANY (cancelled) THEN 'cancelled'
                WHEN u.id = ANY (leased) THEN 'cancel_requested'
                WHEN a.state IS NOT NULL THEN 'already_' || a.state::text
                WHEN d.id IS NOT NULL THEN 'already_dead'
                ELSE 'not_found' END
      FROM (SELECT DISTINCT x AS id FROM unnest(ids) AS x) AS u
      LEFT JOIN pgjobq.job_archive AS a ON a.id = u.id
      LEFT JOIN pgjobq.dead_letter AS d ON d.id = u.id
     ORDER BY u.id;
END
$$;

-- cancel cancels one job and returns what happened (see _cancel): cancelled, cancel_requested,
-- or already_completed / already_cancelled / already_dead for a finished job, which is left as
-- it was. reason is kept in the job's history. Raises PJ004 for an unknown id.
CREATE FUNCTION pgjobq.cancel(job_id bigint, reason text DEFAULT NULL) RETURNS text
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    result text;
BEGIN
    IF job_id IS NULL THEN
        RAISE EXCEPTION 'job_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT c.outcome INTO result FROM pgjobq._cancel(ARRAY[job_id], reason) AS c;
    IF result = 'not_found' THEN
        RAISE EXCEPTION 'job % does not exist', job_id USING ERRCODE = 'PJ004',
            HINT = 'Finished jobs are kept for their queue''s retention only.';
    END IF;
    RETURN result;
END
$$;

-- cancel_many cancels jobs by id and returns each with what happened (see _cancel); an unknown
-- id is reported as not_found, the others are still cancelled.
CREATE FUNCTION pgjobq.cancel_many(job_ids bigint[], reason text DEFAULT NULL)
RETURNS TABLE (id bigint, outcome text)
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT c.id, c.outcome FROM pgjobq._cancel(job_ids, reason) AS c;
END;

-- cancel_matching cancels the live jobs of queue whose attributes contain filter (a JSON
-- object; '{}' matches every live job) and returns each with what happened. At most 10000 per
-- call: call again while it returns rows.
CREATE FUNCTION pgjobq.cancel_matching(queue text, filter jsonb, reason text DEFAULT NULL)
RETURNS TABLE (id bigint, outcome text)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    q pgjobq.queue := pgjobq._queue(cancel_matching.queue);
BEGIN
    IF jsonb_typeof(cancel_matching.filter) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'filter must be a JSON object, got %',
            coalesce(jsonb_typeof(cancel_matching.filter), 'NULL') USING ERRCODE = '22023',
            HINT = 'Example: ''{"tenant": "acme"}''; ''{}'' matches every live job of the queue.';
    END IF;
    RETURN QUERY
    SELECT c.id, c.outcome
      FROM pgjobq._cancel(ARRAY(SELECT j.id FROM pgjobq.job AS j
                                 WHERE j.queue_id = q.queue_id
                                   AND j.attributes @> cancel_matching.filter
                                 ORDER BY j.id LIMIT 10000), cancel_matching.reason) AS c;
END
$$;

COMMENT ON FUNCTION pgjobq.cancel(bigint, text) IS 'Cancel a job: cancelled, cancel_requested (leased), or already_<state> if finished';
COMMENT ON FUNCTION pgjobq.cancel_many(bigint[], text) IS 'Cancel jobs by id; returns what happened to each';
COMMENT ON FUNCTION pgjobq.cancel_matching(text, jsonb, text) IS 'Cancel the live jobs of a queue whose attributes contain filter';
