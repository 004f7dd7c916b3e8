package pgjobq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// killListener terminates the client's LISTEN connection from the server side.
func killListener(t *testing.T, b *bundle) {
	t.Helper()
	var killed bool
	require.NoError(t, b.db.Pool.QueryRow(context.Background(), `
		SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		 WHERE datname = current_database() AND query LIKE 'LISTEN pgjobq_wake%'`).Scan(&killed))
	require.True(t, killed)
}

// TestListenerSurvivesATerminatedConnection: after the LISTEN connection is killed, the client
// reconnects; an idle worker is still woken by a send and a completion wait still returns, by
// notification (the poll interval of the bundle is a minute, longer than the test may take).
func TestListenerSurvivesATerminatedConnection(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	runWorker(t, pgjobq.NewWorker(b.client, "q", func(ctx context.Context, job *pgjobq.Job[int]) error {
		return nil
	}, nil))
	// The worker is idle once its receive has marked the queue as waited on.
	require.Eventually(t, func() bool {
		var waiting bool
		err := b.db.Pool.QueryRow(ctx, `SELECT receivers_waiting FROM pgjobq.queue WHERE name = 'q'`).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, time.Millisecond)

	killListener(t, b)
	b.waitListening(t)

	id, err := pgjobq.Send(ctx, b.client.DB(), "q", 1, &pgjobq.SendOptions{NotifyCompletion: true})
	require.NoError(t, err)
	info, err := b.client.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, info.State)
}

// TestWaitSeesCompletionsMissedWhileDisconnected: a waiter registered before the LISTEN
// connection dies learns of a completion that happened while it was down: after reconnecting the
// client wakes every waiter to re-check the rows.
func TestWaitSeesCompletionsMissedWhileDisconnected(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	id, err := pgjobq.Send(ctx, b.db.Pool, "q", 1, nil) // no completion notification at all
	require.NoError(t, err)
	result := make(chan *pgjobq.JobInfo, 1)
	go func() {
		info, err := b.client.Wait(ctx, id)
		if err == nil {
			result <- info
		}
		close(result)
	}()
	jobs, err := pgjobq.Receive[int](ctx, b.db.Pool, "q", nil)
	require.NoError(t, err)
	_, err = pgjobq.Ack(ctx, b.db.Pool, jobs[0].Lease, nil)
	require.NoError(t, err)

	killListener(t, b)
	b.waitListening(t)
	info := <-result
	require.NotNil(t, info)
	require.Equal(t, pgjobq.StateCompleted, info.State)
}
