package pgjobq_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// The original prototype's example: a queue, two workers, one job sent, its completion awaited.
func Example() {
	ctx := context.Background()
	db, closeDB, err := pgtest.Open() // a database with pgjobq installed; use your own pool
	if err != nil {
		panic(err)
	}
	defer closeDB()

	if err := pgjobq.CreateQueue(ctx, db.Pool, "myq", nil); err != nil {
		panic(err)
	}
	acked := make(chan struct{})
	client, err := pgjobq.NewClient(ctx, db.Pool, &pgjobq.Config{Hooks: []pgjobq.Hook{
		afterHook(func(ev *pgjobq.Event) { // the workers ack in batches: report it
			if ev.Op == "ack_many" && ev.Err == nil {
				fmt.Println("acked")
				close(acked)
			}
		}),
	}})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	workCtx, stop := context.WithCancel(ctx)
	var workers sync.WaitGroup
	for range 2 {
		w := pgjobq.NewWorker(client, "myq", func(ctx context.Context, job *pgjobq.Job[map[string]string]) error {
			fmt.Println("received", job.Payload["foo"])
			time.Sleep(10 * time.Millisecond) // do some work
			fmt.Println("done processing")
			return nil
		}, nil)
		workers.Add(1)
		go func() { defer workers.Done(); _ = w.Run(workCtx) }()
	}

	// Send in a transaction and print before it commits, so "sent" comes first.
	var id int64
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		id, err = pgjobq.Send(ctx, tx, "myq", map[string]string{"foo": "bar"},
			&pgjobq.SendOptions{NotifyCompletion: true})
		fmt.Println("sent")
		return err
	})
	if err != nil {
		panic(err)
	}
	info, err := client.Wait(ctx, id)
	if err != nil {
		panic(err)
	}
	<-acked
	fmt.Println(info.State)
	stop()
	workers.Wait()
	// Output:
	// sent
	// received bar
	// done processing
	// acked
	// completed
}

// A job that fails its last attempt lands in the dead-letter queue with its history; redrive
// sends it back.
func Example_deadLetters() {
	ctx := context.Background()
	db, closeDB, err := pgtest.Open()
	if err != nil {
		panic(err)
	}
	defer closeDB()

	_ = pgjobq.CreateQueue(ctx, db.Pool, "payments", &pgjobq.QueueOptions{MaxAttempts: 1})
	id, _ := pgjobq.Send(ctx, db.Pool, "payments", map[string]int{"cents": 100}, nil)
	jobs, _ := pgjobq.Receive[map[string]int](ctx, db.Pool, "payments", nil)
	_, _ = pgjobq.Nack(ctx, db.Pool, jobs[0].Lease, errors.New("card declined"), nil)

	dead, _ := pgjobq.ListDead(ctx, db.Pool, "payments", 10)
	fmt.Println(len(dead), dead[0].Reason, *dead[0].Errors[0].Error)
	n, _ := pgjobq.Redrive(ctx, db.Pool, "payments", []int64{id})
	info, _ := pgjobq.GetJob(ctx, db.Pool, id)
	fmt.Println(n, info.State)
	// Output:
	// 1 failed card declined
	// 1 available
}

// A filter receives only the jobs whose attributes contain it.
func ExampleReceive_filter() {
	ctx := context.Background()
	db, closeDB, err := pgtest.Open()
	if err != nil {
		panic(err)
	}
	defer closeDB()

	_ = pgjobq.CreateQueue(ctx, db.Pool, "reports", nil)
	_, _ = pgjobq.Send(ctx, db.Pool, "reports", "for acme", &pgjobq.SendOptions{Attributes: map[string]any{"tenant": "acme"}})
	_, _ = pgjobq.Send(ctx, db.Pool, "reports", "for globex", &pgjobq.SendOptions{Attributes: map[string]any{"tenant": "globex"}})
	jobs, _ := pgjobq.Receive[string](ctx, db.Pool, "reports", &pgjobq.ReceiveOptions{
		MaxJobs: 10, Filter: map[string]any{"tenant": "globex"}})
	for _, job := range jobs {
		fmt.Println(job.Payload)
	}
	// Output:
	// for globex
}
