package pgjobq_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// TestSendToAFullQueue: Send fails fast with ErrQueueFull; SendWait waits until a job finishes
// and then sends, woken by the space notification (the bundle polls only once a minute).
func TestSendToAFullQueue(t *testing.T) {
	t.Parallel()
	b := setup(t, &pgjobq.QueueOptions{MaxSize: 2})
	ctx := testContext(t)
	_, err := pgjobq.SendBatch(ctx, b.client.DB(), "q", []string{"a", "b"}, nil)
	require.NoError(t, err)
	_, err = pgjobq.Send(ctx, b.client.DB(), "q", "c", nil)
	require.ErrorIs(t, err, pgjobq.ErrQueueFull)
	// A batch larger than the queue could never fit: no waiting.
	_, err = pgjobq.SendWait(ctx, b.client, "q", []string{"x", "y", "z"}, nil)
	require.ErrorIs(t, err, pgjobq.ErrTooLarge)

	sent := make(chan []int64, 1)
	go func() {
		ids, err := pgjobq.SendWait(ctx, b.client, "q", []string{"c"}, nil)
		if err == nil {
			sent <- ids
		}
		close(sent)
	}()
	// The sender has found the queue full once it marked it as awaited.
	require.Eventually(t, func() bool {
		var awaited bool
		err := b.db.Pool.QueryRow(ctx, `SELECT senders_waiting FROM pgjobq.queue WHERE name = 'q'`).Scan(&awaited)
		return err == nil && awaited
	}, 10*time.Second, time.Millisecond)
	select {
	case <-sent:
		t.Fatal("SendWait sent into a full queue")
	default:
	}

	jobs, err := pgjobq.Receive[string](ctx, b.db.Pool, "q", nil)
	require.NoError(t, err)
	_, err = pgjobq.Ack(ctx, b.db.Pool, jobs[0].Lease, nil)
	require.NoError(t, err)
	ids := <-sent
	require.Len(t, ids, 1)
	info, err := pgjobq.GetJob(context.Background(), b.db.Pool, ids[0])
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateAvailable, info.State)
}
