package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// tinyParams make every workload a fraction of a second.
var tinyParams = params{
	Runs: 1, Workers: 20, Clients: 3, Batch: 10,
	BurnJobs:        500,
	SteadyProducers: 2, SteadyBatch: 10, SteadyBacklog: 200,
	SteadyWarmup: 100 * time.Millisecond, SteadyWindow: 300 * time.Millisecond,
	LatencyIdle: 200 * time.Millisecond, LatencyWindow: 300 * time.Millisecond,
	LatencyLowRate: 50, LatencyLoadRate: 200, LatencyLoadProd: 2,
	BulkJobs: 1000, BulkBatch: 100, BulkProducers: 2,
	BacklogSizes: []int{0, 300}, BacklogWork: 200,
	SoakDuration: 600 * time.Millisecond, SoakInterval: 200 * time.Millisecond, SoakRuns: 1,
	SQLBatch: 10, SQLWarmup: 100 * time.Millisecond, SQLWindow: 200 * time.Millisecond,
}

// counted wraps a system and records how often each job's handler started.
type counted struct {
	System
	mu   sync.Mutex
	seen map[int64]int
}

func (c *counted) Work(ctx context.Context, handle func(int64)) (func(), error) {
	return c.System.Work(ctx, func(id int64) {
		c.mu.Lock()
		c.seen[id]++
		c.mu.Unlock()
		handle(id)
	})
}

// handled returns how many distinct jobs were handled and the ids handled more than once, and
// forgets them.
func (c *counted) handled() (int, []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var twice []int64
	for id, n := range c.seen {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	n := len(c.seen)
	c.seen = map[int64]int{}
	return n, twice
}

// countedCycler keeps the Cycle method of a wrapped Cycler.
type countedCycler struct {
	*counted
	cycle func(context.Context, int) (int, error)
}

func (c countedCycler) Cycle(ctx context.Context, n int) (int, error) { return c.cycle(ctx, n) }

// setupTest makes the bench's databases with a prefix of its own on the server of
// PGJOBQ_BENCH_DATABASE_URL (or PGJOBQ_TEST_DATABASE_URL) and drops them after the test.
func setupTest(t *testing.T) *runner {
	t.Helper()
	url := os.Getenv("PGJOBQ_BENCH_DATABASE_URL")
	if url == "" {
		url = os.Getenv("PGJOBQ_TEST_DATABASE_URL")
	}
	if url == "" {
		t.Skip("set PGJOBQ_BENCH_DATABASE_URL (or PGJOBQ_TEST_DATABASE_URL) to a superuser URL of a server " +
			"with pgjobq installed; the test creates and drops databases benchtest_<pid>_*")
	}
	ctx := context.Background()
	prefix := fmt.Sprintf("benchtest_%d", os.Getpid())
	e, err := setup(ctx, url, prefix, tinyParams, allSystems)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.close()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(ctx)
		for _, db := range []string{"_pgjobq", "_river", "_plain"} {
			if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{prefix + db}.Sanitize()+" WITH (FORCE)"); err != nil {
				t.Error(err)
			}
		}
	})
	for i, s := range e.systems {
		c := &counted{System: s, seen: map[int64]int{}}
		if cy, ok := s.(Cycler); ok {
			e.systems[i] = countedCycler{counted: c, cycle: cy.Cycle}
		} else {
			e.systems[i] = c
		}
	}
	return &runner{p: tinyParams, res: &Results{}, env: e, admin: e.admin}
}

