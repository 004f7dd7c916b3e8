// Command pgjobq-demo runs the example of the original prototype with the Go driver: it creates
// a queue, starts two workers, sends one job, waits for its completion and prints each step.
//
// It connects to the database in PGJOBQ_DATABASE_URL (make demo sets it).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "pgjobq-demo:", err)
		os.Exit(1)
	}
}

// ackReporter prints "acked" when the workers' batched ack has run.
type ackReporter chan struct{}

func (r ackReporter) Before(ctx context.Context, ev *pgjobq.Event) context.Context { return ctx }
func (r ackReporter) After(ctx context.Context, ev *pgjobq.Event) {
	if ev.Op == "ack_many" && ev.Err == nil {
		fmt.Println("acked")
		close(r)
	}
}

func run(ctx context.Context) error {
	url := os.Getenv("PGJOBQ_DATABASE_URL")
	if url == "" {
		return errors.New("set PGJOBQ_DATABASE_URL to a database where pgjobq can be installed")
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()

	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pgjobq`); err != nil {
		return err
	}
	if err := pgjobq.DropQueue(ctx, pool, "demo", true); err != nil && !errors.Is(err, pgjobq.ErrQueueNotFound) {
		return err
	}
	if err := pgjobq.CreateQueue(ctx, pool, "demo", nil); err != nil {
		return err
	}

	acked := make(ackReporter)
	client, err := pgjobq.NewClient(ctx, pool, &pgjobq.Config{Hooks: []pgjobq.Hook{acked}})
	if err != nil {
		return err
	}
	defer client.Close()

	workCtx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var workers sync.WaitGroup
	for range 2 {
		w := pgjobq.NewWorker(client, "demo", func(ctx context.Context, job *pgjobq.Job[map[string]string]) error {
			fmt.Println("received", job.Payload["foo"])
			time.Sleep(100 * time.Millisecond) // do some work
			fmt.Println("done processing")
			return nil
		}, nil)
		workers.Add(1)
		go func() { defer workers.Done(); _ = w.Run(workCtx) }()
	}

	// Send in a transaction and print before committing: no worker can see the job before "sent".
	var id int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		id, err = pgjobq.Send(ctx, tx, "demo", map[string]string{"foo": "bar"},
			&pgjobq.SendOptions{NotifyCompletion: true})
		fmt.Println("sent")
		return err
	})
	if err != nil {
		return err
	}
	info, err := client.Wait(ctx, id)
	if err != nil {
		return err
	}
	<-acked
	fmt.Println(info.State)
	stopWorkers()
	workers.Wait()
	return nil
}
