package pgjobq_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

func TestMain(m *testing.M) {
	if url := os.Getenv(childEnv); url != "" {
		runChildWorker(url) // this process is a worker that a test will kill
	}
	pgtest.Main(m)
}

// bundle is what a test works with: its own database and a client on it.
type bundle struct {
	db     *pgtest.DB
	client *pgjobq.Client
	ready  chan struct{} // receives each time the client's LISTEN connection is up
}

// setup gives the test a database, a queue named "q" with opts, and a client whose LISTEN
// connection is up.
func setup(t *testing.T, opts *pgjobq.QueueOptions) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{db: pgtest.New(t), ready: make(chan struct{}, 16)}
	require.NoError(t, pgjobq.CreateQueue(ctx, b.db.Pool, "q", opts))
	client, err := pgjobq.NewClient(ctx, b.db.Pool, &pgjobq.Config{
		OnListen: func() { b.ready <- struct{}{} },
		// Long enough that a test passing proves the notification path, not the poll.
		PollInterval: time.Minute,
	})
	require.NoError(t, err)
	t.Cleanup(client.Close)
	b.client = client
	b.waitListening(t)
	return b
}

// waitListening waits for the client's LISTEN connection to be (re)established.
func (b *bundle) waitListening(t *testing.T) {
	t.Helper()
	select {
	case <-b.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("the client's LISTEN connection did not come up")
	}
}

// ctx returns a context that ends with the test or after a generous deadline.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
