package pgjobq_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// runWorker runs w until the test ends and returns a stop function that shuts it down and waits.
func runWorker[T any](t *testing.T, w *pgjobq.Worker[T]) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestWorkerCompletesEveryJobOnce: two workers of concurrency 8 over 600 jobs run each handler
// once and ack every job; nothing is left.
func TestWorkerCompletesEveryJobOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	const jobs = 600
	payloads := make([]int, jobs)
	for i := range payloads {
		payloads[i] = i
	}

	var (
		mu   sync.Mutex
		seen = map[int]int{}
		all  = make(chan struct{})
	)
	handler := func(ctx context.Context, job *pgjobq.Job[int]) error {
		mu.Lock()
		defer mu.Unlock()
		seen[job.Payload]++
		if len(seen) == jobs {
			close(all)
		}
		return nil
	}
	for i := 0; i < 2; i++ {
		runWorker(t, pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{Concurrency: 8}))
	}
	_, err := pgjobq.SendBatch(ctx, b.client.DB(), "q", payloads, nil)
	require.NoError(t, err)

	select {
	case <-all:
	case <-ctx.Done():
		t.Fatal("not every job was handled")
	}
	// The last acks may still be in flight: wait for them through the rows.
	require.Eventually(t, func() bool {
		var n int64
		err := b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pgjobq.job_archive WHERE state = 'completed'`).Scan(&n)
		return err == nil && n == jobs
	}, 30*time.Second, 5*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for p, n := range seen {
		require.Equal(t, 1, n, "payload %d handled %d times", p, n)
	}
	var live int64
	require.NoError(t, b.db.Pool.QueryRow(ctx, `SELECT count(*) FROM pgjobq.job`).Scan(&live))
	require.Zero(t, live)
}

// TestWorkerPanicsAndErrorsAreFailures: a handler's error and a recovered panic nack the job with
// their message; the job is retried and ends dead after its attempts.
func TestWorkerPanicsAndErrorsAreFailures(t *testing.T) {
	t.Parallel()
	jitter := 0.0
	b := setup(t, &pgjobq.QueueOptions{MaxAttempts: 2, BackoffBase: time.Millisecond, BackoffMax: time.Millisecond, BackoffJitter: &jitter})
	ctx := testContext(t)
	handler := func(ctx context.Context, job *pgjobq.Job[string]) error {
		if job.Attempt == 1 {
			return errors.New("first try fails")
		}
		panic("second try panics")
	}
	runWorker(t, pgjobq.NewWorker(b.client, "q", handler, nil))
	id, err := pgjobq.Send(ctx, b.client.DB(), "q", "boom", &pgjobq.SendOptions{NotifyCompletion: true})
	require.NoError(t, err)

	info, err := b.client.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateDead, info.State)
	require.Len(t, info.Errors, 2)
	require.Equal(t, "first try fails", *info.Errors[0].Error)
	require.Equal(t, "panic: second try panics", *info.Errors[1].Error)
}

// TestWorkerHeartbeatKeepsLongJobs: a handler running for several lease durations keeps its job
// (the heartbeat extends the lease) and completes it on the first attempt.
func TestWorkerHeartbeatKeepsLongJobs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	extended := make(chan struct{})
	handler := func(ctx context.Context, job *pgjobq.Job[string]) error {
		// Hold the job until its lease has been extended twice past the first expiry.
		for {
			info, err := pgjobq.GetJob(ctx, b.client.DB(), job.JobID)
			if err != nil {
				return err
			}
			if info.LeaseExpiresAt.After(job.LeaseExpiresAt.Add(time.Second)) {
				close(extended)
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond): // polling the row, not waiting for time to pass
			}
		}
	}
	runWorker(t, pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{LeaseDuration: 3 * time.Second}))
	id, err := pgjobq.Send(ctx, b.client.DB(), "q", "long", &pgjobq.SendOptions{NotifyCompletion: true})
	require.NoError(t, err)
	info, err := b.client.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, info.State)
	require.Equal(t, 1, info.Attempts)
	<-extended
}

// TestWorkerLostLeaseCancelsHandler: when another delivery takes the job (its lease expired and
// someone else received it), the heartbeat notices and cancels the handler's context with
// ErrLeaseLost, and the handler's outcome is not recorded.
func TestWorkerLostLeaseCancelsHandler(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	started := make(chan int64, 1)
	cancelled := make(chan error, 1)
	handler := func(ctx context.Context, job *pgjobq.Job[string]) error {
		started <- job.JobID
		<-ctx.Done()
		cancelled <- context.Cause(ctx)
		return errors.New("this failure must not be recorded")
	}
	runWorker(t, pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{LeaseDuration: 3 * time.Second}))
	_, err := pgjobq.Send(ctx, b.client.DB(), "q", "x", nil)
	require.NoError(t, err)
	id := <-started

	// Expire the lease in the row and take the job, in one transaction so no heartbeat slips in.
	var stolen []*pgjobq.Job[string]
	err = pgx.BeginFunc(ctx, b.db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE pgjobq.job SET leased_at = leased_at - interval '2 seconds',
			lease_expires_at = leased_at - interval '1 second' WHERE id = $1`, id); err != nil {
			return err
		}
		stolen, err = pgjobq.Receive[string](ctx, tx, "q", nil)
		return err
	})
	require.NoError(t, err)
	require.Len(t, stolen, 1)
	require.Equal(t, 2, stolen[0].Attempt)

	require.ErrorIs(t, <-cancelled, pgjobq.ErrLeaseLost)
	_, err = pgjobq.Ack(ctx, b.db.Pool, stolen[0].Lease, nil)
	require.NoError(t, err)
	info, err := pgjobq.GetJob(ctx, b.db.Pool, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, info.State)
	require.Len(t, info.Errors, 1)
	require.Equal(t, "lease_expired", info.Errors[0].Outcome, "the cancelled handler's error is not recorded")
}

