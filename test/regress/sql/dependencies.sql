-- Dependencies: a job with parents is blocked until every parent completed; a parent that dies
-- or is cancelled cancels its children and their descendants, unless they asked to run anyway
-- (ignore_parent_failure); parents finished before the send count at once; parents may live in
-- other queues; depends_on and chain are checked, and every bad input has its SQLSTATE.
\set VERBOSITY terse
\set SHOW_CONTEXT never
SET pgjobq.now = '2030-01-01 00:00:00+00';
-- try (a shared helper) runs one statement and shows its SQLSTATE, message, DETAIL and HINT.
\getenv abs_srcdir PG_ABS_SRCDIR
\set try_psql :abs_srcdir /sql/include/try.psql
\i :try_psql
SELECT pgjobq.create_queue('q_dep', max_attempts => 1);
SELECT pgjobq.create_queue('q_dep_other', max_attempts => 1);
SELECT pgjobq.create_queue('q_dep_chain');

-- Job ids, and ids in messages and histories, are shown relative to :base so that the file runs
-- in any order: job 1 is the first job sent here.
SELECT nextval('pgjobq.job_id_seq') AS base \gset
CREATE TEMP TABLE base AS SELECT :base::bigint AS id;
-- rel turns the first absolute job id in a message into a relative one.
CREATE FUNCTION pg_temp.rel(s text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(replace(s, 'job ' || m[1], 'job ' || (m[1]::bigint - (SELECT b.id FROM pg_temp.base AS b))), s)
      FROM (SELECT regexp_match(s, 'job (\d+)') AS m) AS x
$$;
-- jobs shows jobs (relative ids) wherever they are: state, blockers left (live jobs) and the
-- last entry of their history (outcome: reason).
CREATE FUNCTION pg_temp.jobs(VARIADIC ids bigint[])
RETURNS TABLE (job bigint, queue text, state pgjobq.job_state, blockers integer, last text)
LANGUAGE sql AS $$
    SELECT u.r, g.queue, g.state, j.blockers,
           pg_temp.rel((g.errors -> -1 ->> 'outcome') || coalesce(': ' || (g.errors -> -1 ->> 'error'), ''))
      FROM unnest(ids) WITH ORDINALITY AS u(r, n)
     CROSS JOIN LATERAL pgjobq.get_job((SELECT b.id FROM pg_temp.base AS b) + u.r) AS g
      LEFT JOIN pgjobq.job AS j ON j.id = g.id
     ORDER BY u.n
$$;
-- take receives every job of queue that can run now and returns their relative ids; they stay
-- leased.
CREATE FUNCTION pg_temp.take(queue text) RETURNS bigint[] LANGUAGE sql AS $$
    SELECT coalesce(array_agg(r.id - (SELECT b.id FROM pg_temp.base AS b) ORDER BY r.id), '{}')
      FROM pgjobq.receive(queue, 1000) AS r
$$;
-- ack and fail finish a leased job (relative id) with its current lease.
CREATE FUNCTION pg_temp.ack(r bigint) RETURNS pgjobq.job_state LANGUAGE sql AS $$
    SELECT pgjobq.ack(j.id, j.lease_token) FROM pgjobq.job AS j
     WHERE j.id = (SELECT b.id FROM pg_temp.base AS b) + r
$$;
CREATE FUNCTION pg_temp.fail(r bigint) RETURNS pgjobq.job_state LANGUAGE sql AS $$
    SELECT pgjobq.nack(j.id, j.lease_token, 'boom') FROM pgjobq.job AS j
     WHERE j.id = (SELECT b.id FROM pg_temp.base AS b) + r
$$;
-- wave receives every job of queue that can run now, acks them all, and returns their relative
-- ids: called until it returns {}, it shows the order in which a graph runs, wave by wave.
CREATE FUNCTION pg_temp.wave(queue text) RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    got bigint[];
BEGIN
    got := ARRAY(SELECT r.id FROM pgjobq.receive(queue, 1000) AS r ORDER BY r.id);
    PERFORM pgjobq.ack(j.id, j.lease_token) FROM pgjobq.job AS j WHERE j.id = ANY (got) ORDER BY j.id;
    RETURN ARRAY(SELECT g - (SELECT b.id FROM pg_temp.base AS b) FROM unnest(got) AS g);
END
$$;

-- The direction: the child waits for the parent, never the other way round. A receive asking
-- for many jobs gets only the parent; the child is blocked with one blocker.
SELECT pgjobq.send('q_dep', '{"step": "parent"}') - :base AS parent;
SELECT pgjobq.send('q_dep', '{"step": "child"}', depends_on => ARRAY[:base + 1]) - :base AS child;
SELECT * FROM pg_temp.jobs(1, 2);
SELECT pg_temp.take('q_dep') AS delivered;
-- While the parent runs, the child stays blocked; nothing else can be received.
SELECT pg_temp.take('q_dep') AS delivered;
SELECT * FROM pg_temp.jobs(1, 2);
-- The parent completes (ack says so): the child is available and only now delivered.
SELECT pg_temp.ack(1) AS ack;
SELECT * FROM pg_temp.jobs(1, 2);
SELECT pg_temp.take('q_dep') AS delivered;
SELECT pg_temp.ack(2) AS ack;
-- A stale token: ack returns NULL and changes nothing.
SELECT pgjobq.ack(:base + 2, gen_random_uuid()) AS stale_ack;

-- Fan-out: three children of one parent run together once it completes.
SELECT pgjobq.send('q_dep', '{"step": "root"}') - :base AS root;
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep', ARRAY['{"c": 1}', '{"c": 2}', '{"c": 3}']::jsonb[],
    depends_on => array_fill(to_jsonb(ARRAY[:base + 3]), ARRAY[3])) AS id;
