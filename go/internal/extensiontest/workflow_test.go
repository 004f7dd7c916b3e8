package extensiontest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// leasedJob is one job handed out by pgjobq.receive.
type leasedJob struct {
	id      int64
	token   [16]byte
	payload []byte
	attempt int
}

// workQueue runs workers goroutines, each on a connection of its own, that receive up to batch
// jobs of queue at a time and pass them to handle, until the queue has no live job left. A
// receive that gets nothing looks at the queue's live jobs as committed: if there are some and
// all are blocked, nothing can ever unblock them (every job that could has finished), so the
// queue is stuck and the test fails at once instead of spinning. No sleeps: an idle worker
// simply receives again. The first worker to fail stops the others.
func workQueue(t *testing.T, db *testDB, queue string, workers, batch int,
	handle func(ctx context.Context, conn *pgx.Conn, jobs []leasedJob) error) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := func() error {
				conn, err := pgx.Connect(ctx, db.URL)
				if err != nil {
					return err
				}
				defer conn.Close(ctx)
				for {
					rows, _ := conn.Query(ctx,
						`SELECT id, lease_token, payload, attempt FROM pgjobq.receive($1, $2)`, queue, batch)
					got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (leasedJob, error) {
						var j leasedJob
						return j, row.Scan(&j.id, &j.token, &j.payload, &j.attempt)
					})
					if err != nil {
						return err
					}
					if len(got) > 0 {
						if err := handle(ctx, conn, got); err != nil {
							return err
						}
						continue
					}
					var live, runnable int
					if err := conn.QueryRow(ctx, `
						SELECT count(*), count(*) FILTER (WHERE j.state <> 'blocked')
						  FROM pgjobq.job AS j JOIN pgjobq.queue AS q ON q.queue_id = j.queue_id
						 WHERE q.name = $1`, queue).Scan(&live, &runnable); err != nil {
						return err
					}
					if live == 0 {
						return nil
					}
					if runnable == 0 {
						return fmt.Errorf("queue %s is stuck: %d live jobs, all blocked", queue, live)
					}
				}
			}()
			if err != nil {
				stop()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			require.NoError(t, err)
		}
	}
	require.NoError(t, ctx.Err(), "a worker failed")
}

// finish acks (ok) or nacks with an immediate retry a leased job and checks the state it ends in.
func finish(ctx context.Context, conn *pgx.Conn, j leasedJob, ok bool) error {
	var state string
	if ok {
		if err := conn.QueryRow(ctx, `SELECT pgjobq.ack($1, $2)::text`, j.id, j.token).Scan(&state); err != nil {
			return err
		}
		if state != "completed" {
			return fmt.Errorf("ack of job %d: %s, want completed", j.id, state)
		}
		return nil
	}
	if err := conn.QueryRow(ctx, `SELECT pgjobq.nack($1, $2, 'first try fails', retry_in => '0')::text`,
		j.id, j.token).Scan(&state); err != nil {
		return err
	}
	if state != "retrying" {
		return fmt.Errorf("nack of job %d: %s, want retrying", j.id, state)
	}
	return nil
}