// TestWorkerShutdownLetsRunningHandlersFinish: at shutdown a running handler finishes and its
// job is acked; the worker receives nothing more.
func TestWorkerShutdownLetsRunningHandlersFinish(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	started := make(chan int64, 10)
	finish := make(chan struct{})
	handler := func(ctx context.Context, job *pgjobq.Job[int]) error {
		started <- job.JobID
		<-finish
		return nil
	}
	workerCtx, shutdown := context.WithCancel(ctx)
	done := make(chan error, 1)
	w := pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{Concurrency: 1})
	go func() { done <- w.Run(workerCtx) }()
	first, err := pgjobq.Send(ctx, b.client.DB(), "q", 1, nil)
	require.NoError(t, err)
	require.Equal(t, first, <-started)

	shutdown()
	_, err = pgjobq.SendBatch(ctx, b.client.DB(), "q", []int{2, 3}, nil)
	require.NoError(t, err)
	close(finish) // the running handler finishes during the shutdown
	require.NoError(t, <-done)

	info, err := pgjobq.GetJob(ctx, b.db.Pool, first)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, info.State)
	require.Equal(t, []string{"available 0", "available 0"}, liveJobs(t, b))
}

// TestWorkerShutdownGivesBackUnstartedJobs: jobs a worker received but had not started when its
// shutdown began go back to the queue at once, without being charged an attempt.
func TestWorkerShutdownGivesBackUnstartedJobs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	_, err := pgjobq.SendBatch(ctx, b.db.Pool, "q", []int{1, 2, 3}, nil)
	require.NoError(t, err)

	// The shutdown begins while the worker's first receive is on its way back.
	workerCtx, shutdown := context.WithCancel(ctx)
	client, err := pgjobq.NewClient(ctx, b.db.Pool, &pgjobq.Config{Hooks: []pgjobq.Hook{
		afterHook(func(ev *pgjobq.Event) {
			if ev.Op == "receive" && ev.Rows > 0 {
				shutdown()
			}
		}),
	}})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	handled := make(chan int, 3)
	w := pgjobq.NewWorker(client, "q", func(ctx context.Context, job *pgjobq.Job[int]) error {
		handled <- job.Payload
		return nil
	}, &pgjobq.WorkerOptions{Concurrency: 3})
	require.NoError(t, w.Run(workerCtx))

	require.Empty(t, handled, "no job was started")
	require.Equal(t, []string{"available 0", "available 0", "available 0"}, liveJobs(t, b))
}

// liveJobs lists the state and attempts of every live job, in id order.
func liveJobs(t *testing.T, b *bundle) []string {
	t.Helper()
	rows, err := b.db.Pool.Query(context.Background(), `SELECT state || ' ' || attempts FROM pgjobq.job ORDER BY id`)
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return out
}

// afterHook is a Hook that calls fn after each statement.
type afterHook func(ev *pgjobq.Event)

func (h afterHook) Before(ctx context.Context, ev *pgjobq.Event) context.Context { return ctx }
func (h afterHook) After(ctx context.Context, ev *pgjobq.Event)                  { h(ev) }

// TestWorkerNacksPayloadsThatDoNotDecode: a job whose payload does not fit the worker's type
// fails like a handler error and ends dead after its attempts; the handler never sees it.
func TestWorkerNacksPayloadsThatDoNotDecode(t *testing.T) {
	t.Parallel()
	b := setup(t, &pgjobq.QueueOptions{MaxAttempts: 1})
	ctx := testContext(t)
	handled := make(chan int, 1)
	runWorker(t, pgjobq.NewWorker(b.client, "q", func(ctx context.Context, job *pgjobq.Job[int]) error {
		handled <- job.Payload
		return nil
	}, nil))
	id, err := pgjobq.Send(ctx, b.client.DB(), "q", "not a number", &pgjobq.SendOptions{NotifyCompletion: true})
	require.NoError(t, err)
	info, err := b.client.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateDead, info.State)
	require.Contains(t, *info.Errors[0].Error, "payload does not decode into int")
	require.Empty(t, handled)
}