SELECT pg_temp.wave('q_dep') AS wave_1;
SELECT pg_temp.wave('q_dep') AS wave_2;
SELECT pg_temp.wave('q_dep') AS wave_3;

-- Fan-in: a job with three parents counts them down and runs after the last.
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep', ARRAY['{"p": 1}', '{"p": 2}', '{"p": 3}']::jsonb[]) AS id;
SELECT pgjobq.send('q_dep', '{"step": "join"}', depends_on => ARRAY[:base + 7, :base + 8, :base + 9]) - :base AS join;
SELECT pg_temp.take('q_dep') AS delivered;
SELECT pg_temp.ack(9), pg_temp.ack(7);
SELECT * FROM pg_temp.jobs(10);
SELECT pg_temp.take('q_dep') AS delivered;
SELECT pg_temp.ack(8);
SELECT * FROM pg_temp.jobs(10);
SELECT pg_temp.wave('q_dep') AS wave;

-- A diamond in one batch, with -k for the k-th job of the batch: A; B and C after A; D after B
-- and C. It runs in three waves, D last.
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep',
    ARRAY['{"d": "A"}', '{"d": "B"}', '{"d": "C"}', '{"d": "D"}']::jsonb[],
    depends_on => ARRAY[NULL, '[-1]', '[-1]', '[-2, -3]']::jsonb[]) AS id;
SELECT * FROM pg_temp.jobs(11, 12, 13, 14);
SELECT pg_temp.wave('q_dep') AS wave_1;
SELECT pg_temp.wave('q_dep') AS wave_2;
SELECT pg_temp.wave('q_dep') AS wave_3;
SELECT pg_temp.wave('q_dep') AS wave_4;

-- The same parent named twice (as -k and as its id) counts once.
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep', ARRAY['{"twice": "parent"}', '{"twice": "child"}']::jsonb[],
    depends_on => ARRAY[NULL, jsonb_build_array(-1, :base + 15, :base + 15)]) AS id;
SELECT * FROM pg_temp.jobs(16);
SELECT pg_temp.wave('q_dep') AS wave_1;
SELECT pg_temp.wave('q_dep') AS wave_2;
-- An empty list of parents is no parent.
SELECT pgjobq.send('q_dep', '{"parents": "none"}', depends_on => '{}') - :base AS id;
SELECT * FROM pg_temp.jobs(17);
SELECT pg_temp.wave('q_dep') AS wave;

