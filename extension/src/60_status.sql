------------------------------------------------------------------------------------------------
-- Public API: jobs (status and space)
------------------------------------------------------------------------------------------------

-- retrying job whose time has come shows as available. Raises PJ004 for an unknown id (or one
-- deleted after its queue's retention).
CREATE FUNCTION pgjobq.get_job(job_id bigint)
RETURNS TABLE (id bigint, queue text, state pgjobq.job_state, priority integer, attempts integer,
               max_attempts integer, payload jsonb, attributes jsonb, result jsonb, errors jsonb,
               created_at timestamptz, run_at timestamptz, lease_expires_at timestamptz,
               finished_at timestamptz, cancel_requested boolean)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
BEGIN
    IF get_job.job_id IS NULL THEN
        RAISE EXCEPTION 'job_id must not be NULL' USING ERRCODE = '22004';
    END IF;
    RETURN QUERY
    SELECT j.id, q.name,
           CASE WHEN j.state IN ('scheduled', 'retrying') AND j.run_at <= pgjobq.now()
                THEN 'available'::pgjobq.job_state ELSE j.state END,
           j.priority::integer, j.attempts, q.max_attempts, j.payload, j.attributes, NULL::jsonb,
           j.errors, j.created_at, j.run_at, j.lease_expires_at, NULL::timestamptz,
           j.cancel_requested_at IS NOT NULL
      FROM pgjobq.job AS j JOIN pgjobq.queue AS q ON q.queue_id = j.queue_id
     WHERE j.id = get_job.job_id
    UNION ALL
    SELECT a.id, q.name, a.state, a.priority::integer, a.attempts, q.max_attempts, a.payload,
           a.attributes, a.result, a.errors, a.created_at, NULL, NULL, a.finished_at, false
      FROM pgjobq.job_archive AS a JOIN pgjobq.queue AS q ON q.queue_id = a.queue_id
     WHERE a.id = get_job.job_id
    UNION ALL
    SELECT d.id, q.name, 'dead', d.priority::integer, d.attempts, q.max_attempts, d.payload,
           d.attributes, NULL, d.errors, d.created_at, NULL, NULL, d.died_at, false
      FROM pgjobq.dead_letter AS d JOIN pgjobq.queue AS q ON q.queue_id = d.queue_id
     WHERE d.id = get_job.job_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'job % does not exist', get_job.job_id USING ERRCODE = 'PJ004',
            HINT = 'Finished jobs are kept for their queue''s retention only.';
    END IF;
END
$$;

-- wait_for_space returns how many jobs queue can take now (NULL if it is unbounded). When that
-- is fewer than jobs (a send's size) it also marks the queue as awaited, so the next job to
-- finish there sends NOTIFY pgjobq_space with the queue name: LISTEN first, call this, and wait
-- if it says too few. A send larger than max_size could never fit: 54000.
CREATE FUNCTION pgjobq.wait_for_space(queue text, jobs bigint DEFAULT 1) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q    pgjobq.queue := pgjobq._queue(wait_for_space.queue);
    free bigint;
BEGIN
    IF wait_for_space.jobs IS NULL OR wait_for_space.jobs < 1 THEN
        RAISE EXCEPTION 'jobs must be at least 1, got %', coalesce(wait_for_space.jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF q.max_size IS NULL THEN
        RETURN NULL;
    END IF;
    IF wait_for_space.jobs > q.max_size THEN
        RAISE EXCEPTION 'a send of % jobs can never fit queue "%"', wait_for_space.jobs, q.name
            USING ERRCODE = '54000', DETAIL = format('max_size is %s.', q.max_size),
                  HINT = 'Split the batch, or raise max_size with pgjobq.alter_queue().';
    END IF;
    SELECT greatest(q.max_size - (max(s.sent) - sum(s.done)), 0) INTO free
      FROM pgjobq.queue_size AS s WHERE s.queue_id = q.queue_id;
    IF free < wait_for_space.jobs THEN
        UPDATE pgjobq.queue AS qq SET senders_waiting = true
         WHERE qq.queue_id = (SELECT w.queue_id FROM pgjobq.queue AS w
                               WHERE w.queue_id = q.queue_id AND NOT w.senders_waiting
                                 FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN free;
END
$$;

COMMENT ON FUNCTION pgjobq.get_job(bigint) IS 'State, attempts, errors and result of a job';
COMMENT ON FUNCTION pgjobq.wait_for_space(text, bigint) IS 'Free places of a bounded queue; when full, the next finish sends NOTIFY pgjobq_space';
