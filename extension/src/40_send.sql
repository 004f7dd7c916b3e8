------------------------------------------------------------------------------------------------
-- Public API: jobs
------------------------------------------------------------------------------------------------

-- _check_workflow validates the workflow arrays of send_batch (see there) for n jobs.
CREATE FUNCTION pgjobq._check_workflow(n integer, depends_on jsonb[], chain boolean,
                                       ordering_keys text[], unique_keys text[])
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    deps jsonb;
    p    jsonb;
BEGIN
    IF cardinality(depends_on) <> n OR cardinality(ordering_keys) <> n
       OR cardinality(unique_keys) <> n THEN
        RAISE EXCEPTION 'depends_on, ordering_keys and unique_keys must have one element per payload'
            USING ERRCODE = '22023',
                  DETAIL = format('%s payloads; depends_on has %s, ordering_keys %s, unique_keys %s.', n,
                                  coalesce(cardinality(depends_on)::text, 'none'),
                                  coalesce(cardinality(ordering_keys)::text, 'none'),
                                  coalesce(cardinality(unique_keys)::text, 'none'));
    END IF;
    IF chain IS NULL THEN
        RAISE EXCEPTION 'chain must not be NULL' USING ERRCODE = '22004';
    END IF;
    FOR i IN 1 .. n LOOP
        deps := depends_on[i];
        IF deps IS NOT NULL AND jsonb_typeof(deps) <> 'array' THEN
            RAISE EXCEPTION 'depends_on of job % must be a JSON array of job ids, got %', i, deps
                USING ERRCODE = '22023', HINT = 'Example: ''[12, 15]''; -1 means the first job of this batch.';
        END IF;
        IF jsonb_array_length(deps) > 1000 THEN
            RAISE EXCEPTION 'job % depends on % jobs, the limit is 1000', i, jsonb_array_length(deps)
                USING ERRCODE = '54000', HINT = 'Add a job that depends on a group and depend on it.';
        END IF;
        FOR p IN SELECT e FROM jsonb_array_elements(deps) AS e LOOP
            IF jsonb_typeof(p) <> 'number' OR p::numeric <> trunc(p::numeric) OR p::numeric = 0
               OR abs(p::numeric) > 9223372036854775807 THEN
                RAISE EXCEPTION 'depends_on of job % holds %, not a job id', i, p
                    USING ERRCODE = '22023',
                          HINT = 'Give ids of jobs sent before, or -k for the k-th job of this batch.';
            END IF;
            IF p::numeric < 0 AND -p::numeric >= i THEN
                RAISE EXCEPTION 'job % of the batch cannot depend on job % of the batch', i, -p::numeric
                    USING ERRCODE = '22023',
                          DETAIL = 'A job can only depend on jobs that come before it, so no cycle can form.';
            END IF;
        END LOOP;
        IF ordering_keys[i] IS NOT NULL
           AND (jsonb_array_length(deps) > 0 OR (chain AND i > 1)) THEN
            RAISE EXCEPTION 'job % has both an ordering key and parent jobs', i
                USING ERRCODE = '22023',
                      HINT = 'An ordering key already runs its jobs one at a time in send order; for a graph use depends_on without a key.';
        END IF;
        IF ordering_keys[i] = '' OR unique_keys[i] = '' OR length(ordering_keys[i]) > 255
           OR length(unique_keys[i]) > 255 THEN
            RAISE EXCEPTION 'keys of job % must be 1 to 255 characters (or NULL for none)', i
                USING ERRCODE = '22023';
        END IF;
    END LOOP;
END
$$;

-- _send_workflow is send_batch for jobs with parents, ordering keys or unique keys, one job at
-- a time (each may depend on the ones before it). Space in a bounded queue is taken here, for
-- the jobs actually made: a deduplicated send needs no place. Locks: ordering keys first, then
-- the queue's size row, then rows of parent jobs.
CREATE FUNCTION pgjobq._send_workflow(q pgjobq.queue, t timestamptz, due timestamptz,
                                      payloads jsonb[], attributes jsonb[], priority integer,
                                      notify_completion boolean, depends_on jsonb[], chain boolean,
                                      ordering_keys text[], unique_keys text[],
                                      ignore_parent_failure boolean)
RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    n        integer := cardinality(payloads);
    ids      bigint[] := '{}'::bigint[];
    parents  bigint[];
    live     bigint[];
    bad      bigint;
    bad_why  text;
    missing  bigint;
    new_id   bigint;
    new_state pgjobq.job_state;
    waiting  boolean;
    woken    boolean := false;