-- A child sent with a delay waits for its parent and then for its time.
SELECT pgjobq.send('q_dep', '{"step": "early"}') - :base AS parent;
SELECT pgjobq.send('q_dep', '{"step": "late"}', depends_on => ARRAY[:base + 18], delay => '1 hour') - :base AS child;
SELECT pg_temp.wave('q_dep') AS wave;
SELECT * FROM pg_temp.jobs(19);
SELECT pg_temp.take('q_dep') AS delivered;
SET pgjobq.now = '2030-01-01 01:00:00+00';
SELECT pg_temp.wave('q_dep') AS wave;
SET pgjobq.now = '2030-01-01 00:00:00+00';

-- A parent that fails and is retried keeps its children blocked until it completes (q_dep_chain
-- allows five attempts). A child sent while its parent is leased or retrying waits too.
SELECT pgjobq.send('q_dep_chain', '{"flaky": true}') - :base AS parent;
SELECT pgjobq.send('q_dep_chain', '{"after": "flaky", "sent": "available"}', depends_on => ARRAY[:base + 20]) - :base AS child;
SELECT pg_temp.take('q_dep_chain') AS delivered;
SELECT pgjobq.send('q_dep_chain', '{"after": "flaky", "sent": "leased"}', depends_on => ARRAY[:base + 20]) - :base AS child;
SELECT pg_temp.fail(20) AS nack;
SELECT pgjobq.send('q_dep_chain', '{"after": "flaky", "sent": "retrying"}', depends_on => ARRAY[:base + 20]) - :base AS child;
SELECT * FROM pg_temp.jobs(20, 21, 22, 23);
SET pgjobq.now = '2030-01-01 00:10:00+00';
SELECT pg_temp.take('q_dep_chain') AS delivered;
SELECT pg_temp.ack(20);
SELECT pg_temp.wave('q_dep_chain') AS wave;
SET pgjobq.now = '2030-01-01 00:00:00+00';

-- Across queues: a child in q_dep_other waits for its parent in q_dep.
SELECT pgjobq.send('q_dep', '{"where": "q_dep"}') - :base AS parent;
SELECT pgjobq.send('q_dep_other', '{"where": "q_dep_other"}', depends_on => ARRAY[:base + 24]) - :base AS child;
SELECT pg_temp.take('q_dep_other') AS other_delivered;
SELECT pg_temp.wave('q_dep') AS wave;
SELECT * FROM pg_temp.jobs(24, 25);
SELECT pg_temp.wave('q_dep_other') AS other_wave;

-- A dead parent cancels its children, their children, and so on, each saying why. A child that
-- asked to run anyway (ignore_parent_failure) runs, and its own children wait for it as usual.
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep',
    ARRAY['{"lvl": 0}', '{"lvl": 1}', '{"lvl": 2}', '{"lvl": 3}']::jsonb[],
    depends_on => ARRAY[NULL, '[-1]', '[-2]', '[-3]']::jsonb[]) AS id;
SELECT pgjobq.send('q_dep', '{"anyway": true}', depends_on => ARRAY[:base + 26], ignore_parent_failure => true) - :base AS anyway;
SELECT pgjobq.send('q_dep_other', '{"after": "anyway"}', depends_on => ARRAY[:base + 30]) - :base AS after_anyway;
SELECT pg_temp.take('q_dep') AS delivered;
SELECT pg_temp.fail(26) AS nack;
SELECT * FROM pg_temp.jobs(26, 27, 28, 29, 30, 31);
SELECT pg_temp.wave('q_dep') AS wave;
SELECT pg_temp.wave('q_dep_other') AS other_wave;
SELECT * FROM pg_temp.jobs(30, 31);

-- Two parents, one dies while the other still runs: the child is cancelled at once; with
-- ignore_parent_failure it waits for the other parent and then runs.
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep', ARRAY['{"two": "dies"}', '{"two": "lives"}']::jsonb[]) AS id;
SELECT pgjobq.send('q_dep', '{"two": "strict"}', depends_on => ARRAY[:base + 32, :base + 33]) - :base AS strict;
SELECT pgjobq.send('q_dep', '{"two": "tolerant"}', depends_on => ARRAY[:base + 32, :base + 33], ignore_parent_failure => true) - :base AS tolerant;
SELECT pg_temp.take('q_dep') AS delivered;
SELECT pg_temp.fail(32) AS nack;
SELECT * FROM pg_temp.jobs(34, 35);
SELECT pg_temp.ack(33) AS ack;
SELECT * FROM pg_temp.jobs(34, 35);
SELECT pg_temp.wave('q_dep') AS wave;

