------------------------------------------------------------------------------------------------
-- Internal helpers (names start with an underscore; not part of the API)
------------------------------------------------------------------------------------------------

-- now is the only clock of pgjobq: the transaction's start time, or the frozen time a test sets
-- with SET pgjobq.now = '...'. Every lease and schedule decision uses it.
CREATE FUNCTION pgjobq.now() RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT coalesce(nullif(current_setting('pgjobq.now', true), '')::timestamptz,
                    transaction_timestamp());
END;

-- _queue returns the queue named queue, or raises PJ001.
CREATE FUNCTION pgjobq._queue(queue text) RETURNS pgjobq.queue
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    q pgjobq.queue;
BEGIN
    IF _queue.queue IS NULL THEN
        RAISE EXCEPTION 'queue must not be NULL' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO q FROM pgjobq.queue AS qq WHERE qq.name = _queue.queue;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', _queue.queue
            USING ERRCODE = 'PJ001', HINT = 'Create it with pgjobq.create_queue().';
    END IF;
    RETURN q;
END
$$;

-- _lock_key is the first half of the advisory lock keys pgjobq takes (the second is a queue_id).
CREATE FUNCTION pgjobq._lock_key() RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC SELECT 1886020209; END;  -- "pjbq" in ASCII

-- _check_queue validates a queue row's name and settings and raises 22023 on the first bad one.
CREATE FUNCTION pgjobq._check_queue(q pgjobq.queue) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF q.name IS NULL THEN
        RAISE EXCEPTION 'queue must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF q.name !~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$' THEN
        RAISE EXCEPTION 'invalid queue name "%"', q.name USING ERRCODE = '22023',
            HINT = 'Use 1 to 63 letters, digits, "_", ".", ":" or "-", starting with a letter or digit.';
    END IF;
    IF q.lease_duration IS NULL OR q.lease_duration < interval '1 second'
       OR q.lease_duration > interval '7 days' THEN
        RAISE EXCEPTION 'lease_duration must be between 1 second and 7 days, got %',
            coalesce(q.lease_duration::text, 'NULL') USING ERRCODE = '22023',
            HINT = 'For longer jobs, extend the lease while working (pgjobq.extend).';
    END IF;
    IF q.max_attempts IS NULL OR q.max_attempts NOT BETWEEN 1 AND 1000 THEN
        RAISE EXCEPTION 'max_attempts must be between 1 and 1000, got %',
            coalesce(q.max_attempts::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF q.backoff_base IS NULL OR q.backoff_base < interval '0'
       OR q.backoff_max IS NULL OR q.backoff_max < q.backoff_base
       OR q.backoff_max > interval '30 days' THEN
        RAISE EXCEPTION 'backoff must satisfy 0 <= backoff_base <= backoff_max <= 30 days, got base % and max %',
            coalesce(q.backoff_base::text, 'NULL'), coalesce(q.backoff_max::text, 'NULL')
            USING ERRCODE = '22023';
    END IF;
    IF q.backoff_jitter IS NULL OR NOT (q.backoff_jitter BETWEEN 0 AND 1) THEN
        RAISE EXCEPTION 'backoff_jitter must be between 0 and 1, got %',
            coalesce(q.backoff_jitter::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF q.retention IS NULL OR q.retention < interval '0' THEN
        RAISE EXCEPTION 'retention must be zero or positive, got %',
            coalesce(q.retention::text, 'NULL') USING ERRCODE = '22023';
    END IF;
    IF q.dead_letter_retention <= interval '0' THEN
        RAISE EXCEPTION 'dead_letter_retention must be positive or NULL (keep forever), got %',
            q.dead_letter_retention USING ERRCODE = '22023';
    END IF;
    IF q.max_size < 1 THEN
        RAISE EXCEPTION 'max_size must be positive or NULL (unbounded), got %', q.max_size
            USING ERRCODE = '22023';
    END IF;
END
$$;

-- _check_lease validates a per-call lease duration (NULL means the queue's).
CREATE FUNCTION pgjobq._check_lease(lease_duration interval) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF lease_duration < interval '1 second' OR lease_duration > interval '7 days' THEN
        RAISE EXCEPTION 'lease_duration must be between 1 second and 7 days, got %', lease_duration
            USING ERRCODE = '22023';
    END IF;
END
$$;

-- _check_leases validates the parallel id and lease token arrays of the bulk functions.
CREATE FUNCTION pgjobq._check_leases(ids bigint[], lease_tokens uuid[]) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF ids IS NULL OR lease_tokens IS NULL THEN
        RAISE EXCEPTION 'ids and lease_tokens must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF array_position(ids, NULL) IS NOT NULL OR array_position(lease_tokens, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'ids and lease_tokens must not contain NULL' USING ERRCODE = '22004';
    END IF;
    IF cardinality(ids) <> cardinality(lease_tokens) THEN
        RAISE EXCEPTION 'ids and lease_tokens must have the same length, got % and %',
            cardinality(ids), cardinality(lease_tokens) USING ERRCODE = '22023';
    END IF;
    IF cardinality(ids) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per call, got %', cardinality(ids)
            USING ERRCODE = '54000';
    END IF;
END
$$;

-- _attempt_entry is one entry of a job's attempt history.
CREATE FUNCTION pgjobq._attempt_entry(attempt integer, outcome text, error text, at timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT jsonb_build_object('attempt', attempt, 'outcome', outcome, 'at', at,
                              'error', left(error, 8192));
END;

-- _backoff is the delay before retry number attempt+1: backoff_base * 2^(attempt-1), capped at
-- backoff_max, then shortened by a random fraction of up to backoff_jitter.
CREATE FUNCTION pgjobq._backoff(q pgjobq.queue, attempt integer) RETURNS interval
LANGUAGE sql VOLATILE
BEGIN ATOMIC
    SELECT make_interval(secs =>
        least(extract(epoch FROM q.backoff_max),
              extract(epoch FROM q.backoff_base) * 2 ^ least(greatest(attempt - 1, 0), 60))
        * (1 - q.backoff_jitter * random()));
END;

-- _wake sends the wake-up NOTIFY for queue q if some receiver found it empty since the last
-- wake-up, and clears that mark. A send pays for a NOTIFY (which takes a cluster-wide lock at
-- commit) only when a receiver is waiting; under load receivers are busy and nobody notifies.
-- SKIP LOCKED: senders never wait for each other over the mark.
CREATE FUNCTION pgjobq._wake(q pgjobq.queue) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pgjobq.queue AS w
                    WHERE w.queue_id = q.queue_id AND w.receivers_waiting) THEN
        RETURN;  -- the hot path under load: nobody waits, nothing to pay
    END IF;
    UPDATE pgjobq.queue AS qq SET receivers_waiting = false
     WHERE qq.queue_id = (SELECT w.queue_id FROM pgjobq.queue AS w
                           WHERE w.queue_id = q.queue_id AND w.receivers_waiting
                             FOR UPDATE SKIP LOCKED);
    -- Notify even when another sender holds the row to clear the mark: it may yet roll back.
    PERFORM pg_notify('pgjobq_wake', q.name);
END
$$;

-- _take_space counts n more live jobs of queue q, or raises PJ003 if that would exceed its
-- max_size; nothing for an unbounded queue. The row lock on shard 0 is held until commit, so
-- concurrent senders of a bounded queue take places one after another.
CREATE FUNCTION pgjobq._take_space(q pgjobq.queue, n bigint) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    live bigint;
BEGIN
    IF q.max_size IS NULL THEN
        RETURN;
    END IF;
    UPDATE pgjobq.queue_size AS s SET sent = s.sent + n
     WHERE s.queue_id = q.queue_id AND s.shard = 0
       AND s.sent + n - (SELECT sum(d.done) FROM pgjobq.queue_size AS d
                          WHERE d.queue_id = q.queue_id) <= q.max_size;
    IF NOT FOUND THEN
        SELECT max(s.sent) - sum(s.done) INTO live FROM pgjobq.queue_size AS s
         WHERE s.queue_id = q.queue_id;
        IF live IS NULL THEN
            RAISE EXCEPTION 'queue "%" does not exist', q.name USING ERRCODE = 'PJ001',
                DETAIL = 'It was dropped while the send ran.';
        END IF;
        RAISE EXCEPTION 'queue "%" is full', q.name USING ERRCODE = 'PJ003',
            DETAIL = format('max_size is %s; it holds %s jobs and the send adds %s.', q.max_size, live, n),
            HINT = 'Retry when jobs finish: pgjobq.wait_for_space() and NOTIFY pgjobq_space tell when.';
    END IF;
END
$$;

-- _freed counts jobs that left bounded queues (one queue_ids element per job) and wakes senders
-- waiting for space in them.
CREATE FUNCTION pgjobq._freed(queue_ids integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    name text;
BEGIN
    IF NOT EXISTS (SELECT FROM pgjobq.queue AS q
                    WHERE q.queue_id = ANY (queue_ids) AND q.max_size IS NOT NULL) THEN
        RETURN;  -- no bounded queue among them: nothing to count
    END IF;
    UPDATE pgjobq.queue_size AS s SET done = s.done + f.n
      FROM (SELECT u.queue_id, count(*) AS n
              FROM unnest(queue_ids) AS u(queue_id)
              JOIN pgjobq.queue AS q ON q.queue_id = u.queue_id AND q.max_size IS NOT NULL
             GROUP BY u.queue_id) AS f
     WHERE s.queue_id = f.queue_id AND s.shard = 1 + pg_backend_pid() % 15;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    FOR name IN
        UPDATE pgjobq.queue AS qq SET senders_waiting = false
         WHERE qq.queue_id IN (SELECT w.queue_id FROM pgjobq.queue AS w
                                WHERE w.queue_id = ANY (queue_ids) AND w.senders_waiting
                                  FOR UPDATE SKIP LOCKED)
        RETURNING qq.name
    LOOP
        PERFORM pg_notify('pgjobq_space', name);
    END LOOP;
END
$$;

-- _recount sets the live-job count of queue queue_id from the rows: after max_size is set, and
-- from pgjobq.maintain() to undo drift (finishes not counted while the queue was unbounded).
CREATE FUNCTION pgjobq._recount(queue_id integer) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    -- Wait for senders in flight (even those that started while the queue was unbounded) and
    -- lock out new ones; the count then runs with a snapshot taken after the locks.
    PERFORM pg_advisory_xact_lock(pgjobq._lock_key(), _recount.queue_id);
    PERFORM 1 FROM pgjobq.queue_size AS s WHERE s.queue_id = _recount.queue_id AND s.shard = 0
        FOR UPDATE;
    UPDATE pgjobq.queue_size AS s
       SET sent = (SELECT count(*) FROM pgjobq.job AS j WHERE j.queue_id = _recount.queue_id)
                + (SELECT sum(d.done) FROM pgjobq.queue_size AS d WHERE d.queue_id = _recount.queue_id)
     WHERE s.queue_id = _recount.queue_id AND s.shard = 0;
END
$$;

-- _wake_queues wakes the receivers of each queue in queue_ids (see _wake).
CREATE FUNCTION pgjobq._wake_queues(queue_ids integer[]) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q pgjobq.queue;
BEGIN
    FOR q IN SELECT * FROM pgjobq.queue AS qq
              WHERE qq.queue_id IN (SELECT DISTINCT u FROM unnest(queue_ids) AS u) LOOP
        PERFORM pgjobq._wake(q);
    END LOOP;
END
$$;

-- _lock_keys takes the transaction lock of each ordering key (queue_ids and keys pair up), in
-- one global order so that two callers cannot deadlock over keys. Every change to which job of
-- a key may run (a keyed send, a keyed job finishing) holds its key's lock, taken before any row
-- lock. With try, it takes nothing and returns false if a lock is busy.
CREATE FUNCTION pgjobq._lock_keys(queue_ids integer[], keys text[], try boolean DEFAULT false)
RETURNS boolean
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    k integer;
BEGIN
    FOR k IN SELECT DISTINCT hashtext(u.queue_id::text || '/' || u.key) AS h
               FROM unnest(queue_ids, keys) AS u(queue_id, key)
              WHERE u.key IS NOT NULL ORDER BY h LOOP
        IF NOT try THEN
            PERFORM pg_advisory_xact_lock(pgjobq._lock_key() + 1, k);
        ELSIF NOT pg_try_advisory_xact_lock(pgjobq._lock_key() + 1, k) THEN
            RETURN false;  -- locks taken so far are kept until commit; harmless
        END IF;
    END LOOP;
    RETURN true;
END
$$;

-- _advance_keys lets the next job of each ordering key run: for each (queue, key) pair, the
-- lowest live job of the key, if it is blocked, becomes available (or scheduled). Called with
-- the keys locked, after jobs of those keys finished.
CREATE FUNCTION pgjobq._advance_keys(queue_ids integer[], keys text[], t timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    woken integer[];
    heads bigint[];
BEGIN
    IF cardinality(array_remove(keys, NULL)) IS DISTINCT FROM 0 THEN
        NULL;  -- some key to advance
    ELSE
        RETURN;
    END IF;
    -- Ordered like job_ordering_idx, so that index serves (not the primary key, with a filter).
    heads := ARRAY(SELECT (SELECT j.id FROM pgjobq.job AS j
                            WHERE j.queue_id = k.queue_id AND j.ordering_key = k.key
                            ORDER BY j.queue_id, j.ordering_key, j.id LIMIT 1)
                     FROM (SELECT DISTINCT u.queue_id, u.key
                             FROM unnest(queue_ids, keys) AS u(queue_id, key)
                            WHERE u.key IS NOT NULL) AS k);
    WITH freed AS (
        UPDATE pgjobq.job AS j
           SET state = CASE WHEN j.run_at > t THEN 'scheduled' ELSE 'available' END::pgjobq.job_state
         WHERE j.id = ANY (heads) AND j.state = 'blocked'
           -- a redriven job has a lower id than the job of its key that runs now: it waits
           AND NOT EXISTS (SELECT FROM pgjobq.job AS o
                            WHERE o.queue_id = j.queue_id AND o.ordering_key = j.ordering_key
                              AND o.state <> 'blocked')
        RETURNING j.queue_id, j.state
    )
    SELECT array_agg(f.queue_id) FILTER (WHERE f.state = 'available') INTO woken FROM freed AS f;
    PERFORM pgjobq._wake_queues(woken);
END
$$;

-- _settle tells the children of finished jobs ids: each child counts down its blockers and runs
-- once none is left. If the parents ended badly (why says how: 'is dead', 'was cancelled'), a
-- child that asked for it (cancel_child) is cancelled instead, and so on down the graph. One
-- level per loop turn, so a long chain costs no stack. Only the dependency rows of ids are read,
-- through the primary key.
CREATE FUNCTION pgjobq._settle(ids bigint[], why text, t timestamptz) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    children bigint[];
    parents  bigint[];
    cancels  boolean[];
    doomed   bigint[];
    reasons  text[];
    woken    integer[];
BEGIN
    IF why IS NOT NULL THEN
        -- A cascade: lock every job it may touch, all at once and in id order, before the first
        -- level. Locking level by level let two cascades over crossing graphs deadlock. No job
        -- gains children meanwhile: a sender of a child holds its parent KEY SHARE.
        PERFORM 1 FROM pgjobq.job AS j
         WHERE j.id = ANY (ARRAY(WITH RECURSIVE below (id) AS (
                                     SELECT e.child_id FROM pgjobq.job_dependency AS e
                                      WHERE e.parent_id = ANY (ids)
                                     UNION
                                     SELECT e.child_id FROM pgjobq.job_dependency AS e
                                       JOIN below AS b ON e.parent_id = b.id
                                      WHERE e.cancel_child)
                                 SELECT b.id FROM below AS b))
         ORDER BY j.id FOR UPDATE;
    END IF;
    WHILE cardinality(ids) > 0 LOOP
        WITH gone AS (
            DELETE FROM pgjobq.job_dependency AS d WHERE d.parent_id = ANY (ids)
            RETURNING d.child_id, d.parent_id, d.cancel_child
        )
        SELECT array_agg(g.child_id), array_agg(g.parent_id), array_agg(g.cancel_child)
          INTO children, parents, cancels FROM gone AS g;
        EXIT WHEN children IS NULL;

        SELECT array_agg(s.child_id ORDER BY s.child_id),
               array_agg(format('parent job %s %s', s.parent_id, why) ORDER BY s.child_id)
          INTO doomed, reasons
          FROM (SELECT DISTINCT ON (e.child_id) e.child_id, e.parent_id
                  FROM unnest(children, parents, cancels) AS e(child_id, parent_id, cancel_child)
                 WHERE why IS NOT NULL AND e.cancel_child
                 ORDER BY e.child_id, e.parent_id) AS s;

        -- Lock the children in id order: two finishers sharing children cannot deadlock.
        PERFORM 1 FROM pgjobq.job AS j WHERE j.id = ANY (children) ORDER BY j.id
            FOR NO KEY UPDATE;
        WITH counts AS (
            SELECT e.child_id, count(*) AS n FROM unnest(children) AS e(child_id)
             WHERE e.child_id <> ALL (coalesce(doomed, '{}'))
             GROUP BY e.child_id
        ), ready AS (
            UPDATE pgjobq.job AS j
               SET blockers = j.blockers - c.n,
                   state = CASE WHEN j.blockers - c.n > 0 THEN 'blocked'
                                WHEN j.run_at > t THEN 'scheduled'
                                ELSE 'available' END::pgjobq.job_state
              FROM counts AS c
             WHERE j.id = ANY (children)  -- an index condition, whatever join the planner picks
               AND j.id = c.child_id AND j.state = 'blocked'
            RETURNING j.queue_id, j.state
        )
        SELECT array_agg(r.queue_id) FILTER (WHERE r.state = 'available') INTO woken FROM ready AS r;
        PERFORM pgjobq._wake_queues(woken);

        ids := ARRAY(SELECT c.id FROM pgjobq._cancel_rows(doomed, reasons, t) AS c(id));
        why := 'was cancelled';
    END LOOP;
END
$$;

-- _finished does what every finish owes: completion notifications, space for senders of
-- bounded queues, the children, and the next job of each ordering key. The arrays pair up: one
-- element per finished job.
CREATE FUNCTION pgjobq._finished(ids bigint[], states pgjobq.job_state[], notify boolean[],
                                 queue_ids integer[], keys text[], t timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
    IF true = ANY (notify) THEN
        PERFORM pg_notify('pgjobq_done', u.id::text || ':' || u.state::text)
           FROM unnest(ids, states, notify) AS u(id, state, notify) WHERE u.notify;
    END IF;
    PERFORM pgjobq._freed(queue_ids);
    IF ids IS NULL THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pgjobq.job_dependency AS d WHERE d.parent_id = ANY (ids)) THEN
        PERFORM pgjobq._advance_keys(queue_ids, keys, t);
        RETURN;  -- no children: the common case costs one index probe
    END IF;
    PERFORM pgjobq._settle(ARRAY(SELECT u.id FROM unnest(ids, states) AS u(id, state)
                                  WHERE u.state = 'completed'), NULL, t);
    PERFORM pgjobq._settle(ARRAY(SELECT u.id FROM unnest(ids, states) AS u(id, state)
                                  WHERE u.state = 'dead'), 'is dead', t);
    PERFORM pgjobq._settle(ARRAY(SELECT u.id FROM unnest(ids, states) AS u(id, state)
                                  WHERE u.state = 'cancelled'), 'was cancelled', t);
    PERFORM pgjobq._advance_keys(queue_ids, keys, t);
END
$$;

-- _cancel_rows cancels live jobs ids that are not leased (reasons pairs with ids): they move to
-- the archive as cancelled, with the reason as the last entry of their history. Returns the ids
-- it cancelled; their children are the caller's (_settle) business. Ordering keys of the jobs
-- must be locked by the caller.
CREATE FUNCTION pgjobq._cancel_rows(ids bigint[], reasons text[], t timestamptz)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    done      bigint[];
    notify    boolean[];
    queue_ids integer[];
    keys      text[];
BEGIN
    IF cardinality(ids) IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    WITH input AS (
        SELECT u.id, u.reason FROM unnest(ids, reasons) AS u(id, reason)
    ), gone AS (
        DELETE FROM pgjobq.job AS j USING input AS i
         WHERE j.id = ANY (ids)  -- an index condition, whatever join the planner picks
           AND j.id = i.id AND j.state <> 'leased'
        RETURNING j.*, i.reason
    ), archived AS (
        INSERT INTO pgjobq.job_archive (id, created_at, finished_at, queue_id, attempts, priority,
                                        state, payload, attributes, result, errors)
        SELECT g.id, g.created_at, t, g.queue_id, g.attempts, g.priority, 'cancelled',
               g.payload, g.attributes, NULL,
               g.errors || pgjobq._attempt_entry(g.attempts, 'cancelled', g.reason, t)
          FROM gone AS g
    )
    SELECT array_agg(g.id), array_agg(g.notify_completion), array_agg(g.queue_id),
           array_agg(g.ordering_key)
      INTO done, notify, queue_ids, keys FROM gone AS g;
    IF done IS NULL THEN
        RETURN;
    END IF;
    PERFORM pg_notify('pgjobq_done', u.id::text || ':cancelled')
       FROM unnest(done, notify) AS u(id, notify) WHERE u.notify;
    PERFORM pgjobq._freed(queue_ids);
    PERFORM pgjobq._advance_keys(queue_ids, keys, t);
    RETURN QUERY SELECT unnest(done);
END
$$;

-- _bury moves leased jobs ids to the dead letter table, recording outcome and error as their
-- last attempt (an expired lease at the time it expired). Their ordering keys must be locked.
CREATE FUNCTION pgjobq._bury(ids bigint[], outcome text, error text, t timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    dead      bigint[];
    notify    boolean[];
    queue_ids integer[];
    keys      text[];
BEGIN
    WITH gone AS (
        DELETE FROM pgjobq.job AS j WHERE j.id = ANY (ids) RETURNING j.*
    ), buried AS (
        INSERT INTO pgjobq.dead_letter (id, created_at, died_at, queue_id, attempts, priority,
                                        notify_completion, reason, payload, attributes, errors,
                                        ordering_key, unique_key)
        SELECT g.id, g.created_at, t, g.queue_id, g.attempts, g.priority, g.notify_completion,
               outcome, g.payload, g.attributes,
               g.errors || pgjobq._attempt_entry(g.attempts, outcome, error,
                   CASE WHEN outcome = 'lease_expired' THEN g.lease_expires_at ELSE t END),
               g.ordering_key, g.unique_key
          FROM gone AS g
    )
    SELECT array_agg(g.id), array_agg(g.notify_completion), array_agg(g.queue_id),
           array_agg(g.ordering_key)
      INTO dead, notify, queue_ids, keys FROM gone AS g;
    IF dead IS NULL THEN
        RETURN;
    END IF;
    PERFORM pgjobq._finished(dead, array_fill('dead'::pgjobq.job_state, ARRAY[cardinality(dead)]),
                             notify, queue_ids, keys, t);
END
$$;

-- _final_errors is the attempt history a leased job is archived with: as it was when it
-- completed; when it was cancelled while it ran, with note (a failure's error) if given and the
-- cancellation last.
CREATE FUNCTION pgjobq._final_errors(errors jsonb, attempts integer, final pgjobq.job_state,
                                     note text, cancel_reason text, t timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT CASE WHEN final = 'completed' THEN errors
                ELSE errors
                     || CASE WHEN note IS NOT NULL
                             THEN pgjobq._attempt_entry(attempts, 'failed', note, t)
                             ELSE '[]' END
                     || pgjobq._attempt_entry(attempts, 'cancelled', cancel_reason, t)
           END;
END;

-- _archive moves leased jobs ids (their ordering keys locked) to the archive: completed with
-- their results, or cancelled if a cancel was requested while they ran (with note, a failure's
-- error, kept in their history). When lease_tokens is given, a job moves only if its token
-- matches (the caller has not locked the rows); the first result given for an id counts.
-- Returns each id moved with its state.
CREATE FUNCTION pgjobq._archive(ids bigint[], lease_tokens uuid[], results jsonb[], note text,
                                t timestamptz)
RETURNS TABLE (id bigint, state pgjobq.job_state)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    done      bigint[];
    states    pgjobq.job_state[];
    notify    boolean[];
    queue_ids integer[];
    keys      text[];
BEGIN
    WITH input AS (
        SELECT DISTINCT ON (u.id) u.id, u.token, u.result
          FROM unnest(ids, lease_tokens, results) WITH ORDINALITY AS u(id, token, result, n)
         ORDER BY u.id, u.n
    ), gone AS (
        DELETE FROM pgjobq.job AS j USING input AS i
         WHERE j.id = ANY (ids)  -- an index condition, whatever join the planner picks
           AND j.id = i.id AND (i.token IS NULL OR j.lease_token = i.token)
        RETURNING j.*, i.result,
                  CASE WHEN j.cancel_requested_at IS NULL THEN 'completed'
                       ELSE 'cancelled' END::pgjobq.job_state AS final
    ), archived AS (
        INSERT INTO pgjobq.job_archive (id, created_at, finished_at, queue_id, attempts, priority,
                                        state, payload, attributes, result, errors)
        SELECT g.id, g.created_at, t, g.queue_id, g.attempts, g.priority, g.final,
               g.payload, g.attributes, g.result,
               pgjobq._final_errors(g.errors, g.attempts, g.final, note, g.cancel_reason, t)
          FROM gone AS g
    )
    SELECT array_agg(g.id), array_agg(g.final), array_agg(g.notify_completion),
           array_agg(g.queue_id), array_agg(g.ordering_key)
      INTO done, states, notify, queue_ids, keys FROM gone AS g;
    PERFORM pgjobq._finished(done, states, notify, queue_ids, keys, t);
    RETURN QUERY SELECT u.id, u.state FROM unnest(done, states) AS u(id, state);
END
$$;

-- _promote makes due delayed or retrying jobs of queue q available (when any_due) and reclaims
-- expired leases (when any_expired): a job whose lease expired is available again, dead if that
-- was its last attempt, or cancelled if a cancel was requested. receive probes for both first
-- and calls it only when one is true.
CREATE FUNCTION pgjobq._promote(q pgjobq.queue, t timestamptz, any_due boolean,
                                any_expired boolean) RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    exhausted bigint[];
    cancelled bigint[];
    keys      text[];
BEGIN
    -- = ANY (ARRAY(...)) keeps the plan on the primary key whatever the row estimate.
    IF any_due THEN
        UPDATE pgjobq.job AS j SET state = 'available'
         WHERE j.id = ANY (ARRAY(SELECT d.id FROM pgjobq.job AS d
                                  WHERE d.queue_id = q.queue_id
                                    AND d.state IN ('scheduled', 'retrying') AND d.run_at <= t
                                  ORDER BY d.run_at LIMIT 1000
                                    FOR UPDATE SKIP LOCKED));
    END IF;
    IF NOT any_expired THEN
        RETURN;
    END IF;

    WITH expired AS (
        SELECT d.id, d.attempts, d.cancel_requested_at, d.ordering_key FROM pgjobq.job AS d
         WHERE d.queue_id = q.queue_id AND d.state = 'leased' AND d.lease_expires_at <= t
         ORDER BY d.lease_expires_at LIMIT 1000
           FOR UPDATE SKIP LOCKED
    ), retried AS (
        UPDATE pgjobq.job AS j
           SET state = 'available', lease_token = NULL, leased_at = NULL, lease_expires_at = NULL,
               errors = j.errors || pgjobq._attempt_entry(j.attempts, 'lease_expired', NULL,
                                                          j.lease_expires_at)
          FROM expired AS e
         WHERE j.id = ANY (ARRAY(SELECT x.id FROM expired AS x))  -- an index condition
           AND j.id = e.id AND e.attempts < q.max_attempts AND e.cancel_requested_at IS NULL
    )
    SELECT array_agg(e.id) FILTER (WHERE e.attempts >= q.max_attempts
                                     AND e.cancel_requested_at IS NULL),
           array_agg(e.id) FILTER (WHERE e.cancel_requested_at IS NOT NULL),
           array_agg(e.ordering_key) FILTER (WHERE e.ordering_key IS NOT NULL
                                               AND (e.attempts >= q.max_attempts
                                                    OR e.cancel_requested_at IS NOT NULL))
      INTO exhausted, cancelled, keys FROM expired AS e;

    -- Finishing a keyed job needs its key's lock, but these rows are locked already: only try
    -- (lock order is key, then row); if busy, the next receive finishes them.
    IF (exhausted IS NOT NULL OR cancelled IS NOT NULL)
       AND pgjobq._lock_keys(array_fill(q.queue_id, ARRAY[coalesce(cardinality(keys), 0)]), keys,
                             true) THEN
        IF exhausted IS NOT NULL THEN
            PERFORM pgjobq._bury(exhausted, 'lease_expired', NULL, t);
        END IF;
        IF cancelled IS NOT NULL THEN
            PERFORM pgjobq._archive(cancelled, NULL, NULL, NULL, t);
        END IF;
    END IF;
END
$$;

-- _complete acks leased jobs: each (id, token) pair whose token is the job's current lease moves
-- the job to the archive, completed with its result (cancelled if a cancel was requested).
-- Returns each job it finished with its state; stale tokens are left out.
CREATE FUNCTION pgjobq._complete(ids bigint[], lease_tokens uuid[], results jsonb[])
RETURNS TABLE (id bigint, state pgjobq.job_state)
LANGUAGE plpgsql VOLATILE
AS $$
#variable_conflict use_column
DECLARE
    keys      text[];
    queue_ids integer[];
BEGIN
    -- Keys first (lock order: key, then row), read without a lock: a job's key never changes.
    -- The key test is a FILTER, not a WHERE: the lookup stays on the primary key. The rows are
    -- read only if some live job has a key at all: where none has, one probe of the (empty)
    -- job_ordering_idx spares a read of every row. A keyed job among ids is live, so it is seen.
    IF EXISTS (SELECT FROM pgjobq.job AS k WHERE k.ordering_key IS NOT NULL) THEN
        SELECT array_agg(j.queue_id) FILTER (WHERE j.ordering_key IS NOT NULL),
               array_agg(j.ordering_key) FILTER (WHERE j.ordering_key IS NOT NULL)
          INTO queue_ids, keys
          FROM pgjobq.job AS j WHERE j.id = ANY (ids);
    END IF;
    IF keys IS NOT NULL THEN
        PERFORM pgjobq._lock_keys(queue_ids, keys);
    END IF;
    RETURN QUERY SELECT a.id, a.state
                   FROM pgjobq._archive(ids, lease_tokens, results, NULL, pgjobq.now()) AS a;
END
$$;

COMMENT ON FUNCTION pgjobq.now() IS 'The only clock of pgjobq: transaction time, or the value of the pgjobq.now setting';
