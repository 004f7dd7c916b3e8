package pgjobq_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

type email struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
}

func TestSendReceiveAck(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	db := pgtest.New(t).Pool
	require.NoError(t, pgjobq.CreateQueue(ctx, db, "emails", nil))

	id, err := pgjobq.Send(ctx, db, "emails", email{To: "ada@example.com", Subject: "hi"},
		&pgjobq.SendOptions{Attributes: map[string]any{"tenant": "acme"}, Priority: 3})
	require.NoError(t, err)

	jobs, err := pgjobq.Receive[email](ctx, db, "emails", &pgjobq.ReceiveOptions{MaxJobs: 10})
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	job := jobs[0]
	require.Equal(t, id, job.JobID)
	require.Equal(t, email{To: "ada@example.com", Subject: "hi"}, job.Payload)
	require.Equal(t, map[string]any{"tenant": "acme"}, job.Attributes)
	require.Equal(t, 1, job.Attempt)
	require.Equal(t, 3, job.Priority)

	state, err := pgjobq.Ack(ctx, db, job.Lease, map[string]string{"message_id": "m-1"})
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, state)
	_, err = pgjobq.Ack(ctx, db, job.Lease, nil)
	require.ErrorIs(t, err, pgjobq.ErrLeaseLost)

	info, err := pgjobq.GetJob(ctx, db, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, info.State)
	require.JSONEq(t, `{"message_id": "m-1"}`, string(info.Result))
}

func TestBatchesFiltersAndBytes(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	db := pgtest.New(t).Pool
	require.NoError(t, pgjobq.CreateQueue(ctx, db, "files", nil))

	ids, err := pgjobq.SendBatch(ctx, db, "files", [][]byte{{0, 1}, {0xff}}, nil)
	require.NoError(t, err)
	require.Len(t, ids, 2)
	require.Less(t, ids[0], ids[1])
	_, err = pgjobq.Send(ctx, db, "files", []byte("tagged"), &pgjobq.SendOptions{Attributes: map[string]any{"kind": "x"}})
	require.NoError(t, err)

	tagged, err := pgjobq.Receive[[]byte](ctx, db, "files", &pgjobq.ReceiveOptions{MaxJobs: 10, Filter: map[string]any{"kind": "x"}})
	require.NoError(t, err)
	require.Len(t, tagged, 1)
	require.Equal(t, []byte("tagged"), tagged[0].Payload)

	rest, err := pgjobq.Receive[[]byte](ctx, db, "files", &pgjobq.ReceiveOptions{MaxJobs: 10})
	require.NoError(t, err)
	require.Len(t, rest, 2)
	require.Equal(t, []byte{0, 1}, rest[0].Payload)
	done, err := pgjobq.AckMany(ctx, db, []pgjobq.Lease{rest[0].Lease, rest[1].Lease, tagged[0].Lease})
	require.NoError(t, err)
	require.Equal(t, map[int64]pgjobq.State{rest[0].JobID: pgjobq.StateCompleted,
		rest[1].JobID: pgjobq.StateCompleted, tagged[0].JobID: pgjobq.StateCompleted}, done)
}

func TestNackExtendReleaseAndDeadLetters(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	db := pgtest.New(t).Pool
	jitter := 0.0
	require.NoError(t, pgjobq.CreateQueue(ctx, db, "flaky", &pgjobq.QueueOptions{MaxAttempts: 2, BackoffJitter: &jitter}))
	id, err := pgjobq.Send(ctx, db, "flaky", map[string]int{"n": 1}, nil)
	require.NoError(t, err)

	jobs, err := pgjobq.Receive[map[string]int](ctx, db, "flaky", &pgjobq.ReceiveOptions{LeaseDuration: time.Minute})
	require.NoError(t, err)
	expiry, err := pgjobq.Extend(ctx, db, jobs[0].Lease, time.Hour)
	require.NoError(t, err)
	require.True(t, expiry.After(jobs[0].LeaseExpiresAt))
	// Released: available again at once and the attempt is not charged.
	require.NoError(t, pgjobq.Release(ctx, db, jobs[0].Lease))
	_, err = pgjobq.Extend(ctx, db, jobs[0].Lease, 0)
	require.ErrorIs(t, err, pgjobq.ErrLeaseLost)

	for attempt := 1; attempt <= 2; attempt++ {
		jobs, err = pgjobq.Receive[map[string]int](ctx, db, "flaky", nil)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.Equal(t, attempt, jobs[0].Attempt)
		state, err := pgjobq.Nack(ctx, db, jobs[0].Lease, errors.New("smtp timeout"), &pgjobq.NackOptions{RetryIn: time.Microsecond})
		require.NoError(t, err)
		require.Equal(t, map[int]pgjobq.State{1: pgjobq.StateRetrying, 2: pgjobq.StateDead}[attempt], state)
		_, err = pgjobq.Nack(ctx, db, jobs[0].Lease, nil, nil)
		require.ErrorIs(t, err, pgjobq.ErrLeaseLost)
		if attempt == 1 {
			// Due a microsecond later, in database time: wait for it through the row.
			require.Eventually(t, func() bool {
				info, err := pgjobq.GetJob(ctx, db, id)
				return err == nil && info.State == pgjobq.StateAvailable
			}, 10*time.Second, time.Millisecond)
		}
	}
	dead, err := pgjobq.ListDead(ctx, db, "flaky", 0)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	require.Equal(t, "failed", dead[0].Reason)
	require.Len(t, dead[0].Errors, 2)
	require.Equal(t, "smtp timeout", *dead[0].Errors[1].Error)

	n, err := pgjobq.Redrive(ctx, db, "flaky", []int64{id})
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	n, err = pgjobq.PurgeDead(ctx, db, "flaky", nil)
	require.NoError(t, err)
	require.Zero(t, n)
	info, err := pgjobq.GetJob(ctx, db, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateAvailable, info.State)
	require.Zero(t, info.Attempts)
}

