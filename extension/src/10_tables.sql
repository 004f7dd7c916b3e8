------------------------------------------------------------------------------------------------
-- Types
------------------------------------------------------------------------------------------------

-- job_state is the life of a job. Live jobs (table pgjobq.job) are blocked (waiting for parent
-- jobs or for the job ahead of it in its ordering key), scheduled, available, leased or
-- retrying; finished jobs are completed or cancelled (pgjobq.job_archive) or dead
-- (pgjobq.dead_letter).
CREATE TYPE pgjobq.job_state AS ENUM
    ('blocked', 'scheduled', 'available', 'leased', 'retrying', 'completed', 'dead', 'cancelled');

------------------------------------------------------------------------------------------------
-- Tables and indexes
------------------------------------------------------------------------------------------------

CREATE SEQUENCE pgjobq.queue_id_seq AS integer;

-- queue holds one row per queue with its settings. Jobs refer to it by queue_id without a
-- foreign key: a foreign key would take a KEY SHARE lock on this row for every send, and many
-- concurrent senders locking one row is slow (multixacts). The API keeps the two consistent.
CREATE TABLE pgjobq.queue (
    queue_id              integer     PRIMARY KEY DEFAULT nextval('pgjobq.queue_id_seq'),
    name                  text        NOT NULL UNIQUE,
    lease_duration        interval    NOT NULL,
    max_attempts          integer     NOT NULL,
    backoff_base          interval    NOT NULL,
    backoff_max           interval    NOT NULL,
    backoff_jitter        float8      NOT NULL,
    retention             interval    NOT NULL,
    dead_letter_retention interval,
    max_size              bigint,
    -- receivers_waiting is set by a receive that found nothing and cleared by the first send
    -- after it, which then sends the wake-up NOTIFY (see pgjobq._wake).
    receivers_waiting     boolean     NOT NULL DEFAULT false,
    -- senders_waiting is set by pgjobq.wait_for_space on a full queue and cleared by the first
    -- finish after it, which sends NOTIFY pgjobq_space (see pgjobq._freed).
    senders_waiting       boolean     NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL,
    -- A paused queue accepts sends and delivers nothing (pgjobq.pause_queue).
    paused                boolean     NOT NULL DEFAULT false
) WITH (fillfactor = 50);
ALTER SEQUENCE pgjobq.queue_id_seq OWNED BY pgjobq.queue.queue_id;

CREATE SEQUENCE pgjobq.job_id_seq;

-- job holds live jobs only: blocked, scheduled, available, leased or retrying. Finished jobs leave it, so
-- its indexes stay as small as the work in flight. Every index is partial on state, so a job
-- version enters only the index of the state it is in. Payload, attributes of leased jobs and
-- the attempt history are in no index.
CREATE TABLE pgjobq.job (
    id                bigint      PRIMARY KEY DEFAULT nextval('pgjobq.job_id_seq'),
    run_at            timestamptz NOT NULL,   -- when it is (or was) due
    created_at        timestamptz NOT NULL,
    leased_at         timestamptz,
    lease_expires_at  timestamptz,
    queue_id          integer     NOT NULL,
    attempts          integer     NOT NULL DEFAULT 0,   -- deliveries so far
    priority          smallint    NOT NULL DEFAULT 0,
    notify_completion boolean     NOT NULL DEFAULT false,
    state             pgjobq.job_state NOT NULL,
    lease_token       uuid,
    payload           jsonb       NOT NULL,
    attributes        jsonb       NOT NULL DEFAULT '{}',
    errors            jsonb       NOT NULL DEFAULT '[]', -- attempt history, oldest first
    blockers          integer     NOT NULL DEFAULT 0,    -- parents not finished yet
    ordering_key      text,       -- FIFO group: one job of a key at a time, in send order
    unique_key        text,       -- at most one live job per (queue, unique_key)
    cancel_requested_at timestamptz,  -- set by pgjobq.cancel on a leased job
    cancel_reason     text,
    CONSTRAINT job_live_state CHECK (state IN ('blocked', 'scheduled', 'available', 'leased', 'retrying')),
    CONSTRAINT job_lease_consistent CHECK ((state = 'leased') = (lease_token IS NOT NULL)),
    CONSTRAINT job_blocked_consistent CHECK (blockers = 0 OR state = 'blocked')
) WITH (fillfactor = 80,
        autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 500,
        autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.02,
        autovacuum_vacuum_cost_delay = 0);
ALTER SEQUENCE pgjobq.job_id_seq OWNED BY pgjobq.job.id;

-- Receive order: priority first, then send order.
CREATE INDEX job_available_idx ON pgjobq.job (queue_id, priority DESC, id)
    WHERE state = 'available';