// TestOrderingKeysRunOneAtATimeInSendOrder works 20 keys x 50 jobs, sent interleaved, with 8
// workers receiving up to 3 jobs at a time; every fifth job fails its first attempt and is
// retried at once. No two jobs of one key are ever out at once (checked by the workers, and
// against the table at each delivery: no other job of the key is anything but blocked), each
// key's jobs are delivered in send order (a failed job comes back before the next of its key),
// and they complete in send order.
func TestOrderingKeysRunOneAtATimeInSendOrder(t *testing.T) {
	t.Parallel()
	db := setup(t)
	const keys, perKey, workers, batch = 20, 50, 8, 3

	db.exec(t, `SELECT pgjobq.create_queue('fifo', lease_duration => '1 hour', max_attempts => 3)`)
	db.exec(t, `
		SELECT count(*) FROM pgjobq.send_batch('fifo',
		    (SELECT array_agg(jsonb_build_object('key', 'k' || k, 'seq', s) ORDER BY s, k)
		       FROM generate_series(1, $2::int) AS s, generate_series(1, $1::int) AS k),
		    ordering_keys => (SELECT array_agg('k' || k ORDER BY s, k)
		                        FROM generate_series(1, $2::int) AS s, generate_series(1, $1::int) AS k))`,
		keys, perKey)
	require.Equal(t, int64(keys), db.count(t, `SELECT count(*) FROM pgjobq.job WHERE state = 'available'`))

	type payload struct {
		Key string `json:"key"`
		Seq int    `json:"seq"`
	}
	var (
		mu     sync.Mutex
		held   = map[string]int64{} // key -> the job of it a worker holds now
		next   = map[string]int{}   // key -> seq expected at its next delivery
		failed = map[int64]bool{}   // jobs whose first attempt failed
		order  = map[string][]int{} // key -> seqs in completion order
	)
	workQueue(t, db, "fifo", workers, batch, func(ctx context.Context, conn *pgx.Conn, jobs []leasedJob) error {
		ps := make([]payload, len(jobs))
		mu.Lock()
		for n, j := range jobs {
			if err := json.Unmarshal(j.payload, &ps[n]); err != nil {
				mu.Unlock()
				return err
			}
			p := ps[n]
			if h, ok := held[p.Key]; ok {
				t.Errorf("job %d (%s #%d) delivered while job %d of its key is held", j.id, p.Key, p.Seq, h)
			}
			held[p.Key] = j.id
			if want := max(next[p.Key], 1); p.Seq != want {
				t.Errorf("%s: job #%d delivered, want #%d", p.Key, p.Seq, want)
			}
		}
		mu.Unlock()
		for n, j := range jobs {
			p := ps[n]
			// As committed now, the other jobs of the key are all blocked.
			var others int
			if err := conn.QueryRow(ctx, `
				SELECT count(*) FROM pgjobq.job AS j
				 WHERE j.queue_id = (SELECT queue_id FROM pgjobq.queue WHERE name = 'fifo')
				   AND j.ordering_key = $1 AND j.id <> $2 AND j.state <> 'blocked'`, p.Key, j.id).Scan(&others); err != nil {
				return err
			}
			if others != 0 {
				t.Errorf("job %d (%s #%d) delivered while %d other jobs of its key are not blocked", j.id, p.Key, p.Seq, others)
			}
			mu.Lock()
			retry := p.Seq%5 == 0 && !failed[j.id]
			failed[j.id] = failed[j.id] || retry
			// Bookkeeping before the ack or nack: once it commits, the next job of the key (or
			// this one again) may be delivered to another worker at once.
			if !retry {
				order[p.Key] = append(order[p.Key], p.Seq)
				next[p.Key] = p.Seq + 1
			}
			delete(held, p.Key)
			mu.Unlock()
			if err := finish(ctx, conn, j, !retry); err != nil {
				return err
			}
		}
		return nil
	})

	want := make([]int, perKey)
	for i := range want {
		want[i] = i + 1
	}
	require.Len(t, order, keys)
	for k, seqs := range order {
		require.Equal(t, want, seqs, "completion order of %s", k)
	}
	require.Equal(t, int64(0), db.count(t, `SELECT count(*) FROM pgjobq.job`))
	require.Equal(t, int64(keys*perKey), db.count(t, `SELECT count(*) FROM pgjobq.job_archive WHERE state = 'completed'`))
	require.Equal(t, int64(keys*perKey/5), db.count(t, `SELECT count(*) FROM pgjobq.job_archive WHERE attempts = 2`))
	// The archive agrees: in each key, each job was acked in a transaction that started after
	// the previous job's ack (finished_at is the ack's transaction time).
	require.Equal(t, int64(0), db.count(t, `
		SELECT count(*) FROM (
		    SELECT a.finished_at, lag(a.finished_at) OVER (PARTITION BY a.payload ->> 'key'
		                                                 ORDER BY (a.payload ->> 'seq')::int) AS before
		      FROM pgjobq.job_archive AS a) AS x
		 WHERE x.before >= x.finished_at`))
}

