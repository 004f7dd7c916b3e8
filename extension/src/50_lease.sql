------------------------------------------------------------------------------------------------
-- Public API: jobs (receive and leases)
------------------------------------------------------------------------------------------------

-- receive leases up to max_jobs available jobs of queue, highest priority first, then oldest,
-- skipping jobs other receivers hold (FOR UPDATE SKIP LOCKED). Each delivery counts as an
-- attempt and carries a fresh lease_token that ack, nack and extend must present. A lease lasts
-- lease_duration (default: the queue's); when it expires the job is delivered again. filter, a
-- JSON object, keeps jobs whose attributes contain it. A receive that finds nothing marks the
-- queue as waited on, so the next send wakes the receivers listening on pgjobq_wake. A paused
-- queue delivers nothing.
CREATE FUNCTION pgjobq.receive(
    queue          text,
    max_jobs       integer  DEFAULT 1,
    lease_duration interval DEFAULT NULL,
    filter         jsonb    DEFAULT NULL
) RETURNS TABLE (id bigint, lease_token uuid, payload jsonb, attributes jsonb, attempt integer,
                 priority integer, created_at timestamptz, lease_expires_at timestamptz)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    q       pgjobq.queue;
    t       timestamptz;
    expires timestamptz;
    picked  bigint[];
    n       bigint;
    any_due     boolean;
    any_expired boolean;
BEGIN
    -- As in send: _queue raises the error when the read finds no queue.
    SELECT * INTO q FROM pgjobq.queue AS qq WHERE qq.name = receive.queue;
    IF NOT FOUND THEN
        q := pgjobq._queue(receive.queue);
    END IF;
    t := pgjobq.now();  -- after the queue, as before: its errors come first
    IF receive.max_jobs IS NULL OR receive.max_jobs < 1 THEN
        RAISE EXCEPTION 'max_jobs must be at least 1, got %', coalesce(receive.max_jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF receive.max_jobs > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per receive, got %', receive.max_jobs
            USING ERRCODE = '54000';
    END IF;
    IF receive.lease_duration IS NOT NULL THEN
        PERFORM pgjobq._check_lease(receive.lease_duration);
    END IF;
    IF jsonb_typeof(receive.filter) IS DISTINCT FROM 'object' AND receive.filter IS NOT NULL THEN
        RAISE EXCEPTION 'filter must be a JSON object, got %', jsonb_typeof(receive.filter)
            USING ERRCODE = '22023', HINT = 'Example: ''{"tenant": "acme"}''.';
    END IF;
    expires := t + coalesce(receive.lease_duration, q.lease_duration);
    IF q.paused THEN
        RETURN;  -- resume_queue wakes the receivers
    END IF;

    -- Is anything due or expired? One statement of two index probes and no lock; _promote
    -- runs only when there is work for it.
    SELECT EXISTS (SELECT FROM pgjobq.job AS d
                    WHERE d.queue_id = q.queue_id AND d.state IN ('scheduled', 'retrying')
                      AND d.run_at <= t),
           EXISTS (SELECT FROM pgjobq.job AS d
                    WHERE d.queue_id = q.queue_id AND d.state = 'leased' AND d.lease_expires_at <= t)
      INTO any_due, any_expired;
    IF any_due OR any_expired THEN
        PERFORM pgjobq._promote(q, t, any_due, any_expired);
    END IF;

    -- Pick, then lease. The filtered pick is its own statement so its plan can use the GIN index.
    -- NO KEY UPDATE, the lock the lease's UPDATE needs, does not clash with the KEY SHARE lock a
    -- sender of a child job holds on its parent, so such a parent is not skipped.
    IF receive.filter IS NULL OR receive.filter = '{}' THEN
        picked := ARRAY(SELECT j.id FROM pgjobq.job AS j
                         WHERE j.queue_id = q.queue_id AND j.state = 'available'
                         ORDER BY j.priority DESC, j.id
                         LIMIT receive.max_jobs
                           FOR NO KEY UPDATE SKIP LOCKED);
    ELSE
        picked := ARRAY(SELECT j.id FROM pgjobq.job AS j
                         WHERE j.queue_id = q.queue_id AND j.state = 'available'
                           AND j.attributes <> '{}' AND j.attributes @> receive.filter
                         ORDER BY j.priority DESC, j.id
                         LIMIT receive.max_jobs
                           FOR NO KEY UPDATE SKIP LOCKED);
    END IF;

    RETURN QUERY
    WITH leased AS (
        UPDATE pgjobq.job AS j
           SET state = 'leased', lease_token = gen_random_uuid(), attempts = j.attempts + 1,
               leased_at = t, lease_expires_at = expires
         WHERE j.id = ANY (picked)
        RETURNING j.id, j.lease_token, j.payload, j.attributes, j.attempts, j.priority,
                  j.created_at, j.lease_expires_at
    )
    SELECT l.id, l.lease_token, l.payload, l.attributes, l.attempts, l.priority::integer,
           l.created_at, l.lease_expires_at
      FROM leased AS l ORDER BY l.priority DESC, l.id;

    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        UPDATE pgjobq.queue AS qq SET receivers_waiting = true
         WHERE qq.queue_id = (SELECT w.queue_id FROM pgjobq.queue AS w
                               WHERE w.queue_id = q.queue_id AND NOT w.receivers_waiting
                                 FOR UPDATE SKIP LOCKED);
    END IF;
END
$$;

-- next_due returns how long until something of queue comes due on its own: a delayed or
-- retrying job becoming available, or a lease expiring. NULL when nothing is pending or the
-- queue is paused. An idle receiver sleeps that long at most: no notification announces those
-- moments.
CREATE FUNCTION pgjobq.next_due(queue text) RETURNS interval
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q   pgjobq.queue := pgjobq._queue(next_due.queue);
    due timestamptz;
BEGIN
    IF q.paused THEN
        RETURN NULL;
    END IF;
    due := least((SELECT min(j.run_at) FROM pgjobq.job AS j
                   WHERE j.queue_id = q.queue_id AND j.state IN ('scheduled', 'retrying')),
                 (SELECT min(j.lease_expires_at) FROM pgjobq.job AS j
                   WHERE j.queue_id = q.queue_id AND j.state = 'leased'));
    RETURN CASE WHEN due IS NOT NULL THEN greatest(interval '0', due - pgjobq.now()) END;
END
$$;

-- ack completes a leased job, with an optional result kept in the archive, and returns the state
-- it ended in: completed, or cancelled if pgjobq.cancel was called while it ran (the result is
-- kept all the same). It returns NULL, changing nothing, if lease_token is not the job's current
-- lease (the lease expired and the job was delivered again, or the job is finished).
CREATE FUNCTION pgjobq.ack(id bigint, lease_token uuid, result jsonb DEFAULT NULL)
RETURNS pgjobq.job_state
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t      timestamptz := pgjobq.now();
    final   pgjobq.job_state;
    qid     integer;
    notify  boolean;
    bounded boolean;
BEGIN
    IF ack.id IS NULL OR ack.lease_token IS NULL THEN
        PERFORM pgjobq._check_leases(ARRAY[ack.id], ARRAY[ack.lease_token]);  -- raises 22004
    END IF;
    -- The short way, one statement, for a job without an ordering key (the one-job case of
    -- _archive). A keyed job needs its key's lock before its row's, and a stale token finds
    -- nothing: both go the general way.
    WITH gone AS (
        DELETE FROM pgjobq.job AS j
         WHERE j.id = ack.id AND j.lease_token = ack.lease_token AND j.ordering_key IS NULL
        RETURNING j.*, CASE WHEN j.cancel_requested_at IS NULL THEN 'completed'
                            ELSE 'cancelled' END::pgjobq.job_state AS final,
                  (SELECT q.max_size IS NOT NULL FROM pgjobq.queue AS q
                    WHERE q.queue_id = j.queue_id) AS bounded
    ), archived AS (
        INSERT INTO pgjobq.job_archive (id, created_at, finished_at, queue_id, attempts, priority,
                                        state, payload, attributes, result, errors)
        SELECT g.id, g.created_at, t, g.queue_id, g.attempts, g.priority, g.final,
               g.payload, g.attributes, ack.result,
               pgjobq._final_errors(g.errors, g.attempts, g.final, NULL, g.cancel_reason, t)
          FROM gone AS g
    )
    SELECT g.final, g.queue_id, g.notify_completion, g.bounded INTO final, qid, notify, bounded
      FROM gone AS g;
    IF final IS NULL THEN
        RETURN (SELECT c.state FROM pgjobq._complete(ARRAY[ack.id], ARRAY[ack.lease_token],
                                                     ARRAY[ack.result]) AS c);
    END IF;
    -- What _finished would do, only if there is something to do. Children are looked for in a
    -- statement of their own: its snapshot sees a child whose sender made the delete wait.
    IF notify OR bounded
       OR EXISTS (SELECT FROM pgjobq.job_dependency AS d WHERE d.parent_id = ack.id) THEN
        PERFORM pgjobq._finished(ARRAY[ack.id], ARRAY[final], ARRAY[notify], ARRAY[qid],
                                 ARRAY[NULL::text], t);
    END IF;
    RETURN final;
END
$$;

-- ack_many acks many leased jobs in one statement and returns each job it finished with its
-- state (completed or cancelled); a job whose token is stale is left out. results, when given,
-- pairs with ids.
CREATE FUNCTION pgjobq.ack_many(ids bigint[], lease_tokens uuid[], results jsonb[] DEFAULT NULL)
RETURNS TABLE (id bigint, state pgjobq.job_state)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
BEGIN
    PERFORM pgjobq._check_leases(ack_many.ids, ack_many.lease_tokens);
    IF ack_many.results IS NOT NULL AND cardinality(ack_many.results) <> cardinality(ack_many.ids) THEN
        RAISE EXCEPTION 'results must have one element per id, got % for % ids',
            cardinality(ack_many.results), cardinality(ack_many.ids) USING ERRCODE = '22023';
    END IF;
    RETURN QUERY SELECT c.id, c.state
                   FROM pgjobq._complete(ack_many.ids, ack_many.lease_tokens, ack_many.results) AS c;
END
$$;

-- nack reports that a leased job failed, keeping error in its attempt history, and returns
-- what became of it: retrying (after retry_in, or by default after the queue's exponential
-- backoff), dead (that was its last attempt: it moved to the dead letter table), or cancelled
-- (pgjobq.cancel was called while it ran: it is not retried). Returns NULL, changing nothing,
-- for a stale lease token.
CREATE FUNCTION pgjobq.nack(id bigint, lease_token uuid, error text DEFAULT NULL,
                            retry_in interval DEFAULT NULL)
RETURNS pgjobq.job_state
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    t         timestamptz := pgjobq.now();
    q         pgjobq.queue;
    attempt   integer;
    qid       integer;
    key       text;
    cancelled boolean;
    due       timestamptz;
BEGIN
    PERFORM pgjobq._check_leases(ARRAY[nack.id], ARRAY[nack.lease_token]);
    IF nack.retry_in < interval '0' THEN
        RAISE EXCEPTION 'retry_in must not be negative, got %', nack.retry_in USING ERRCODE = '22023';
    END IF;
    -- The key's lock before the row's (see _lock_keys); a job's key never changes.
    SELECT j.queue_id, j.ordering_key INTO qid, key FROM pgjobq.job AS j
     WHERE j.id = nack.id AND j.lease_token = nack.lease_token;
    IF key IS NOT NULL THEN
        PERFORM pgjobq._lock_keys(ARRAY[qid], ARRAY[key]);
    END IF;
    SELECT j.attempts, j.queue_id, j.cancel_requested_at IS NOT NULL INTO attempt, qid, cancelled
      FROM pgjobq.job AS j
     WHERE j.id = nack.id AND j.lease_token = nack.lease_token
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF cancelled THEN
        PERFORM pgjobq._archive(ARRAY[nack.id], NULL, NULL, coalesce(nack.error, ''), t);
        RETURN 'cancelled'::pgjobq.job_state;
    END IF;
    SELECT * INTO q FROM pgjobq.queue AS qq WHERE qq.queue_id = qid;
    IF attempt >= q.max_attempts THEN
        PERFORM pgjobq._bury(ARRAY[nack.id], 'failed', nack.error, t);
        RETURN 'dead'::pgjobq.job_state;
    END IF;
    UPDATE pgjobq.job AS j
       SET state = 'retrying',
           run_at = t + coalesce(nack.retry_in, pgjobq._backoff(q, attempt)),
           lease_token = NULL, leased_at = NULL, lease_expires_at = NULL,
           errors = j.errors || pgjobq._attempt_entry(attempt, 'failed', nack.error, t)
     WHERE j.id = nack.id
    RETURNING j.run_at INTO due;
    IF due <= t THEN
        PERFORM pgjobq._wake(q);  -- due at once: wake a waiting receiver like a send
    END IF;
    RETURN 'retrying'::pgjobq.job_state;
END
$$;

-- extend_many extends the leases of many jobs to now + lease_duration (default: each queue's)
-- and returns the jobs still held with their new expiry, and whether a cancel was requested
-- (the heartbeat is how a worker that missed NOTIFY pgjobq_cancel learns it); stale tokens are
-- left out.
CREATE FUNCTION pgjobq.extend_many(ids bigint[], lease_tokens uuid[],
                                   lease_duration interval DEFAULT NULL)
RETURNS TABLE (id bigint, lease_expires_at timestamptz, cancel_requested boolean)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    t timestamptz := pgjobq.now();
BEGIN
    PERFORM pgjobq._check_leases(extend_many.ids, extend_many.lease_tokens);
    PERFORM pgjobq._check_lease(extend_many.lease_duration);
    RETURN QUERY
    UPDATE pgjobq.job AS j
       SET lease_expires_at = t + coalesce(extend_many.lease_duration, q.lease_duration)
      FROM unnest(extend_many.ids, extend_many.lease_tokens) AS u(id, token), pgjobq.queue AS q
     WHERE j.id = ANY (extend_many.ids)  -- an index condition, whatever join the planner picks
       AND j.id = u.id AND j.lease_token = u.token AND q.queue_id = j.queue_id
    RETURNING j.id, j.lease_expires_at, j.cancel_requested_at IS NOT NULL;
END
$$;

-- extend extends one lease (a heartbeat) and returns the new expiry, or NULL, changing nothing,
-- if lease_token is stale.
CREATE FUNCTION pgjobq.extend(id bigint, lease_token uuid, lease_duration interval DEFAULT NULL)
RETURNS timestamptz
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT e.lease_expires_at
      FROM pgjobq.extend_many(ARRAY[id], ARRAY[lease_token], lease_duration) AS e;
END;

-- release gives a leased job back without charging the attempt: it is available again at once,
-- as if never delivered (a worker shutting down before it started the job); if a cancel was
-- requested while it was held, it is cancelled instead. Returns false, changing nothing, for a
-- stale lease token.
CREATE FUNCTION pgjobq.release(id bigint, lease_token uuid) RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q         pgjobq.queue;
    qid       integer;
    key       text;
    cancelled boolean;
BEGIN
    PERFORM pgjobq._check_leases(ARRAY[release.id], ARRAY[release.lease_token]);
    SELECT j.queue_id, j.ordering_key INTO qid, key FROM pgjobq.job AS j
     WHERE j.id = release.id AND j.lease_token = release.lease_token;
    IF key IS NOT NULL THEN
        PERFORM pgjobq._lock_keys(ARRAY[qid], ARRAY[key]);
    END IF;
    SELECT j.cancel_requested_at IS NOT NULL INTO cancelled FROM pgjobq.job AS j
     WHERE j.id = release.id AND j.lease_token = release.lease_token
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF cancelled THEN
        PERFORM pgjobq._archive(ARRAY[release.id], NULL, NULL, NULL, pgjobq.now());
        RETURN true;
    END IF;
    UPDATE pgjobq.job AS j
       SET state = 'available', attempts = j.attempts - 1,
           lease_token = NULL, leased_at = NULL, lease_expires_at = NULL
     WHERE j.id = release.id;
    SELECT qq.* INTO q FROM pgjobq.queue AS qq WHERE qq.queue_id = qid;
    PERFORM pgjobq._wake(q);
    RETURN true;
END
$$;

-- get_job returns the state of a job wherever it is: live, finished or dead. A delayed or

COMMENT ON FUNCTION pgjobq.receive(text, integer, interval, jsonb) IS 'Lease up to max_jobs available jobs (priority, then age; SKIP LOCKED)';
COMMENT ON FUNCTION pgjobq.next_due(text) IS 'How long until a delayed or retrying job comes due or a lease expires; NULL if never';
COMMENT ON FUNCTION pgjobq.ack(bigint, uuid, jsonb) IS 'Complete a leased job; returns completed or cancelled, NULL if the lease token is stale';
COMMENT ON FUNCTION pgjobq.ack_many(bigint[], uuid[], jsonb[]) IS 'Complete many leased jobs; returns each job finished with its state';
COMMENT ON FUNCTION pgjobq.nack(bigint, uuid, text, interval) IS 'Fail a leased job: returns retrying, dead or cancelled; NULL if the lease token is stale';
COMMENT ON FUNCTION pgjobq.extend(bigint, uuid, interval) IS 'Extend a lease (heartbeat); returns the new expiry, NULL if the lease token is stale';
COMMENT ON FUNCTION pgjobq.extend_many(bigint[], uuid[], interval) IS 'Extend many leases; returns the jobs still held and whether a cancel was requested';
COMMENT ON FUNCTION pgjobq.release(bigint, uuid) IS 'Give a leased job back without charging the attempt (cancelled if a cancel was requested); false if the lease token is stale';
