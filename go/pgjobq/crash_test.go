package pgjobq_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

const childEnv = "PGJOBQ_TEST_CHILD_WORKER_URL"

// runChildWorker is the worker process of TestKilledWorkerProcessLosesNoJob: it works queue "q"
// with one-second leases, prints "started <id>" when a handler starts, and never finishes.
func runChildWorker(url string) {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	client, err := pgjobq.NewClient(ctx, pool, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := pgjobq.NewWorker(client, "q", func(ctx context.Context, job *pgjobq.Job[string]) error {
		fmt.Printf("started %d\n", job.JobID)
		select {} // hang until killed
	}, &pgjobq.WorkerOptions{LeaseDuration: time.Second})
	_ = w.Run(ctx)
	os.Exit(2)
}

// TestKilledWorkerProcessLosesNoJob: a worker process is killed with SIGKILL in the middle of a
// job; once its lease expires another worker completes the job, as a second attempt.
func TestKilledWorkerProcessLosesNoJob(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := testContext(t)
	id, err := pgjobq.Send(ctx, b.db.Pool, "q", "work", &pgjobq.SendOptions{NotifyCompletion: true})
	require.NoError(t, err)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnv+"="+b.db.URL)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, child.Start())
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	require.Equal(t, "started "+strconv.FormatInt(id, 10), strings.TrimSpace(line))
	require.NoError(t, child.Process.Signal(syscall.SIGKILL))
	require.Error(t, child.Wait())

	// Another worker: it picks the job up once the dead worker's lease has expired.
	runWorker(t, pgjobq.NewWorker(b.client, "q", func(ctx context.Context, job *pgjobq.Job[string]) error {
		return nil
	}, nil))
	info, err := b.client.Wait(ctx, id)
	require.NoError(t, err)
	require.Equal(t, pgjobq.StateCompleted, info.State)
	require.Equal(t, 2, info.Attempts)
	require.Equal(t, "lease_expired", info.Errors[0].Outcome)
}