// TestWorkerShutdownDeadlineGivesBackCutOffJobs: a handler still running at the shutdown
// deadline is cancelled and its job given back without charging the attempt, so a deploy never
// dead-letters it.
func TestWorkerShutdownDeadlineGivesBackCutOffJobs(t *testing.T) {
	t.Parallel()
	b := setup(t, &pgjobq.QueueOptions{MaxAttempts: 1})
	ctx := testContext(t)
	started := make(chan struct{})
	handler := func(ctx context.Context, job *pgjobq.Job[int]) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	workerCtx, shutdown := context.WithCancel(ctx)
	w := pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{ShutdownTimeout: time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- w.Run(workerCtx) }()
	_, err := pgjobq.Send(ctx, b.client.DB(), "q", 1, nil)
	require.NoError(t, err)
	<-started
	shutdown()
	require.NoError(t, <-done)
	require.Equal(t, []string{"available 0"}, liveJobs(t, b))
}

// TestWorkerCancelStopsRunningHandler: pgjobq.cancel on a running job cancels the handler's
// context at once (NOTIFY pgjobq_cancel; the lease is long, so no heartbeat runs meanwhile) with
// cause ErrCancelled; whatever the handler returns, the job ends cancelled, and Wait says so.
func TestWorkerCancelStopsRunningHandler(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	started := make(chan int64, 1)
	cause := make(chan error, 1)
	handler := func(ctx context.Context, job *pgjobq.Job[string]) error {
		started <- job.JobID
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return ctx.Err()
	}
	runWorker(t, pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{LeaseDuration: time.Hour}))
	id, err := pgjobq.Send(ctx, b.client.DB(), "q", "x", &pgjobq.SendOptions{NotifyCompletion: true})
	require.NoError(t, err)
	require.Equal(t, id, <-started)

	out, err := pgjobq.Cancel(ctx, b.db.Pool, id, "user pressed stop")
	require.NoError(t, err)
	require.Equal(t, pgjobq.CancelRequested, out)
	require.ErrorIs(t, <-cause, pgjobq.ErrCancelled)

	info, err := b.client.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCancelled, info.State)
	require.Equal(t, "cancelled", info.Errors[len(info.Errors)-1].Outcome)
	require.Equal(t, "user pressed stop", *info.Errors[len(info.Errors)-1].Error)
	out, err = pgjobq.Cancel(ctx, b.db.Pool, id, "")
	require.NoError(t, err)
	require.Equal(t, pgjobq.AlreadyCancelled, out)
}

// TestWorkerLearnsCancelMissedWhileDisconnected: a cancel whose notification the worker never
// got (here: marked in the row with no NOTIFY at all) is learnt from the heartbeat the worker
// runs as soon as the client's LISTEN connection comes back.
func TestWorkerLearnsCancelMissedWhileDisconnected(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	started := make(chan int64, 1)
	cause := make(chan error, 1)
	handler := func(ctx context.Context, job *pgjobq.Job[string]) error {
		started <- job.JobID
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return nil
	}
	runWorker(t, pgjobq.NewWorker(b.client, "q", handler, &pgjobq.WorkerOptions{LeaseDuration: time.Hour}))
	id, err := pgjobq.Send(ctx, b.client.DB(), "q", "x", nil)
	require.NoError(t, err)
	require.Equal(t, id, <-started)

	_, err = b.db.Pool.Exec(ctx, `UPDATE pgjobq.job SET cancel_requested_at = pgjobq.now(),
		cancel_reason = 'missed' WHERE id = $1`, id)
	require.NoError(t, err)
	killListener(t, b)
	b.waitListening(t)
	require.ErrorIs(t, <-cause, pgjobq.ErrCancelled)
	require.Eventually(t, func() bool {
		info, err := pgjobq.GetJob(ctx, b.db.Pool, id)
		return err == nil && info.State == pgjobq.StateCancelled
	}, 10*time.Second, time.Millisecond)
}

// TestClientTicksSchedules: the client ticks every second by default, so a job scheduled with
// schedule_send every second reaches a worker with nothing else driving the schedules.
func TestClientTicksSchedules(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	got := make(chan string, 10)
	runWorker(t, pgjobq.NewWorker(b.client, "q", func(ctx context.Context, job *pgjobq.Job[string]) error {
		got <- job.Payload
		return nil
	}, nil))
	_, err := pgjobq.ScheduleSend(ctx, b.db.Pool, "heartbeat", "1 seconds", "q", "beat", nil)
	require.NoError(t, err)
	select {
	case p := <-got:
		require.Equal(t, "beat", p)
	case <-ctx.Done():
		t.Fatal("no scheduled job arrived")
	}
}