-- A cancelled parent cancels its children (and theirs); ignore_parent_failure runs anyway.
SELECT pgjobq.send('q_dep', '{"cancel": "parent"}') - :base AS parent;
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep', ARRAY['{"cancel": "child"}', '{"cancel": "grandchild"}']::jsonb[],
    depends_on => ARRAY[jsonb_build_array(:base + 36), '[-1]']) AS id;
SELECT pgjobq.send('q_dep', '{"cancel": "tolerant"}', depends_on => ARRAY[:base + 36], ignore_parent_failure => true) - :base AS tolerant;
SELECT pgjobq.cancel(:base + 36, 'not needed');
SELECT * FROM pg_temp.jobs(36, 37, 38, 39);
SELECT pg_temp.wave('q_dep') AS wave;
-- Cancelling a running parent: its children wait for the end of the run, which ends cancelled
-- (ack says so), and then are cancelled.
SELECT pgjobq.send('q_dep', '{"cancel": "running parent"}') - :base AS parent;
SELECT pgjobq.send('q_dep', '{"cancel": "its child"}', depends_on => ARRAY[:base + 40]) - :base AS child;
SELECT pg_temp.take('q_dep') AS delivered;
SELECT pgjobq.cancel(:base + 40);
SELECT * FROM pg_temp.jobs(40, 41);
SELECT pg_temp.ack(40) AS ack;
SELECT * FROM pg_temp.jobs(40, 41);
-- Cancelling a blocked child leaves its parent alone.
SELECT pgjobq.send('q_dep', '{"keep": "parent"}') - :base AS parent;
SELECT pgjobq.send('q_dep', '{"drop": "child"}', depends_on => ARRAY[:base + 42]) - :base AS child;
SELECT pgjobq.cancel(:base + 43);
SELECT pg_temp.wave('q_dep') AS wave;
SELECT pg_temp.wave('q_dep') AS nothing_left;
SELECT * FROM pg_temp.jobs(42, 43);

-- Parents finished before the send: completed ones are satisfied; a dead or cancelled one
-- cancels the child at birth (and the batch jobs after it that depend on it), unless
-- ignore_parent_failure.
--   completed: 1, dead: 26, cancelled: 36
SELECT pgjobq.send('q_dep', '{"born": "after completed"}', depends_on => ARRAY[:base + 1]) - :base AS id;
SELECT id - :base AS id FROM pgjobq.send_batch('q_dep', ARRAY['{"born": "after dead"}', '{"born": "after that"}']::jsonb[],
    depends_on => ARRAY[jsonb_build_array(:base + 26), NULL], chain => true) AS id;
SELECT pgjobq.send('q_dep', '{"born": "after cancelled"}', depends_on => ARRAY[:base + 1, :base + 36]) - :base AS id;
SELECT pgjobq.send('q_dep', '{"born": "tolerant"}', depends_on => ARRAY[:base + 26, :base + 36], ignore_parent_failure => true) - :base AS id;
SELECT pgjobq.send('q_dep', '{"born": "tolerant, one live parent"}', depends_on => ARRAY[:base + 26, :base + 44], ignore_parent_failure => true) - :base AS id;
SELECT * FROM pg_temp.jobs(44, 45, 46, 47, 48, 49);
SELECT pg_temp.wave('q_dep') AS wave_1;
SELECT pg_temp.wave('q_dep') AS wave_2;

-- A send that is rolled back leaves no dependency behind: the parent runs and completes alone.
SELECT pgjobq.send('q_dep', '{"rollback": "parent"}') - :base AS parent;
BEGIN;
SELECT pgjobq.send('q_dep', '{"rollback": "child"}', depends_on => ARRAY[:base + 50]) - :base AS child;
ROLLBACK;
SELECT count(*) AS dependency_rows FROM pgjobq.job_dependency WHERE parent_id = :base + 50;
SELECT pg_temp.wave('q_dep') AS wave;
SELECT pg_temp.wave('q_dep') AS nothing_left;