BEGIN
    -- Keys before any row lock (see _lock_keys). Then the places of the jobs that are certain
    -- to be made, in one go; a job with a unique key takes its place only if it is made.
    PERFORM pgjobq._lock_keys(array_fill(q.queue_id, ARRAY[n]), ordering_keys);
    PERFORM pgjobq._take_space(q, n - coalesce(cardinality(array_remove(unique_keys, NULL)), 0));
    FOR i IN 1 .. n LOOP
        parents := ARRAY(SELECT DISTINCT CASE WHEN e::numeric < 0 THEN ids[(-e::numeric)::integer] ELSE e::numeric::bigint END
                           FROM jsonb_array_elements_text(depends_on[i]) AS e);
        IF chain AND i > 1 AND NOT ids[i - 1] = ANY (parents) THEN
            parents := parents || ids[i - 1];
        END IF;
        -- Live parents are locked (KEY SHARE: their finish waits for this transaction, so it
        -- sees the dependency row) in id order. The others must have finished: they are read
        -- after the lock waits, with a new snapshot.
        live := ARRAY(SELECT j.id FROM pgjobq.job AS j WHERE j.id = ANY (parents)
                       ORDER BY j.id FOR KEY SHARE);
        bad := NULL;
        IF cardinality(live) < cardinality(parents) THEN
            SELECT p.id INTO missing FROM unnest(parents) AS p(id)
             WHERE p.id <> ALL (live)
               AND NOT EXISTS (SELECT FROM pgjobq.job_archive AS a WHERE a.id = p.id)
               AND NOT EXISTS (SELECT FROM pgjobq.dead_letter AS d WHERE d.id = p.id)
               AND NOT EXISTS (SELECT FROM pgjobq.job AS j WHERE j.id = p.id)
             ORDER BY p.id LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'job % does not exist', missing USING ERRCODE = 'PJ004',
                    DETAIL = format('Job %s of the batch depends on it.', i),
                    HINT = 'Parents must be sent first; finished jobs are kept for their queue''s retention only.';
            END IF;
            SELECT f.id, f.why INTO bad, bad_why FROM (
                SELECT a.id, 'was cancelled' AS why FROM pgjobq.job_archive AS a
                 WHERE a.id = ANY (parents) AND a.state = 'cancelled'
                UNION ALL
                SELECT d.id, 'is dead' FROM pgjobq.dead_letter AS d WHERE d.id = ANY (parents)
            ) AS f ORDER BY f.id LIMIT 1;
        END IF;

        waiting := ordering_keys[i] IS NOT NULL
                   AND EXISTS (SELECT FROM pgjobq.job AS j
                                WHERE j.queue_id = q.queue_id AND j.ordering_key = ordering_keys[i]);
        new_state := CASE WHEN cardinality(live) > 0 OR waiting THEN 'blocked'
                          WHEN due > t THEN 'scheduled' ELSE 'available' END::pgjobq.job_state;
        LOOP
            -- A live job holding the unique key is the answer: no new job, no place taken.
            IF unique_keys[i] IS NOT NULL THEN
                SELECT j.id INTO new_id FROM pgjobq.job AS j
                 WHERE j.queue_id = q.queue_id AND j.unique_key = unique_keys[i]
                   FOR KEY SHARE;
                IF new_id IS NOT NULL THEN
                    new_state := NULL;
                    EXIT;
                END IF;
            END IF;
            IF unique_keys[i] IS NOT NULL THEN
                PERFORM pgjobq._take_space(q, 1);
            END IF;
            INSERT INTO pgjobq.job (run_at, created_at, queue_id, priority, notify_completion,
                                    state, payload, attributes, blockers, ordering_key, unique_key)
            VALUES (due, t, q.queue_id, priority, notify_completion, new_state, payloads[i],
                    coalesce(attributes[i], '{}'), cardinality(live), ordering_keys[i],
                    unique_keys[i])
            ON CONFLICT (queue_id, unique_key) WHERE unique_key IS NOT NULL DO NOTHING
            RETURNING pgjobq.job.id INTO new_id;
            EXIT WHEN new_id IS NOT NULL;
            -- A concurrent sender took the unique key first (and committed): give the place back
            -- and look again, with a new snapshot that sees its job.
            IF q.max_size IS NOT NULL THEN
                UPDATE pgjobq.queue_size AS s SET sent = s.sent - 1
                 WHERE s.queue_id = q.queue_id AND s.shard = 0;
            END IF;
        END LOOP;
        ids := ids || new_id;
        CONTINUE WHEN new_state IS NULL;

        INSERT INTO pgjobq.job_dependency (parent_id, child_id, cancel_child)
        SELECT l, new_id, NOT ignore_parent_failure FROM unnest(live) AS l;
        IF bad IS NOT NULL AND NOT ignore_parent_failure THEN
            PERFORM pgjobq._settle(ARRAY(SELECT pgjobq._cancel_rows(ARRAY[new_id],
                                       ARRAY[format('parent job %s %s', bad, bad_why)], t)),
                                   'was cancelled', t);
        END IF;
        woken := woken OR new_state = 'available';
    END LOOP;

    IF woken THEN
        PERFORM pgjobq._wake(q);
    END IF;
    RETURN QUERY SELECT unnest(ids);
