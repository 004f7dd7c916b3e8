------------------------------------------------------------------------------------------------
-- Public API: dead letters and maintenance
------------------------------------------------------------------------------------------------

-- list_dead lists up to max_jobs dead-lettered jobs of queue, oldest death first.
CREATE FUNCTION pgjobq.list_dead(queue text, max_jobs integer DEFAULT 100)
RETURNS TABLE (id bigint, reason text, attempts integer, payload jsonb, attributes jsonb,
               errors jsonb, created_at timestamptz, died_at timestamptz)
LANGUAGE plpgsql STABLE
AS $$
#variable_conflict use_column
DECLARE
    q pgjobq.queue := pgjobq._queue(list_dead.queue);
BEGIN
    IF list_dead.max_jobs IS NULL OR list_dead.max_jobs < 1 THEN
        RAISE EXCEPTION 'max_jobs must be at least 1, got %', coalesce(list_dead.max_jobs::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT d.id, d.reason, d.attempts, d.payload, d.attributes, d.errors, d.created_at, d.died_at
      FROM pgjobq.dead_letter AS d
     WHERE d.queue_id = q.queue_id
     ORDER BY d.died_at, d.id
     LIMIT list_dead.max_jobs;
END
$$;

-- redrive moves dead-lettered jobs of queue (those in ids, or all when ids is NULL) back to the
-- queue as available, with a fresh set of attempts and their history kept. Returns how many
-- moved; ids that are not dead letters of queue are not moved, nor is a job whose unique key a
-- live job holds now (of several dead jobs with one unique key, the oldest moves). A job with an ordering key waits (blocked) while a live job of its key
-- exists; the jobs of a key then run in id order, so a redriven job goes before later jobs of
-- its key that have not started.
CREATE FUNCTION pgjobq.redrive(queue text, ids bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q     pgjobq.queue := pgjobq._queue(redrive.queue);
    t     timestamptz := pgjobq.now();
    moved bigint[];
    keys  text[];
BEGIN
    PERFORM pg_advisory_xact_lock_shared(pgjobq._lock_key(), q.queue_id);  -- as send_batch
    SELECT array_agg(d.ordering_key) INTO keys FROM pgjobq.dead_letter AS d
     WHERE d.queue_id = q.queue_id AND (redrive.ids IS NULL OR d.id = ANY (redrive.ids))
       AND d.ordering_key IS NOT NULL;
    PERFORM pgjobq._lock_keys(array_fill(q.queue_id, ARRAY[coalesce(cardinality(keys), 0)]), keys);
    -- Copy first, skipping any job a conflict forbids (a live job holds its unique key, or a
    -- concurrent redrive moved it already: ON CONFLICT waits for that one and then skips), then
    -- delete exactly what was copied: a job is never in both tables, never in neither.
    WITH ins AS (
        INSERT INTO pgjobq.job (id, run_at, created_at, queue_id, priority, notify_completion,
                                state, payload, attributes, errors, ordering_key, unique_key)
        SELECT b.id, t, b.created_at, b.queue_id, b.priority, b.notify_completion,
               CASE WHEN b.ordering_key IS NULL THEN 'available'
                    WHEN EXISTS (SELECT FROM pgjobq.job AS j
                                  WHERE j.queue_id = b.queue_id AND j.ordering_key = b.ordering_key)
                      OR b.id > min(b.id) OVER (PARTITION BY b.ordering_key) THEN 'blocked'
                    ELSE 'available' END::pgjobq.job_state,
               b.payload, b.attributes, b.errors, b.ordering_key, b.unique_key
          FROM pgjobq.dead_letter AS b
         WHERE b.queue_id = q.queue_id AND (redrive.ids IS NULL OR b.id = ANY (redrive.ids))
           AND NOT EXISTS (SELECT FROM pgjobq.dead_letter AS e  -- one per unique key: the oldest
                            WHERE e.queue_id = b.queue_id AND e.unique_key = b.unique_key
                              AND e.id < b.id
                              AND (redrive.ids IS NULL OR e.id = ANY (redrive.ids)))
         ORDER BY b.id
        ON CONFLICT DO NOTHING
        RETURNING pgjobq.job.id
    )
    SELECT array_agg(i.id) INTO moved FROM ins AS i;
    IF moved IS NULL THEN
        RETURN 0;
    END IF;
    DELETE FROM pgjobq.dead_letter AS d WHERE d.id = ANY (moved);
    -- Places for what moved (PJ003 undoes the whole redrive).
    PERFORM pgjobq._take_space(q, cardinality(moved));
    PERFORM pgjobq._wake(q);
    RETURN cardinality(moved);
END
$$;

-- purge_dead deletes dead-lettered jobs of queue (those in ids, or all when ids is NULL) and
-- returns how many it deleted.
CREATE FUNCTION pgjobq.purge_dead(queue text, ids bigint[] DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue := pgjobq._queue(purge_dead.queue);
    n bigint;
BEGIN
    DELETE FROM pgjobq.dead_letter AS d
     WHERE d.queue_id = q.queue_id AND (purge_dead.ids IS NULL OR d.id = ANY (purge_dead.ids));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- maintain deletes finished jobs older than their queue's retention and dead letters older than
-- their queue's dead_letter_retention, and returns how many rows it deleted. It also recounts the
-- live jobs of bounded queues from the rows. Run it every few
-- minutes (pg_cron, the Go worker, or any scheduler).
CREATE FUNCTION pgjobq.maintain() RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n   bigint;
    qid integer;
BEGIN
    WITH finished AS (
        DELETE FROM pgjobq.job_archive AS a USING pgjobq.queue AS q
         WHERE a.queue_id = q.queue_id AND a.finished_at < pgjobq.now() - q.retention
        RETURNING 1
    ), dead AS (
        DELETE FROM pgjobq.dead_letter AS d USING pgjobq.queue AS q
         WHERE d.queue_id = q.queue_id AND q.dead_letter_retention IS NOT NULL
           AND d.died_at < pgjobq.now() - q.dead_letter_retention
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM finished) + (SELECT count(*) FROM dead) INTO n;
    FOR qid IN SELECT q.queue_id FROM pgjobq.queue AS q WHERE q.max_size IS NOT NULL LOOP
        PERFORM pgjobq._recount(qid);
    END LOOP;
    RETURN n;
END
$$;

COMMENT ON FUNCTION pgjobq.list_dead(text, integer) IS 'Dead-lettered jobs of a queue';
COMMENT ON FUNCTION pgjobq.redrive(text, bigint[]) IS 'Move dead-lettered jobs back to their queue';
COMMENT ON FUNCTION pgjobq.purge_dead(text, bigint[]) IS 'Delete dead-lettered jobs';
COMMENT ON FUNCTION pgjobq.maintain() IS 'Delete finished and dead jobs past their retention';