-- Delayed and backing-off jobs, found by due time.
CREATE INDEX job_due_idx ON pgjobq.job (queue_id, run_at)
    WHERE state IN ('scheduled', 'retrying');
-- Leased jobs by expiry, to reclaim expired leases and for next_due. A heartbeat moves the job
-- within it (not a HOT update); heartbeats come every third of a lease, receives far more often,
-- and this keeps the reclaim probe a range scan of what has expired rather than of all leases.
CREATE INDEX job_leased_idx ON pgjobq.job (queue_id, lease_expires_at)
    WHERE state = 'leased';
-- Unique jobs: a send with a unique_key that a live job of the queue holds returns that job.
CREATE UNIQUE INDEX job_unique_idx ON pgjobq.job (queue_id, unique_key)
    WHERE unique_key IS NOT NULL;
-- FIFO groups: the head of an ordering key is its lowest live id.
CREATE INDEX job_ordering_idx ON pgjobq.job (queue_id, ordering_key, id)
    WHERE ordering_key IS NOT NULL;
-- Attribute filters on receive; jobs without attributes stay out of it.
CREATE INDEX job_attributes_idx ON pgjobq.job USING gin (attributes jsonb_path_ops)
    WHERE state = 'available' AND attributes <> '{}';

-- job_dependency holds one row per parent a blocked job still waits for. A parent that finishes
-- deletes its rows (found by the primary key, never by a scan) and counts down its children's
-- blockers; cancel_child says whether the child is cancelled when the parent ends badly (dead or
-- cancelled) or runs anyway. A parent always exists before its child (it was sent earlier, or
-- earlier in the same batch), so the graph cannot have a cycle.
CREATE TABLE pgjobq.job_dependency (
    parent_id    bigint  NOT NULL,
    child_id     bigint  NOT NULL,
    cancel_child boolean NOT NULL,
    PRIMARY KEY (parent_id, child_id)
);

-- job_archive holds completed (and, later, cancelled) jobs until their queue's retention passes
-- and pgjobq.maintain() deletes them. Insert-only apart from that delete.
CREATE TABLE pgjobq.job_archive (
    id          bigint      PRIMARY KEY,
    created_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    queue_id    integer     NOT NULL,
    attempts    integer     NOT NULL,
    priority    smallint    NOT NULL,
    state       pgjobq.job_state NOT NULL CHECK (state IN ('completed', 'cancelled')),
    payload     jsonb       NOT NULL,
    attributes  jsonb       NOT NULL,
    result      jsonb,
    errors      jsonb       NOT NULL
) WITH (autovacuum_vacuum_insert_scale_factor = 0.05, autovacuum_vacuum_cost_delay = 0);
CREATE INDEX job_archive_finished_idx ON pgjobq.job_archive (queue_id, finished_at);

-- dead_letter holds jobs that used up their attempts, through failures or expired leases,
-- with their payload, attributes and attempt history, until redriven or purged.
CREATE TABLE pgjobq.dead_letter (
    id                bigint      PRIMARY KEY,
    created_at        timestamptz NOT NULL,
    died_at           timestamptz NOT NULL,
    queue_id          integer     NOT NULL,
    attempts          integer     NOT NULL,
    priority          smallint    NOT NULL,
    notify_completion boolean     NOT NULL,
    reason            text        NOT NULL,
    payload           jsonb       NOT NULL,
    attributes        jsonb       NOT NULL,
    errors            jsonb       NOT NULL,
    ordering_key      text,       -- kept for redrive
    unique_key        text
);
CREATE INDEX dead_letter_died_idx ON pgjobq.dead_letter (queue_id, died_at);

-- queue_size counts the live jobs of bounded queues (max_size set) without counting rows: live =
-- sent (shard 0) - sum(done) over the shards. Senders add to sent under shard 0's row lock, so
-- two senders cannot both take the last free place; finishing jobs add to the done of one of
-- shards 1-15 (by backend), so finishing does not queue behind senders. Uncommitted finishes are not
-- counted yet, so the count is never below the truth: a bound is never overshot.
CREATE TABLE pgjobq.queue_size (
    queue_id integer NOT NULL,
    shard    integer NOT NULL,
    sent     bigint  NOT NULL DEFAULT 0,
    done     bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (queue_id, shard)
) WITH (fillfactor = 50);

COMMENT ON TABLE pgjobq.job IS 'Live jobs: blocked, scheduled, available, leased, retrying';
COMMENT ON TABLE pgjobq.job_dependency IS 'Parents that blocked jobs still wait for';
COMMENT ON TABLE pgjobq.job_archive IS 'Finished jobs, kept for the queue retention';
COMMENT ON TABLE pgjobq.dead_letter IS 'Jobs that used up their attempts';