-- A chain of 1000 jobs (chain => true) runs strictly in order: a receive that may take ten jobs
-- gets exactly one each time, the next one of the chain.
SELECT count(*) AS sent, min(id) - :base AS first, max(id) - :base AS last FROM pgjobq.send_batch('q_dep_chain',
    (SELECT array_agg(jsonb_build_object('i', g) ORDER BY g) FROM generate_series(1, 1000) AS g),
    chain => true) AS id;
SELECT count(*) FILTER (WHERE j.state = 'available') AS available,
       count(*) FILTER (WHERE j.state = 'blocked' AND j.blockers = 1) AS blocked_by_one
  FROM pgjobq.job AS j WHERE j.queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_dep_chain');
CREATE TEMP TABLE chain_log (step integer, received integer, i integer);
DO $$
DECLARE
    got record;
    n   integer;
BEGIN
    FOR s IN 1 .. 1001 LOOP
        n := 0;
        FOR got IN SELECT r.id, r.lease_token, (r.payload ->> 'i')::integer AS i
                     FROM pgjobq.receive('q_dep_chain', 10) AS r LOOP
            n := n + 1;
            INSERT INTO chain_log VALUES (s, NULL, got.i);
            PERFORM pgjobq.ack(got.id, got.lease_token);
        END LOOP;
        UPDATE chain_log SET received = n WHERE step = s;
        IF n = 0 THEN
            INSERT INTO chain_log VALUES (s, 0, NULL);
            EXIT;
        END IF;
    END LOOP;
END
$$;
SELECT count(*) FILTER (WHERE received = 1) AS steps_with_one_job,
       count(*) FILTER (WHERE received NOT IN (0, 1)) AS steps_with_more,
       array_agg(i ORDER BY step) FILTER (WHERE i IS NOT NULL)
           = ARRAY(SELECT generate_series(1, 1000)) AS in_chain_order,
       max(step) FILTER (WHERE received = 0) AS empty_at_step
  FROM chain_log;
-- A child may depend on up to 1000 parents (here the chain, all completed): it runs at once.
SELECT pgjobq.send('q_dep', '{"parents": 1000}',
                   depends_on => ARRAY(SELECT generate_series(:base + 52, :base + 1051))) - :base AS id;
SELECT * FROM pg_temp.jobs(1052);
SELECT pg_temp.wave('q_dep') AS wave;

-- Cancelling the head of a 1000-job chain cancels all of it, each job naming its parent.
SELECT min(id) AS chain2 FROM pgjobq.send_batch('q_dep_chain',
    (SELECT array_agg(jsonb_build_object('j', g) ORDER BY g) FROM generate_series(1, 1000) AS g),
    chain => true) AS id \gset
SELECT pgjobq.cancel(:chain2, 'whole chain');
SELECT count(*) AS cancelled,
       count(*) FILTER (WHERE a.id = :chain2 AND a.errors -> -1 ->> 'error' = 'whole chain') AS head_says_why,
       count(*) FILTER (WHERE a.errors -> -1 ->> 'error' = format('parent job %s was cancelled', a.id - 1)) AS names_its_parent
  FROM pgjobq.job_archive AS a
 WHERE a.id BETWEEN :chain2 AND :chain2 + 999 AND a.state = 'cancelled';
SELECT count(*) AS live FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_dep_chain');

-- drop_queue(force) of a parent's queue: children in other queues are treated as if their
-- parents were cancelled (ignore_parent_failure: they run).
SELECT pgjobq.create_queue('q_dep_doomed');
SELECT pgjobq.send('q_dep_doomed', '{"doomed": true}') AS doomed \gset
SELECT pgjobq.send('q_dep_other', '{"child of": "doomed"}', depends_on => ARRAY[:doomed]) - :base AS id;
SELECT pgjobq.send('q_dep_other', '{"tolerant child of": "doomed"}', depends_on => ARRAY[:doomed], ignore_parent_failure => true) - :base AS id;
SELECT pgjobq.drop_queue('q_dep_doomed', force => true);
SELECT * FROM pg_temp.jobs(2054, 2055);
SELECT pg_temp.wave('q_dep_other') AS other_wave;
-- drop_queue(force) of a child's queue: its dependencies go with it; the parent runs alone.
SELECT pgjobq.create_queue('q_dep_doomed');
SELECT pgjobq.send('q_dep_other', '{"parent of": "doomed"}') - :base AS parent;
SELECT pgjobq.send('q_dep_doomed', '{"doomed": "child"}', depends_on => ARRAY[:base + 2056]) - :base AS child;
SELECT pgjobq.drop_queue('q_dep_doomed', force => true);
SELECT count(*) AS dependency_rows FROM pgjobq.job_dependency WHERE parent_id = :base + 2056;
SELECT pg_temp.wave('q_dep_other') AS other_wave;

