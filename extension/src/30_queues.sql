------------------------------------------------------------------------------------------------
-- Public API: queues
------------------------------------------------------------------------------------------------

-- create_queue creates a queue with its settings. Raises PJ002 if it exists, 22023 on a bad name
-- or setting.
CREATE FUNCTION pgjobq.create_queue(
    queue                 text,
    lease_duration        interval DEFAULT '30 seconds',
    max_attempts          integer  DEFAULT 5,
    backoff_base          interval DEFAULT '1 second',
    backoff_max           interval DEFAULT '1 hour',
    backoff_jitter        float8   DEFAULT 0.1,
    retention             interval DEFAULT '7 days',
    dead_letter_retention interval DEFAULT NULL,
    max_size              bigint   DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue;
BEGIN
    q := ROW(NULL, create_queue.queue, create_queue.lease_duration, create_queue.max_attempts,
             create_queue.backoff_base, create_queue.backoff_max, create_queue.backoff_jitter,
             create_queue.retention, create_queue.dead_letter_retention, create_queue.max_size,
             false, false, pgjobq.now(), false);
    PERFORM pgjobq._check_queue(q);
    INSERT INTO pgjobq.queue (name, lease_duration, max_attempts, backoff_base, backoff_max,
                              backoff_jitter, retention, dead_letter_retention, max_size, created_at)
    VALUES (q.name, q.lease_duration, q.max_attempts, q.backoff_base, q.backoff_max,
            q.backoff_jitter, q.retention, q.dead_letter_retention, q.max_size, q.created_at)
    ON CONFLICT (name) DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" already exists', q.name USING ERRCODE = 'PJ002',
            HINT = 'Change its settings with pgjobq.alter_queue().';
    END IF;
    INSERT INTO pgjobq.queue_size (queue_id, shard)
    SELECT qq.queue_id, g FROM pgjobq.queue AS qq, generate_series(0, 15) AS g WHERE qq.name = q.name;
END
$$;

-- alter_queue changes the settings of a queue; NULL leaves a setting unchanged. New settings
-- apply to the next decision about each job (a lease taken, a failure, a purge).
-- dead_letter_retention and max_size cannot be set back to NULL here; reset_* would be needed.
CREATE FUNCTION pgjobq.alter_queue(
    queue                 text,
    lease_duration        interval DEFAULT NULL,
    max_attempts          integer  DEFAULT NULL,
    backoff_base          interval DEFAULT NULL,
    backoff_max           interval DEFAULT NULL,
    backoff_jitter        float8   DEFAULT NULL,
    retention             interval DEFAULT NULL,
    dead_letter_retention interval DEFAULT NULL,
    max_size              bigint   DEFAULT NULL
) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(alter_queue.queue);
BEGIN
    q.lease_duration        := coalesce(alter_queue.lease_duration, q.lease_duration);
    q.max_attempts          := coalesce(alter_queue.max_attempts, q.max_attempts);
    q.backoff_base          := coalesce(alter_queue.backoff_base, q.backoff_base);
    q.backoff_max           := coalesce(alter_queue.backoff_max, q.backoff_max);
    q.backoff_jitter        := coalesce(alter_queue.backoff_jitter, q.backoff_jitter);
    q.retention             := coalesce(alter_queue.retention, q.retention);
    q.dead_letter_retention := coalesce(alter_queue.dead_letter_retention, q.dead_letter_retention);
    q.max_size              := coalesce(alter_queue.max_size, q.max_size);
    PERFORM pgjobq._check_queue(q);
    UPDATE pgjobq.queue AS qq
       SET lease_duration = q.lease_duration, max_attempts = q.max_attempts,
           backoff_base = q.backoff_base, backoff_max = q.backoff_max,
           backoff_jitter = q.backoff_jitter, retention = q.retention,
           dead_letter_retention = q.dead_letter_retention, max_size = q.max_size
     WHERE qq.queue_id = q.queue_id;
    IF alter_queue.max_size IS NOT NULL THEN
        PERFORM pgjobq._recount(q.queue_id);
    END IF;
END
$$;

-- drop_queue drops a queue with its finished jobs. If it still has live or dead-lettered jobs it
-- raises PJ005, unless force is true, which deletes them too (jobs of other queues that depend
-- on them are then treated as if their parents were cancelled).
CREATE FUNCTION pgjobq.drop_queue(queue text, force boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q       pgjobq.queue := pgjobq._queue(drop_queue.queue);
    dropped bigint[];
BEGIN
    -- Wait for senders in flight; later ones find the queue gone (see send_batch).
    PERFORM pg_advisory_xact_lock(pgjobq._lock_key(), q.queue_id);
    IF NOT coalesce(drop_queue.force, false)
       AND (EXISTS (SELECT 1 FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id)
            OR EXISTS (SELECT 1 FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id)) THEN
        RAISE EXCEPTION 'queue "%" still has jobs', q.name USING ERRCODE = 'PJ005',
            DETAIL = 'Live or dead-lettered jobs would be lost.',
            HINT = 'Process or purge them first, or call pgjobq.drop_queue(queue, force => true).';
    END IF;
    -- Jobs of other queues that depend on the dropped jobs are told they were cancelled.
    WITH gone AS (
        DELETE FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id RETURNING j.id
    )
    SELECT array_agg(g.id) INTO dropped FROM gone AS g;
    DELETE FROM pgjobq.job_dependency AS d WHERE d.child_id = ANY (dropped);
    PERFORM pgjobq._settle(dropped, 'was cancelled', pgjobq.now());
    DELETE FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id;
    DELETE FROM pgjobq.job_archive AS a WHERE a.queue_id = q.queue_id;
    DELETE FROM pgjobq.queue_size AS z WHERE z.queue_id = q.queue_id;
    DELETE FROM pgjobq.queue AS qq WHERE qq.queue_id = q.queue_id;
END
$$;

-- list_queues lists every queue with its settings and how many jobs it has in each state.
-- It counts rows, so it is for dashboards and psql, not for a hot path.
CREATE FUNCTION pgjobq.list_queues()
RETURNS TABLE (queue text, lease_duration interval, max_attempts integer,
               backoff_base interval, backoff_max interval, backoff_jitter float8,
               retention interval, dead_letter_retention interval, max_size bigint,
               scheduled bigint, available bigint, leased bigint, retrying bigint, dead bigint,
               created_at timestamptz, blocked bigint, paused boolean)
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT q.name, q.lease_duration, q.max_attempts, q.backoff_base, q.backoff_max,
           q.backoff_jitter, q.retention, q.dead_letter_retention, q.max_size,
           coalesce(c.scheduled, 0), coalesce(c.available, 0), coalesce(c.leased, 0),
           coalesce(c.retrying, 0),
           (SELECT count(*) FROM pgjobq.dead_letter AS d WHERE d.queue_id = q.queue_id),
           q.created_at, coalesce(c.blocked, 0), q.paused
      FROM pgjobq.queue AS q
      LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE j.state = 'scheduled' AND j.run_at > pgjobq.now()) AS scheduled,
                 count(*) FILTER (WHERE j.state = 'available'
                                     OR (j.state IN ('scheduled', 'retrying')
                                         AND j.run_at <= pgjobq.now())) AS available,
                 count(*) FILTER (WHERE j.state = 'leased') AS leased,
                 count(*) FILTER (WHERE j.state = 'retrying' AND j.run_at > pgjobq.now()) AS retrying,
                 count(*) FILTER (WHERE j.state = 'blocked') AS blocked
            FROM pgjobq.job AS j WHERE j.queue_id = q.queue_id
      ) AS c ON true
     ORDER BY q.name;