// TestDependencyGraphRunsParentsFirst sends a random DAG of 500 jobs (each with up to three
// parents among the jobs before it) in two batches: the first names its parents with -k, the
// second with the first batch's ids and -k for its own. 8 workers work it, some jobs failing
// their first attempt. No job is delivered before all its parents completed (checked by the
// workers, and against the archive at each delivery), every job completes once, and for every
// edge the child was acked after its parent.
func TestDependencyGraphRunsParentsFirst(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	const n, split, workers, batch = 500, 250, 8, 4

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	parents := make([][]int, n)
	for i := range parents {
		for _, p := range rng.Perm(i)[:min(i, rng.IntN(4))] {
			parents[i] = append(parents[i], p)
		}
	}

	db.exec(t, `SELECT pgjobq.create_queue('dag', lease_duration => '1 hour', max_attempts => 3)`)
	ids := make([]int64, 0, n)
	send := func(from, to int) {
		payloads := make([]string, 0, to-from)
		deps := make([]string, 0, to-from)
		for i := from; i < to; i++ {
			payloads = append(payloads, fmt.Sprintf(`{"i": %d}`, i))
			refs := make([]string, 0, len(parents[i]))
			for _, p := range parents[i] {
				if p < from {
					refs = append(refs, fmt.Sprint(ids[p])) // an id sent before
				} else {
					refs = append(refs, fmt.Sprint(-(p - from + 1))) // -k: k-th of this batch
				}
			}
			deps = append(deps, "["+strings.Join(refs, ", ")+"]")
		}
		rows, _ := db.Pool.Query(ctx, `SELECT u.id FROM pgjobq.send_batch('dag', $1::text[]::jsonb[],
			depends_on => $2::text[]::jsonb[]) AS u(id)`, payloads, deps)
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		require.NoError(t, err)
		require.Len(t, got, to-from)
		ids = append(ids, got...)
	}
	send(0, split)
	send(split, n)

	// Each job waits for as many parents as it has.
	wantBlockers := make([]int32, n)
	var edgeParents, edgeChildren []int64
	for i, ps := range parents {
		wantBlockers[i] = int32(len(ps))
		for _, p := range ps {
			edgeParents = append(edgeParents, ids[p])
			edgeChildren = append(edgeChildren, ids[i])
		}
	}
	require.Equal(t, int64(0), db.count(t, `
		SELECT count(*) FROM unnest($1::bigint[], $2::int[]) AS u(id, n) JOIN pgjobq.job AS j ON j.id = u.id
		 WHERE j.blockers <> u.n OR (j.state = 'blocked') <> (u.n > 0)`, ids, wantBlockers))

	index := make(map[int64]int, n)
	for i, id := range ids {
		index[id] = i
	}
	var (
		mu        sync.Mutex
		acking    = make([]bool, n) // the ack of the job was sent (it may not have committed yet)
		completed = make([]int, n)
		failed    = make([]bool, n)
	)
	workQueue(t, db, "dag", workers, batch, func(ctx context.Context, conn *pgx.Conn, jobs []leasedJob) error {
		for _, j := range jobs {
			i, ok := index[j.id]
			if !ok {
				return fmt.Errorf("unknown job %d delivered", j.id)
			}
			ps := make([]int64, 0, len(parents[i]))
			for _, p := range parents[i] {
				ps = append(ps, ids[p])
			}
			// As committed now, every parent is completed.
			var done int
			if err := conn.QueryRow(ctx, `SELECT count(*) FROM pgjobq.job_archive
				WHERE id = ANY ($1) AND state = 'completed'`, ps).Scan(&done); err != nil {
				return err
			}
			if done != len(ps) {
				t.Errorf("job %d delivered with %d of its %d parents completed", i, done, len(ps))
			}
			mu.Lock()
			for _, p := range parents[i] {
				if !acking[p] {
					t.Errorf("job %d delivered before its parent %d was acked", i, p)
				}
			}
			if completed[i] > 0 || acking[i] {
				t.Errorf("job %d delivered again after its ack", i)
			}
			retry := i%7 == 3 && !failed[i]
			failed[i] = failed[i] || retry
			acking[i] = !retry // before the ack: its children may be delivered once it commits
			mu.Unlock()
			if err := finish(ctx, conn, j, !retry); err != nil {
				return err
			}
			if !retry {
				mu.Lock()
				completed[i]++
				mu.Unlock()
			}
		}
		return nil
	})

	for i, c := range completed {
		require.Equal(t, 1, c, "job %d completed %d times", i, c)
	}
	require.Equal(t, int64(0), db.count(t, `SELECT count(*) FROM pgjobq.job`))
	require.Equal(t, int64(0), db.count(t, `SELECT count(*) FROM pgjobq.job_dependency`))
	require.Equal(t, int64(n), db.count(t, `SELECT count(*) FROM pgjobq.job_archive WHERE state = 'completed'`))
	// For every edge, the child's ack ran in a transaction that started after its parent's.
	require.Equal(t, int64(0), db.count(t, `
		SELECT count(*) FROM unnest($1::bigint[], $2::bigint[]) AS e(parent, child)
		  JOIN pgjobq.job_archive AS p ON p.id = e.parent
		  JOIN pgjobq.job_archive AS c ON c.id = e.child
		 WHERE NOT p.finished_at < c.finished_at`, edgeParents, edgeChildren))
}