END
$$;

-- _payload_ok says whether a job's payload and attributes are acceptable; _check_payload raises
-- the error for the i-th job of a send when they are not.
CREATE FUNCTION pgjobq._payload_ok(payload jsonb, attributes jsonb) RETURNS boolean
LANGUAGE sql STABLE
BEGIN ATOMIC
    SELECT payload IS NOT NULL AND payload <> 'null'::jsonb
           AND (attributes IS NULL OR jsonb_typeof(attributes) = 'object')
           AND pg_column_size(payload) <= 1048576
           AND coalesce(pg_column_size(attributes) <= 65536, true);
END;

CREATE FUNCTION pgjobq._check_payload(i bigint, payload jsonb, attributes jsonb) RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF payload IS NULL OR payload = 'null'::jsonb THEN
        RAISE EXCEPTION 'payload % must not be NULL', i USING ERRCODE = '22004',
            HINT = 'Send {} for a job without data.';
    ELSIF jsonb_typeof(attributes) <> 'object' THEN
        RAISE EXCEPTION 'attributes of job % must be a JSON object, got %', i,
            jsonb_typeof(attributes) USING ERRCODE = '22023';
    ELSIF pg_column_size(payload) > 1048576 THEN
        RAISE EXCEPTION 'payload % is % bytes, the limit is 1 MiB', i,
            pg_column_size(payload) USING ERRCODE = '54000',
            HINT = 'Store large data elsewhere and send a reference.';
    ELSIF pg_column_size(attributes) > 65536 THEN
        RAISE EXCEPTION 'attributes of job % are % bytes, the limit is 64 KiB', i,
            pg_column_size(attributes) USING ERRCODE = '54000';
    END IF;
END
$$;

