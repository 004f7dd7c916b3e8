package main

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// plainQueue is the machine's ceiling: the smallest queue PostgreSQL can run. One table; a
// send is an INSERT; a worker takes jobs with one statement that deletes them,
//
//	DELETE FROM plain_job WHERE id IN
//	  (SELECT id FROM plain_job ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED) RETURNING id
//
// so a job costs two commits (insert, delete) and is delivered at most once: no lease, no
// retry, no history, no scheduling. Default table settings.
type plainQueue struct {
	base
	clients int
	batch   int
}

func newPlain(ctx context.Context, pool *pgxpool.Pool, clients, batch int) (*plainQueue, error) {
	s := &plainQueue{base: base{pool: pool, tables: []string{"plain_job"}}, clients: clients, batch: batch}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS plain_job (
		id      bigserial PRIMARY KEY,
		payload jsonb NOT NULL)`); err != nil {
		return nil, err
	}
	return s, s.Reset(ctx)
}

func (s *plainQueue) Name() string { return "plain" }

func (s *plainQueue) Reset(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `TRUNCATE plain_job`)
	return err
}

var errNoDelay = errors.New("the plain queue has no delayed jobs")

func (s *plainQueue) Send(ctx context.Context, n int, delay time.Duration) (int64, error) {
	if delay > 0 {
		return 0, errNoDelay
	}
	var id int64
	if n == 1 {
		err := s.pool.QueryRow(ctx, `INSERT INTO plain_job (payload) VALUES ($1) RETURNING id`, payloadJSON).Scan(&id)
		return id, err
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO plain_job (payload) SELECT p FROM unnest($1::jsonb[]) AS p`, payloads(n))
	return 0, err
}

// take deletes up to n jobs and calls handle for each.
func (s *plainQueue) take(ctx context.Context, n int, handle func(int64)) (int, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM plain_job WHERE id IN
		(SELECT id FROM plain_job ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id`, n)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return got, err
		}
		handle(id)
		got++
	}
	return got, rows.Err()
}

func (s *plainQueue) Work(ctx context.Context, handle func(int64)) (func(), error) {
	return pollWorkers(ctx, s.clients, func(ctx context.Context) (int, error) {
		return s.take(ctx, s.batch, handle)
	}), nil
}

func (s *plainQueue) Cycle(ctx context.Context, n int) (int, error) {
	if _, err := s.Send(ctx, n, 0); err != nil {
		return 0, err
	}
	return s.take(ctx, n, func(int64) {})
}

func (s *plainQueue) Remaining(ctx context.Context) (int64, error) {
	return s.count(ctx, `SELECT count(*) FROM plain_job`)
}
