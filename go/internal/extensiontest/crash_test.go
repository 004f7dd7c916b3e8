package extensiontest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// receiveAndDie leases one job on a connection of its own and then has the server kill that
// connection (pg_terminate_backend), as when a worker process dies mid-job. It returns the job id
// and when its lease expires. A non-zero at sets the session's pgjobq clock first.
func receiveAndDie(t *testing.T, db *testDB, queue string, at time.Time) (id int64, token [16]byte, expires time.Time) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	var pid int
	require.NoError(t, conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
	if !at.IsZero() {
		setClock(t, conn.Conn(), at)
	}
	require.NoError(t, conn.QueryRow(ctx,
		`SELECT id, lease_token, lease_expires_at FROM pgjobq.receive($1)`, queue).Scan(&id, &token, &expires))

	var killed bool
	require.NoError(t, db.Pool.QueryRow(ctx,
		`SELECT pg_terminate_backend($1, timeout => 10000)`, pid).Scan(&killed))
	require.True(t, killed)
	_, err = conn.Exec(ctx, `SELECT 1`)
	require.Error(t, err, "the killed connection is gone")
	conn.Conn().Close(ctx)
	conn.Release()
	return id, token, expires
}

// TestKilledReceiverJobIsRedelivered: a receiver's connection is killed mid-lease; the job stays
// leased until the lease expires and is then delivered again, as a new attempt.
func TestKilledReceiverJobIsRedelivered(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	db.exec(t, `SELECT pgjobq.create_queue('crashy', lease_duration => '30 seconds')`)
	var sent int64
	require.NoError(t, db.Pool.QueryRow(ctx, `SELECT pgjobq.send('crashy', '{"n": 1}')`).Scan(&sent))

	id, oldToken, expires := receiveAndDie(t, db, "crashy", time.Time{})
	require.Equal(t, sent, id)

	// Before the lease expires the job is not delivered to anyone else.
	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pgjobq.receive('crashy')`).Scan(&n))
	require.Zero(t, n)

	// After it expires (time moved past it on this session's clock) it is delivered again.
	setClock(t, conn.Conn(), expires.Add(time.Millisecond))
	var (
		again   int64
		attempt int
		token   [16]byte
	)
	require.NoError(t, conn.QueryRow(ctx,
		`SELECT id, attempt, lease_token FROM pgjobq.receive('crashy')`).Scan(&again, &attempt, &token))
	require.Equal(t, id, again)
	require.Equal(t, 2, attempt)
	require.NotEqual(t, oldToken, token)

	var state *string
	require.NoError(t, conn.QueryRow(ctx, `SELECT pgjobq.ack($1, $2)`, id, oldToken).Scan(&state))
	require.Nil(t, state, "the dead worker's token no longer acks")
	require.NoError(t, conn.QueryRow(ctx, `SELECT pgjobq.ack($1, $2)`, id, token).Scan(&state))
	require.Equal(t, "completed", *state)
}

// TestJobThatKeepsKillingItsWorkerIsDeadLettered: every delivery of the job ends with its
// worker's connection killed; after max_attempts deliveries it is in the dead-letter queue with
// one lease_expired entry per attempt, and it is not delivered again.
func TestJobThatKeepsKillingItsWorkerIsDeadLettered(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	db.exec(t, `SELECT pgjobq.create_queue('poison', max_attempts => 3)`)
	db.exec(t, `SELECT pgjobq.send('poison', '{"poison": true}')`)

	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	// Each next worker comes once the previous lease has expired.
	var clock time.Time
	for attempt := 1; attempt <= 3; attempt++ {
		_, _, expires := receiveAndDie(t, db, "poison", clock)
		clock = expires.Add(time.Millisecond)
	}
	setClock(t, conn.Conn(), clock)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pgjobq.receive('poison')`).Scan(&n))
	require.Zero(t, n, "a job that used up its attempts is not delivered again")

	var (
		reason   string
		attempts int
		outcomes []string
	)
	require.NoError(t, conn.QueryRow(ctx, `
		SELECT reason, attempts, ARRAY(SELECT e->>'outcome' FROM jsonb_array_elements(errors) AS e)
		  FROM pgjobq.list_dead('poison')`).Scan(&reason, &attempts, &outcomes))
	require.Equal(t, "lease_expired", reason)
	require.Equal(t, 3, attempts)
	require.Equal(t, []string{"lease_expired", "lease_expired", "lease_expired"}, outcomes)
}