-- _check_send validates the options every job of a send shares.
CREATE FUNCTION pgjobq._check_send(delay interval, run_at timestamptz, priority integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    IF delay IS NOT NULL AND run_at IS NOT NULL THEN
        RAISE EXCEPTION 'give delay or run_at, not both' USING ERRCODE = '22023';
    END IF;
    IF NOT isfinite(run_at) THEN
        RAISE EXCEPTION 'run_at must be a finite time, got %', run_at USING ERRCODE = '22023';
    END IF;
    IF delay < interval '0' THEN
        RAISE EXCEPTION 'delay must not be negative, got %', delay USING ERRCODE = '22023';
    END IF;
    IF priority IS NULL OR priority NOT BETWEEN -32768 AND 32767 THEN
        RAISE EXCEPTION 'priority must be between -32768 and 32767, got %',
            coalesce(priority::text, 'NULL') USING ERRCODE = '22023';
    END IF;
END
$$;

-- send_batch sends one job per element of payloads to queue in one statement and returns their
-- ids in the same order. attributes, when given, pairs element by element with payloads. All
-- jobs share delay (or run_at), priority and notify_completion. The send joins the caller's
-- transaction: rolled back, the jobs never existed.
--
-- Workflows (each array, when given, pairs element by element with payloads):
--   depends_on     per job, a JSON array of parent jobs: ids sent before, or -k for the k-th job of
--                  this batch (it must come earlier). The job is blocked until every parent
--                  completed; if a parent dies or is cancelled, the job is cancelled too, unless
--                  ignore_parent_failure, which lets it run once every parent has finished.
--   chain          each job depends on the one before it in the batch: run strictly in order.
--   ordering_keys  FIFO groups: jobs of one key run one at a time, in send order.
--   unique_keys    while a live job of the queue has the key, the send returns that job's id
--                  instead of making a new one.
CREATE FUNCTION pgjobq.send_batch(
    queue                 text,
    payloads              jsonb[],
    attributes            jsonb[]     DEFAULT NULL,
    delay                 interval    DEFAULT NULL,
    run_at                timestamptz DEFAULT NULL,
    priority              integer     DEFAULT 0,
    notify_completion     boolean     DEFAULT false,
    depends_on            jsonb[]     DEFAULT NULL,
    chain                 boolean     DEFAULT false,
    ordering_keys         text[]      DEFAULT NULL,
    unique_keys           text[]      DEFAULT NULL,
    ignore_parent_failure boolean     DEFAULT false
) RETURNS SETOF bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q    pgjobq.queue := pgjobq._queue(send_batch.queue);
    t    timestamptz := pgjobq.now();
    due  timestamptz;
    n    integer := cardinality(send_batch.payloads);
    -- A NULL chain goes the workflow way, where _check_workflow rejects it.
    workflow boolean := send_batch.depends_on IS NOT NULL OR send_batch.ordering_keys IS NOT NULL
                        OR send_batch.unique_keys IS NOT NULL
                        OR send_batch.chain IS DISTINCT FROM false;
BEGIN
    IF n IS NULL THEN
        RAISE EXCEPTION 'payloads must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF n = 0 THEN
        RAISE EXCEPTION 'payloads must hold at least one job' USING ERRCODE = '22023';
    END IF;
    IF n > 10000 THEN
        RAISE EXCEPTION 'at most 10000 jobs per send, got %', n USING ERRCODE = '54000',
            HINT = 'Split the batch.';
    END IF;
    IF send_batch.attributes IS NOT NULL AND cardinality(send_batch.attributes) <> n THEN
        RAISE EXCEPTION 'attributes must have one element per payload, got % for % payloads',
            cardinality(send_batch.attributes), n USING ERRCODE = '22023';
    END IF;
    PERFORM pgjobq._check_send(send_batch.delay, send_batch.run_at, send_batch.priority);
    PERFORM pgjobq._check_payload(u.i, u.p, u.a)
       FROM unnest(send_batch.payloads, send_batch.attributes) WITH ORDINALITY AS u(p, a, i)
      WHERE NOT pgjobq._payload_ok(u.p, u.a)
      ORDER BY u.i LIMIT 1;

    IF workflow THEN
        PERFORM pgjobq._check_workflow(n, send_batch.depends_on, send_batch.chain,
                                       send_batch.ordering_keys, send_batch.unique_keys);
    END IF;

    due := coalesce(send_batch.run_at, t + send_batch.delay, t);
    -- Shared with other senders, exclusive with drop_queue: a job never lands in a dropped
    -- queue. The insert below runs after the lock with a new snapshot and joins the queue row,
    -- so a queue dropped meanwhile inserts nothing.
    PERFORM pg_advisory_xact_lock_shared(pgjobq._lock_key(), q.queue_id);
    IF workflow THEN
        -- Read after the lock, with a new snapshot: a drop that went first is seen.
        IF NOT EXISTS (SELECT FROM pgjobq.queue AS qq WHERE qq.queue_id = q.queue_id) THEN
            RAISE EXCEPTION 'queue "%" does not exist', q.name USING ERRCODE = 'PJ001',
                DETAIL = 'It was dropped while the send ran.';
        END IF;
        RETURN QUERY SELECT pgjobq._send_workflow(q, t, due, send_batch.payloads,
            send_batch.attributes, send_batch.priority, coalesce(send_batch.notify_completion, false),
            send_batch.depends_on, send_batch.chain, send_batch.ordering_keys,
            send_batch.unique_keys, coalesce(send_batch.ignore_parent_failure, false));
        RETURN;
    END IF;
    PERFORM pgjobq._take_space(q, n);
    RETURN QUERY
    WITH src AS MATERIALIZED (
        SELECT nextval('pgjobq.job_id_seq') AS id, u.p, coalesce(u.a, '{}') AS a
          FROM unnest(send_batch.payloads, send_batch.attributes) WITH ORDINALITY AS u(p, a, i)
    ), ins AS (
        INSERT INTO pgjobq.job (id, run_at, created_at, queue_id, priority, notify_completion,
                                state, payload, attributes)
        SELECT s.id, due, t, qq.queue_id, send_batch.priority,
               coalesce(send_batch.notify_completion, false),
               CASE WHEN due > t THEN 'scheduled' ELSE 'available' END::pgjobq.job_state,
               s.p, s.a
          FROM src AS s JOIN pgjobq.queue AS qq ON qq.queue_id = q.queue_id
        RETURNING pgjobq.job.id
    )
    SELECT i.id FROM ins AS i ORDER BY i.id;  -- ids were drawn in payload order
    IF NOT FOUND THEN
        RAISE EXCEPTION 'queue "%" does not exist', q.name USING ERRCODE = 'PJ001',
            DETAIL = 'It was dropped while the send ran.';
    END IF;

    IF due <= t THEN
        PERFORM pgjobq._wake(q);
    END IF;
END
$$;

-- send sends one job to queue and returns its id (with unique_key, maybe the id of the live job
-- that holds the key). depends_on lists parent job ids. See send_batch for the options. A job
-- without workflow options, the common case, takes the short way: three statements.
CREATE FUNCTION pgjobq.send(
    queue                 text,
    payload               jsonb,
    attributes            jsonb       DEFAULT '{}',
    delay                 interval    DEFAULT NULL,
    run_at                timestamptz DEFAULT NULL,
    priority              integer     DEFAULT 0,
    notify_completion     boolean     DEFAULT false,
    depends_on            bigint[]    DEFAULT NULL,
    ordering_key          text        DEFAULT NULL,
    unique_key            text        DEFAULT NULL,
    ignore_parent_failure boolean     DEFAULT false
) RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    q       pgjobq.queue;
    t       timestamptz;
    due     timestamptz;
    new_id  bigint;
    waiting boolean;
BEGIN
    IF send.depends_on IS NOT NULL OR send.ordering_key IS NOT NULL OR send.unique_key IS NOT NULL
       OR send.ignore_parent_failure IS DISTINCT FROM false THEN
        RETURN (SELECT pgjobq.send_batch(send.queue, ARRAY[send.payload],
                    ARRAY[coalesce(send.attributes, '{}')], send.delay, send.run_at, send.priority,
                    send.notify_completion,
                    CASE WHEN send.depends_on IS NOT NULL THEN ARRAY[to_jsonb(send.depends_on)] END,
                    false,
                    CASE WHEN send.ordering_key IS NOT NULL THEN ARRAY[send.ordering_key] END,
                    CASE WHEN send.unique_key IS NOT NULL THEN ARRAY[send.unique_key] END,
                    send.ignore_parent_failure));
    END IF;
    -- First, as in send_batch: an unknown queue is PJ001. _queue and _check_send raise the
    -- errors; they are called only when there is one to raise (a call costs as much as a read).
    SELECT * INTO q FROM pgjobq.queue AS qq WHERE qq.name = send.queue;
    IF NOT FOUND THEN
        q := pgjobq._queue(send.queue);
    END IF;
    t := pgjobq.now();  -- after the queue, as in send_batch: its errors come first
    IF send.delay IS NOT NULL OR send.run_at IS NOT NULL OR send.priority IS DISTINCT FROM 0 THEN
        PERFORM pgjobq._check_send(send.delay, send.run_at, send.priority);
    END IF;
    IF NOT pgjobq._payload_ok(send.payload, send.attributes) THEN
        PERFORM pgjobq._check_payload(1, send.payload, send.attributes);
    END IF;
    due := coalesce(send.run_at, t + send.delay, t);
    -- As in send_batch: the drop lock, then the insert joins the queue row with a new snapshot.
    PERFORM pg_advisory_xact_lock_shared(pgjobq._lock_key(), q.queue_id);
    IF q.max_size IS NOT NULL THEN
        PERFORM pgjobq._take_space(q, 1);
    END IF;
    INSERT INTO pgjobq.job (run_at, created_at, queue_id, priority, notify_completion, state,
                            payload, attributes)
    SELECT due, t, qq.queue_id, send.priority, coalesce(send.notify_completion, false),
           CASE WHEN due > t THEN 'scheduled' ELSE 'available' END::pgjobq.job_state,
           send.payload, coalesce(send.attributes, '{}')
      FROM pgjobq.queue AS qq WHERE qq.queue_id = q.queue_id
    RETURNING pgjobq.job.id, (SELECT w.receivers_waiting FROM pgjobq.queue AS w
                               WHERE w.queue_id = q.queue_id)
         INTO new_id, waiting;
    IF new_id IS NULL THEN
        RAISE EXCEPTION 'queue "%" does not exist', q.name USING ERRCODE = 'PJ001',
            DETAIL = 'It was dropped while the send ran.';
    END IF;
    IF waiting AND due <= t THEN
        PERFORM pgjobq._wake(q);
    END IF;
    RETURN new_id;
END
$$;

COMMENT ON FUNCTION pgjobq.send(text, jsonb, jsonb, interval, timestamptz, integer, boolean, bigint[], text, text, boolean) IS 'Send one job; returns its id';
COMMENT ON FUNCTION pgjobq.send_batch(text, jsonb[], jsonb[], interval, timestamptz, integer, boolean, jsonb[], boolean, text[], text[], boolean) IS 'Send many jobs in one statement; returns their ids in order';