-- A running parent whose cancel was requested and that then fails ends cancelled (nack says
-- so) rather than retrying (q_dep_chain allows retries), and its child is cancelled.
SELECT pgjobq.send('q_dep_chain', '{"cancel": "failing parent"}') - :base AS parent;
SELECT pgjobq.send('q_dep_chain', '{"cancel": "its child"}', depends_on => ARRAY[:base + 2058]) - :base AS child;
SELECT pg_temp.take('q_dep_chain') AS delivered;
SELECT pgjobq.cancel(:base + 2058);
SELECT pg_temp.fail(2058) AS nack;
SELECT * FROM pg_temp.jobs(2058, 2059);

-- Bad input, each with its SQLSTATE. depends_on per job must be a JSON array of ids.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['5']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['{"id": 5}']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['null']::jsonb[])$$);
-- Ids are non-zero integers: not 0, fractions, strings, booleans, nulls or out-of-range numbers.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[0]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[1.5]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['["1"]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[true]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[null]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[[1]]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[1e19]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY[NULL]::bigint[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY[0]::bigint[])$$);
-- -k names an earlier job of the same batch: not itself, not a later one, not past the batch.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY['[-1]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], depends_on => ARRAY['[-2]', NULL]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], depends_on => ARRAY[NULL, '[-2]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], depends_on => ARRAY[NULL, '[-5]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY[-1]::bigint[])$$);
-- An id no job has: PJ004, with the batch position. A job cannot name itself: its id does not
-- exist yet when its parents are looked up (the next id of the sequence here).
SELECT pg_temp.try($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY[9000000000000000000])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], depends_on => ARRAY[NULL, '[9000000000000000000]']::jsonb[])$$);
SELECT pg_temp.rel(pg_temp.try(format($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY[%s])$$,
                                      (SELECT last_value + 1 FROM pgjobq.job_id_seq)))) AS self;
-- Nothing of a refused batch is kept: the first job was valid, the second's parent unknown.
SELECT count(*) AS live FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_dep');
-- depends_on pairs with payloads; at most 1000 parents per job; chain must not be NULL.
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], depends_on => ARRAY['[]']::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY[NULL, NULL]::jsonb[])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}']::jsonb[], depends_on => ARRAY[(SELECT jsonb_agg(g) FROM generate_series(1, 1001) AS g)])$$);
SELECT pg_temp.try($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY(SELECT generate_series(1, 1001)::bigint))$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], chain => NULL)$$);
-- A job with parents cannot have an ordering key (nor a job after the first of a chain).
SELECT pg_temp.try(format($$SELECT pgjobq.send('q_dep', '{}', depends_on => ARRAY[%s], ordering_key => 'k')$$, :base + 1));
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], depends_on => ARRAY[NULL, '[-1]']::jsonb[], ordering_keys => ARRAY[NULL, 'k'])$$);
SELECT pg_temp.try($$SELECT pgjobq.send_batch('q_dep', ARRAY['{}', '{}']::jsonb[], chain => true, ordering_keys => ARRAY[NULL, 'k'])$$);
SELECT count(*) AS live FROM pgjobq.job WHERE queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'q_dep');

-- Every dependency row is gone once the parents have finished.
SELECT count(*) AS dependency_rows FROM pgjobq.job_dependency WHERE parent_id > :base OR child_id > :base;

SELECT pgjobq.drop_queue('q_dep', force => true);
SELECT pgjobq.drop_queue('q_dep_other', force => true);
SELECT pgjobq.drop_queue('q_dep_chain', force => true);
