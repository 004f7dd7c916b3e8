package main

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// riverArgs are the arguments of River's benchmark job: the same small payload as the others.
type riverArgs struct {
	N int `json:"n"`
}

func (riverArgs) Kind() string { return "bench" }

// riverWorker is the no-op handler; handle is swapped per run.
type riverWorker struct {
	river.WorkerDefaults[riverArgs]
	handle atomic.Pointer[func(int64)]
}

func (w *riverWorker) Work(ctx context.Context, job *river.Job[riverArgs]) error {
	if h := w.handle.Load(); h != nil {
		(*h)(job.ID)
	}
	return nil
}

// riverSystem is River with its pgx v5 driver, configured as River's own benchmark tunes it for
// throughput (fetch cooldown 2 ms, fetch poll 20 ms), with as many workers as pgjobq's Worker.
type riverSystem struct {
	base
	workers  int
	worker   *riverWorker
	registry *river.Workers
	inserter *river.Client[pgx.Tx] // never started: inserts only
	logger   *slog.Logger
}

func newRiver(ctx context.Context, pool *pgxpool.Pool, workers int) (*riverSystem, error) {
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, err
	}
	s := &riverSystem{
		base:     base{pool: pool, tables: []string{"river_job"}},
		workers:  workers,
		worker:   &riverWorker{},
		registry: river.NewWorkers(),
		// River logs every start and stop at info level: keep warnings and errors only.
		logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	river.AddWorker(s.registry, s.worker)
	s.inserter, err = river.NewClient(riverpgxv5.New(pool), &river.Config{Workers: s.registry, Logger: s.logger})
	if err != nil {
		return nil, err
	}
	return s, s.Reset(ctx)
}

func (s *riverSystem) Name() string { return "river" }

func (s *riverSystem) Reset(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `TRUNCATE river_job`)
	return err
}

func (s *riverSystem) Send(ctx context.Context, n int, delay time.Duration) (int64, error) {
	var opts *river.InsertOpts
	if delay > 0 {
		opts = &river.InsertOpts{ScheduledAt: time.Now().Add(delay)}
	}
	if n == 1 {
		res, err := s.inserter.Insert(ctx, riverArgs{}, opts)
		if err != nil {
			return 0, err
		}
		return res.Job.ID, nil
	}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		params[i] = river.InsertManyParams{Args: riverArgs{}, InsertOpts: opts}
	}
	// River's fastest bulk insert (COPY), which returns no rows.
	_, err := s.inserter.InsertManyFast(ctx, params)
	return 0, err
}

func (s *riverSystem) Work(ctx context.Context, handle func(int64)) (func(), error) {
	s.worker.handle.Store(&handle)
	client, err := river.NewClient(riverpgxv5.New(s.pool), &river.Config{
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Logger:            s.logger,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.workers}},
		Workers:           s.registry,
	})
	if err != nil {
		return nil, err
	}
	if err := client.Start(ctx); err != nil {
		return nil, err
	}
	return func() {
		if err := client.Stop(context.WithoutCancel(ctx)); err != nil {
			progress("river stop: %v", err)
		}
		s.worker.handle.Store(nil)
	}, nil
}

func (s *riverSystem) Remaining(ctx context.Context) (int64, error) {
	return s.count(ctx, `SELECT count(*) FROM river_job
		WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`)
}
