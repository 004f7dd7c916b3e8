package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// pgjobqTables are pgjobq's tables: live jobs first, then finished ones.
var pgjobqTables = []string{"pgjobq.job", "pgjobq.job_archive"}

// resetPgjobq empties pgjobq's tables and makes queue a fresh queue with default settings.
func resetPgjobq(ctx context.Context, pool *pgxpool.Pool, queue string) error {
	if _, err := pool.Exec(ctx, `TRUNCATE pgjobq.job, pgjobq.job_archive, pgjobq.dead_letter`); err != nil {
		return err
	}
	if err := pgjobq.DropQueue(ctx, pool, queue, true); err != nil && !errors.Is(err, pgjobq.ErrQueueNotFound) {
		return err
	}
	return pgjobq.CreateQueue(ctx, pool, queue, nil)
}

// pgjobqGo is pgjobq through the Go driver: SendBatch to send, a Worker (batched receives,
// batched acks, LISTEN wake-ups) to work.
type pgjobqGo struct {
	base
	client  *pgjobq.Client
	queue   string
	workers int
}

func newPgjobqGo(ctx context.Context, pool *pgxpool.Pool, workers int) (*pgjobqGo, error) {
	s := &pgjobqGo{base: base{pool: pool, tables: pgjobqTables}, queue: "bench_go", workers: workers}
	if err := resetPgjobq(ctx, pool, s.queue); err != nil {
		return nil, err
	}
	client, err := pgjobq.NewClient(ctx, pool, nil)
	if err != nil {
		return nil, err
	}
	s.client = client
	return s, nil
}

func (s *pgjobqGo) Name() string { return "pgjobq-go" }

func (s *pgjobqGo) Close() { s.client.Close() }

func (s *pgjobqGo) Reset(ctx context.Context) error { return resetPgjobq(ctx, s.pool, s.queue) }

func (s *pgjobqGo) Send(ctx context.Context, n int, delay time.Duration) (int64, error) {
	ids, err := pgjobq.SendBatch(ctx, s.pool, s.queue, make([]payload, n), &pgjobq.SendOptions{Delay: delay})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

func (s *pgjobqGo) Work(ctx context.Context, handle func(int64)) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	w := pgjobq.NewWorker(s.client, s.queue, func(ctx context.Context, job *pgjobq.Job[payload]) error {
		handle(job.JobID)
		return nil
	}, &pgjobq.WorkerOptions{Concurrency: s.workers})
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	return func() { cancel(); <-done }, nil
}

func (s *pgjobqGo) Remaining(ctx context.Context) (int64, error) {
	return s.count(ctx, `SELECT count(*) FROM pgjobq.job`)
}

// pgjobqSQL is pgjobq through plain SQL calls, what any language does: pgjobq.send or
// send_batch to send; clients that loop over pgjobq.receive and then pgjobq.ack (one job) or
// pgjobq.ack_many (a batch), each statement its own transaction. Idle clients poll.
type pgjobqSQL struct {
	base
	queue   string
	clients int // connections working
	batch   int // max_jobs per receive
}

func newPgjobqSQL(ctx context.Context, pool *pgxpool.Pool, clients, batch int) (*pgjobqSQL, error) {
	s := &pgjobqSQL{base: base{pool: pool, tables: pgjobqTables}, queue: "bench_sql", clients: clients, batch: batch}
	return s, resetPgjobq(ctx, pool, s.queue)
}

func (s *pgjobqSQL) Name() string { return "pgjobq-sql" }

func (s *pgjobqSQL) Reset(ctx context.Context) error { return resetPgjobq(ctx, s.pool, s.queue) }

func (s *pgjobqSQL) Send(ctx context.Context, n int, delay time.Duration) (int64, error) {
	var d any
	if delay > 0 {
		d = delay
	}
	var id int64
	if n == 1 {
		err := s.pool.QueryRow(ctx, `SELECT pgjobq.send($1, $2::jsonb, delay => $3)`, s.queue, payloadJSON, d).Scan(&id)
		return id, err
	}
	_, err := s.pool.Exec(ctx, `SELECT pgjobq.send_batch($1, $2::jsonb[], delay => $3)`, s.queue, payloads(n), d)
	return 0, err
}

// take receives up to n jobs, calls handle for each and acks them: ack for one, ack_many for
// more. It returns how many it acked.
func (s *pgjobqSQL) take(ctx context.Context, n int, handle func(int64)) (int, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, lease_token FROM pgjobq.receive($1, max_jobs => $2)`, s.queue, n)
	if err != nil {
		return 0, err
	}
	var (
		ids    []int64
		tokens [][16]byte
	)
	for rows.Next() {
		var (
			id    int64
			token [16]byte
		)
		if err := rows.Scan(&id, &token); err != nil {
			rows.Close()
			return 0, err
		}
		handle(id)
		ids, tokens = append(ids, id), append(tokens, token)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	switch len(ids) {
	case 0:
		return 0, nil
	case 1:
		// Our leases are never stale here, so the result (true) is not read.
		if _, err := s.pool.Exec(ctx, `SELECT pgjobq.ack($1, $2)`, ids[0], tokens[0]); err != nil {
			return 0, err
		}
		return 1, nil
	}
	// Lock the jobs in id order, like the Go driver, so concurrent ack_many never deadlock;
	// receive returns them in id order already (one priority).
	tag, err := s.pool.Exec(ctx, `SELECT pgjobq.ack_many($1, $2)`, ids, tokens)
	return int(tag.RowsAffected()), err
}

func (s *pgjobqSQL) Work(ctx context.Context, handle func(int64)) (func(), error) {
	return pollWorkers(ctx, s.clients, func(ctx context.Context) (int, error) {
		return s.take(ctx, s.batch, handle)
	}), nil
}

func (s *pgjobqSQL) Cycle(ctx context.Context, n int) (int, error) {
	if _, err := s.Send(ctx, n, 0); err != nil {
		return 0, err
	}
	return s.take(ctx, n, func(int64) {})
}

func (s *pgjobqSQL) Remaining(ctx context.Context) (int64, error) {
	return s.count(ctx, `SELECT count(*) FROM pgjobq.job`)
}

// pollWorkers runs clients loops of take until stop; a loop that took nothing sleeps a little
// (the SQL-path and plain workers do not LISTEN).
func pollWorkers(ctx context.Context, clients int, take func(context.Context) (int, error)) func() {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				// Not cancelled mid-statement: a receive cut off could lease jobs nobody acks.
				n, err := take(context.WithoutCancel(ctx))
				if err != nil && !errors.Is(err, pgx.ErrNoRows) {
					progress("worker error: %v", err)
				}
				if n == 0 {
					select {
					case <-ctx.Done():
					case <-time.After(pollInterval):
					}
				}
			}
		})
	}
	return func() { cancel(); wg.Wait() }
}

// pollInterval is how long an idle SQL-path or plain worker waits before it looks again.
const pollInterval = 5 * time.Millisecond
