package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// System is one job queue under test. Every workload drives the systems through these methods
// only, so each system is measured doing the same thing.
type System interface {
	// Name is the system's column in the results: pgjobq-go, pgjobq-sql, river or plain.
	Name() string
	// Pool is the system's database.
	Pool() *pgxpool.Pool
	// Reset deletes every job and finished job, leaving empty tables.
	Reset(ctx context.Context) error
	// Send sends n jobs in one call (one transaction), due after delay. With n == 1 it returns the
	// job's id (latency is matched by id); with n > 1 the id may be 0 (the fastest batch path of
	// the system need not return ids).
	Send(ctx context.Context, n int, delay time.Duration) (int64, error)
	// Work starts the system's workers with a no-op handler that calls handle with the job id
	// when it starts. stop ends them and returns once they are gone (pending acks flushed).
	Work(ctx context.Context, handle func(id int64)) (stop func(), err error)
	// Remaining counts the jobs not finished yet (scheduled, available, running).
	Remaining(ctx context.Context) (int64, error)
	// Tables are the system's tables, the hot one (live jobs) first.
	Tables() []string
}

// Cycler is a system with a plain-SQL path (workload 7): Cycle sends n jobs in one
// transaction, takes up to n jobs in another and finishes them, and returns how many it finished.
type Cycler interface {
	System
	Cycle(ctx context.Context, n int) (int, error)
}

// base holds what every system has: its pool and tables.
type base struct {
	pool   *pgxpool.Pool
	tables []string
}

func (b *base) Pool() *pgxpool.Pool { return b.pool }
func (b *base) Tables() []string    { return b.tables }

// count runs a count query.
func (b *base) count(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := b.pool.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// settle vacuums and analyzes the system's tables and checkpoints, so that a measured window
// starts from the same state for every system: no garbage left by the previous run, fresh
// planner statistics, and no checkpoint due soon.
func settle(ctx context.Context, s System) error {
	for _, t := range s.Tables() {
		if _, err := s.Pool().Exec(ctx, "VACUUM (ANALYZE) "+t); err != nil {
			return fmt.Errorf("vacuum %s: %w", t, err)
		}
	}
	_, err := s.Pool().Exec(ctx, "CHECKPOINT")
	return err
}

// checkpoints is how many checkpoints the server has done; compared before and after a window
// to warn about one that fell inside it.
func checkpoints(ctx context.Context, pool *pgxpool.Pool) int64 {
	var n int64
	_ = pool.QueryRow(ctx, `SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter`).Scan(&n)
	return n
}

// payload is the job body every system sends: small, like most real job arguments.
type payload struct {
	N int `json:"n"`
}

var payloadJSON = []byte(`{"n": 1}`)

// payloads returns n copies of the payload, JSON-encoded.
func payloads(n int) [][]byte {
	p := make([][]byte, n)
	for i := range p {
		p[i] = payloadJSON
	}
	return p
}