func TestSendJoinsTheCallersTransaction(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	db := pgtest.New(t).Pool
	require.NoError(t, pgjobq.CreateQueue(ctx, db, "tx", nil))

	tx, err := db.Begin(ctx)
	require.NoError(t, err)
	_, err = pgjobq.Send(ctx, tx, "tx", "rolled back", nil)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))

	err = pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
		_, err := pgjobq.Send(ctx, tx, "tx", "committed", nil)
		return err
	})
	require.NoError(t, err)
	jobs, err := pgjobq.Receive[string](ctx, db, "tx", &pgjobq.ReceiveOptions{MaxJobs: 10})
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Equal(t, "committed", jobs[0].Payload)
}

func TestQueuesAndErrors(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	db := pgtest.New(t).Pool

	require.NoError(t, pgjobq.CreateQueue(ctx, db, "a", &pgjobq.QueueOptions{LeaseDuration: time.Minute, MaxAttempts: 3}))
	require.NoError(t, pgjobq.AlterQueue(ctx, db, "a", &pgjobq.QueueOptions{MaxAttempts: 7}))
	queues, err := pgjobq.ListQueues(ctx, db)
	require.NoError(t, err)
	require.Len(t, queues, 1)
	require.Equal(t, "a", queues[0].Name)
	require.Equal(t, time.Minute, queues[0].LeaseDuration)
	require.Equal(t, 7, queues[0].MaxAttempts)
	require.Equal(t, 0.1, queues[0].BackoffJitter)

	err = pgjobq.CreateQueue(ctx, db, "a", nil)
	require.ErrorIs(t, err, pgjobq.ErrQueueExists)
	var perr *pgjobq.Error
	require.ErrorAs(t, err, &perr)
	require.Equal(t, "create_queue", perr.Op)
	require.Equal(t, "a", perr.Queue)

	_, err = pgjobq.Send(ctx, db, "nope", 1, nil)
	require.ErrorIs(t, err, pgjobq.ErrQueueNotFound)
	require.ErrorContains(t, err, `queue "nope" does not exist`)
	_, err = pgjobq.Receive[int](ctx, db, "a", &pgjobq.ReceiveOptions{MaxJobs: -1})
	require.ErrorIs(t, err, pgjobq.ErrInvalidArgument)
	_, err = pgjobq.Receive[int](ctx, db, "a", &pgjobq.ReceiveOptions{MaxJobs: 10001})
	require.ErrorIs(t, err, pgjobq.ErrTooLarge)
	_, err = pgjobq.GetJob(ctx, db, 12345)
	require.ErrorIs(t, err, pgjobq.ErrJobNotFound)

	_, err = pgjobq.Send(ctx, db, "a", 1, nil)
	require.NoError(t, err)
	require.ErrorIs(t, pgjobq.DropQueue(ctx, db, "a", false), pgjobq.ErrQueueNotEmpty)
	require.NoError(t, pgjobq.DropQueue(ctx, db, "a", true))
	n, err := pgjobq.Maintain(ctx, db)
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestMissingExtension(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	db := pgtest.New(t).Pool
	require.NoError(t, pgjobq.CheckExtension(ctx, db))
	_, err := db.Exec(ctx, `DROP EXTENSION pgjobq; DROP SCHEMA pgjobq`)
	require.NoError(t, err)
	require.ErrorIs(t, pgjobq.CheckExtension(ctx, db), pgjobq.ErrExtensionMissing)
	_, err = pgjobq.Send(ctx, db, "q", 1, nil)
	require.ErrorIs(t, err, pgjobq.ErrExtensionMissing)
	_, err = pgjobq.NewClient(ctx, db, nil)
	require.ErrorIs(t, err, pgjobq.ErrExtensionMissing)
}

// TestHooksSeeEveryOperation: an instrumented DB reports each statement with its operation and
// queue, rows and errors.
func TestHooksSeeEveryOperation(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := &recorder{}
	db := pgjobq.Instrument(pgtest.New(t).Pool, rec)
	require.NoError(t, pgjobq.CreateQueue(ctx, db, "h", nil))
	_, err := pgjobq.SendBatch(ctx, db, "h", []int{1, 2, 3}, nil)
	require.NoError(t, err)
	_, err = pgjobq.Receive[int](ctx, db, "h", &pgjobq.ReceiveOptions{MaxJobs: 2})
	require.NoError(t, err)
	_, err = pgjobq.Send(ctx, db, "missing", 1, nil)
	require.Error(t, err)

	require.Equal(t, []string{"create_queue h 1 ok", "send h 3 ok", "receive h 2 ok", "send missing 0 error"}, rec.events)
}

type recorder struct{ events []string }

func (r *recorder) Before(ctx context.Context, ev *pgjobq.Event) context.Context { return ctx }
func (r *recorder) After(ctx context.Context, ev *pgjobq.Event) {
	outcome := "ok"
	if ev.Err != nil {
		outcome = "error"
	}
	r.events = append(r.events, ev.Op+" "+ev.Queue+" "+itoa(ev.Rows)+" "+outcome)
}

func itoa(n int64) string { return fmt.Sprint(n) }
