// Command pgjobq-demo runs the example of the original prototype on pgjobq's SQL API: it creates a
// queue, starts two workers, sends one job, waits for its completion and prints each step.
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
)

const queue = "demo"

func main() {
	if err := run(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, "pgjobq-demo:", err)
		os.Exit(1)
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

	setup := `CREATE EXTENSION IF NOT EXISTS pgjobq;
		SELECT pgjobq.drop_queue(name, force => true) FROM pgjobq.queue WHERE name = 'demo';
		SELECT pgjobq.create_queue('demo');`
	if _, err := pool.Exec(ctx, setup); err != nil {
		return fmt.Errorf("setup: %w", err)
	}

	// Subscribe to completions before sending, so the completion cannot be missed.
	listener, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer listener.Release()
	if _, err := listener.Exec(ctx, "LISTEN pgjobq_done"); err != nil {
		return err
	}

	workCtx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var wg sync.WaitGroup
	ready := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker(workCtx, pool, ready); err != nil && workCtx.Err() == nil {
				fmt.Fprintln(os.Stderr, "worker:", err)
			}
		}()
	}
	<-ready
	<-ready

	// Send in a transaction and print before committing: no worker can see the job before "sent".
	var id int64
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT pgjobq.send('demo', '{"foo": "bar"}', notify_completion => true)`).Scan(&id); err != nil {
			return err
		}
		fmt.Println("sent")
		return nil
	})
	if err != nil {
		return fmt.Errorf("send: %w", err)
	}

	want := fmt.Sprintf("%d:completed", id)
	for {
		n, err := listener.Conn().WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("waiting for completion: %w", err)
		}
		if n.Payload == want {
			fmt.Println("completed")
			break
		}
	}
	stopWorkers()
	wg.Wait()
	return nil
}

// worker LISTENs for wake-ups, then receives jobs; when the queue is empty it waits for a wake-up,
// polling once a second as the fallback.
func worker(ctx context.Context, pool *pgxpool.Pool, ready chan<- struct{}) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN pgjobq_wake"); err != nil {
		return err
	}
	ready <- struct{}{}
	for {
		var (
			id      int64
			token   string
			payload []byte
		)
		err := conn.QueryRow(ctx, `SELECT id, lease_token::text, payload::text FROM pgjobq.receive('demo')`).Scan(&id, &token, &payload)
		if errors.Is(err, pgx.ErrNoRows) {
			waitCtx, cancel := context.WithTimeout(ctx, time.Second)
			_, err = conn.Conn().WaitForNotification(waitCtx)
			cancel()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			continue
		}
		if err != nil {
			return err
		}
		fmt.Printf("received %s\n", payload)
		time.Sleep(100 * time.Millisecond) // do some work
		fmt.Println("done processing")
		// Ack in a transaction and print before committing: the completion cannot overtake "acked".
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var ok bool
			if err := tx.QueryRow(ctx, `SELECT pgjobq.ack($1, $2::uuid)`, id, token).Scan(&ok); err != nil {
				return err
			}
			if !ok {
				return errors.New("lease lost before ack")
			}
			fmt.Println("acked")
			return nil
		})
		if err != nil {
			return err
		}
	}
}