// TestWorkloads runs every workload of every system in miniature: each completes, and no job is
// handled twice; a burn-down handles every job.
func TestWorkloads(t *testing.T) {
	r := setupTest(t)
	ctx := context.Background()
	seen := func(s System) *counted {
		switch c := s.(type) {
		case *counted:
			return c
		case countedCycler:
			return c.counted
		}
		t.Fatalf("%s is not counted", s.Name())
		return nil
	}
	noneTwice := func(t *testing.T, s System) int {
		t.Helper()
		n, twice := seen(s).handled()
		if len(twice) > 0 {
			t.Errorf("%s handled jobs %v more than once", s.Name(), twice)
		}
		return n
	}
	for _, s := range r.env.systems {
		t.Run(s.Name(), func(t *testing.T) {
			t.Run("BurnDown", func(t *testing.T) {
				rate, err := r.burnDown(ctx, s, r.p.BurnJobs)
				if err != nil || rate <= 0 {
					t.Fatalf("rate %v, error %v", rate, err)
				}
				if n := noneTwice(t, s); n != r.p.BurnJobs {
					t.Errorf("handled %d distinct jobs of %d", n, r.p.BurnJobs)
				}
			})
			t.Run("Steady", func(t *testing.T) {
				if rate, err := r.steady(ctx, s); err != nil || rate <= 0 {
					t.Fatalf("rate %v, error %v", rate, err)
				}
				noneTwice(t, s)
			})
			t.Run("Bulk", func(t *testing.T) {
				if rate, err := r.bulk(ctx, s); err != nil || rate <= 0 {
					t.Fatalf("rate %v, error %v", rate, err)
				}
				if n, err := s.Remaining(ctx); err != nil || n != int64(r.p.BulkJobs) {
					t.Fatalf("%d jobs waiting after sending %d (error %v)", n, r.p.BulkJobs, err)
				}
			})
			t.Run("Backlog", func(t *testing.T) {
				rates, err := r.backlog(ctx, s, backlogVariant{size: 300}, r.p.BacklogWork, 2)
				if err != nil || len(rates) != 2 {
					t.Fatalf("rates %v, error %v", rates, err)
				}
				noneTwice(t, s)
				if n, err := s.Remaining(ctx); err != nil || n == 0 || n > 300+int64(r.p.BacklogWork) {
					t.Fatalf("%d jobs waiting after the backlog runs, want about the backlog of 300 (error %v)", n, err)
				}
			})
			t.Run("Soak", func(t *testing.T) {
				samples, err := r.soak(ctx, s, 500, r.p.SoakDuration, r.p.SoakInterval)
				if err != nil || len(samples) == 0 {
					t.Fatalf("%d samples, error %v", len(samples), err)
				}
				noneTwice(t, s)
			})
			if s.Name() == "pgjobq-go" || s.Name() == "river" {
				t.Run("Latency", func(t *testing.T) {
					l, err := r.latency(ctx, s, r.p.LatencyLoadRate, r.p.LatencyLoadProd)
					if err != nil || len(l.wake) == 0 || l.missing > 0 {
						t.Fatalf("%+v, error %v", l, err)
					}
					noneTwice(t, s)
				})
			}
			if c, ok := s.(Cycler); ok {
				t.Run("SQLPath", func(t *testing.T) {
					for _, n := range []int{1, r.p.SQLBatch} {
						if rate, err := r.sqlPath(ctx, c, n); err != nil || rate <= 0 {
							t.Fatalf("%d per transaction: rate %v, error %v", n, rate, err)
						}
					}
				})
			}
		})
	}
}

// TestReport checks medians, ratios and the table's shape.
func TestReport(t *testing.T) {
	rs := &Results{}
	rs.Add(wBurn, "x", "pgjobq-go", "jobs/s", 30, 10, 20)
	rs.Add(wBurn, "x", "river", "jobs/s", 10)
	rs.Add(wBurn, "x", "plain", "jobs/s", 40)
	rows := rs.rows()
	if len(rows) != 3 || rows[0].med != 20 || rows[0].vsRiver != 2 || rows[0].vsCap != 0.5 {
		t.Fatalf("rows %+v", rows)
	}
	if got := percentile([]float64{5, 1, 4, 2, 3}, 0.99); got != 5 {
		t.Errorf("p99 %v", got)
	}
	if got := percentile([]float64{5, 1, 4, 2, 3}, 0.5); got != 3 {
		t.Errorf("p50 %v", got)
	}
}