END;

-- pause_queue stops a queue from delivering: receive returns nothing and next_due NULL, while
-- sends, acks and everything else go on. Leases already taken run to their end.
CREATE FUNCTION pgjobq.pause_queue(queue text) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(pause_queue.queue);
BEGIN
    UPDATE pgjobq.queue AS qq SET paused = true WHERE qq.queue_id = q.queue_id;
END
$$;

-- resume_queue lets a paused queue deliver again and wakes its receivers (NOTIFY pgjobq_wake).
CREATE FUNCTION pgjobq.resume_queue(queue text) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(resume_queue.queue);
BEGIN
    UPDATE pgjobq.queue AS qq SET paused = false WHERE qq.queue_id = q.queue_id;
    PERFORM pg_notify('pgjobq_wake', q.name);
END
$$;

COMMENT ON FUNCTION pgjobq.create_queue(text, interval, integer, interval, interval, float8, interval, interval, bigint) IS 'Create a queue with its settings';
COMMENT ON FUNCTION pgjobq.alter_queue(text, interval, integer, interval, interval, float8, interval, interval, bigint) IS 'Change queue settings; NULL leaves a setting unchanged';
COMMENT ON FUNCTION pgjobq.drop_queue(text, boolean) IS 'Drop a queue; refuses while it has live or dead jobs unless force';
COMMENT ON FUNCTION pgjobq.list_queues() IS 'Every queue with its settings and job counts';
COMMENT ON FUNCTION pgjobq.pause_queue(text) IS 'Stop delivering the jobs of a queue; sends are still accepted';
COMMENT ON FUNCTION pgjobq.resume_queue(text) IS 'Deliver the jobs of a paused queue again';
