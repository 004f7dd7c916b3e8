package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// load sends n jobs due after delay in batches, from two connections, showing progress.
func load(ctx context.Context, s System, n int, delay time.Duration) error {
	if n == 0 {
		return nil
	}
	const batch = 5000
	var claimed, sent atomic.Int64
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				from := claimed.Add(batch) - batch
				if from >= int64(n) {
					return
				}
				k := int(min(batch, int64(n)-from))
				if _, err := s.Send(ctx, k, delay); err != nil {
					errs <- err
					return
				}
				sent.Add(int64(k))
			}
		})
	}
	stop := ticker(func(el time.Duration) {
		progress("  %s: loading %d/%d jobs (%.0f/s)", s.Name(), sent.Load(), n, float64(sent.Load())/el.Seconds())
	})
	wg.Wait()
	stop()
	select {
	case err := <-errs:
		return fmt.Errorf("%s: load: %w", s.Name(), err)
	default:
		return nil
	}
}

// ticker calls f every 2 s with the time since it started, until the returned stop is called.
func ticker(f func(elapsed time.Duration)) (stop func()) {
	start := time.Now()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				f(time.Since(start))
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// waitCount waits until c reaches target, showing progress; it fails after timeout.
func waitCount(ctx context.Context, label string, c *atomic.Int64, target int64, timeout time.Duration) error {
	stop := ticker(func(el time.Duration) {
		progress("  %s: %d/%d jobs (%.0f/s)", label, c.Load(), target, float64(c.Load())/el.Seconds())
	})
	defer stop()
	deadline := time.Now().Add(timeout)
	for c.Load() < target {
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: only %d of %d jobs after %s", label, c.Load(), target, timeout)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// waitDrained waits until s has no unfinished job left (acks committed).
func waitDrained(ctx context.Context, s System, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		n, err := s.Remaining(ctx)
		if err != nil || n == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %d jobs left after %s", s.Name(), n, timeout)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sleepProgress sleeps d, showing c's rate every 2 s.
func sleepProgress(ctx context.Context, label string, c *atomic.Int64, d time.Duration) {
	c0 := c.Load()
	stop := ticker(func(el time.Duration) {
		progress("  %s: %.0f jobs/s", label, float64(c.Load()-c0)/el.Seconds())
	})
	defer stop()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// window measures the rate at which c grows over d, warns when a checkpoint fell inside the
// window, and resets pg_stat_statements before it and prints the top statements after it when
// the runner profiles.
func (r *runner) window(ctx context.Context, label string, c *atomic.Int64, d time.Duration) float64 {
	r.pgssReset(ctx)
	ck := checkpoints(ctx, r.admin)
	c0, t0 := c.Load(), time.Now()
	sleepProgress(ctx, label, c, d)
	rate := float64(c.Load()-c0) / time.Since(t0).Seconds()
	r.afterWindow(ctx, label, ck)
	return rate
}

func (r *runner) afterWindow(ctx context.Context, label string, ck int64) {
	if n := checkpoints(ctx, r.admin); n != ck {
		progress("  WARNING %s: %d checkpoint(s) during the measured window", label, n-ck)
	}
	r.pgssReport(ctx, label)
}

// burnDown (workload 1) loads n jobs, then works them with no-op handlers until none is left
// (acks committed), and returns jobs/s.
func (r *runner) burnDown(ctx context.Context, s System, n int) (float64, error) {
	if err := s.Reset(ctx); err != nil {
		return 0, err
	}
	if err := load(ctx, s, n, 0); err != nil {
		return 0, err
	}
	if err := settle(ctx, s); err != nil {
		return 0, err
	}
	r.pgssReset(ctx)
	ck := checkpoints(ctx, r.admin)
	var done atomic.Int64
	start := time.Now()
	stop, err := s.Work(ctx, func(int64) { done.Add(1) })
	if err != nil {
		return 0, err
	}
	err = waitCount(ctx, s.Name()+" burn-down", &done, int64(n), 10*time.Minute)
	if err == nil {
		err = waitDrained(ctx, s, time.Minute)
	}
	elapsed := time.Since(start)
	stop()
	r.afterWindow(ctx, s.Name()+" burn-down", ck)
	if err != nil {
		return 0, err
	}
	if got := done.Load(); got != int64(n) {
		progress("  WARNING %s: %d handler calls for %d jobs", s.Name(), got, n)
	}
	return float64(n) / elapsed.Seconds(), nil
}

// steady (workload 2) runs producers and workers together: producers send batches as fast as
// they can while fewer than backlogCap jobs wait, and the rate of handled jobs is measured
// over the window after a warm-up.
func (r *runner) steady(ctx context.Context, s System) (float64, error) {
	p := r.p
	if err := s.Reset(ctx); err != nil {
		return 0, err
	}
	if err := settle(ctx, s); err != nil {
		return 0, err
	}
	var done, sent atomic.Int64
	stop, err := s.Work(ctx, func(int64) { done.Add(1) })
	if err != nil {
		return 0, err
	}
	prodCtx, stopProducers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var prodErr atomic.Value
	for range p.SteadyProducers {
		wg.Go(func() {
			for prodCtx.Err() == nil {
				if sent.Load()-done.Load() > int64(p.SteadyBacklog) {
					time.Sleep(time.Millisecond)
					continue
				}
				if _, err := s.Send(context.WithoutCancel(prodCtx), p.SteadyBatch, 0); err != nil {
					prodErr.Store(err)
					return
				}
				sent.Add(int64(p.SteadyBatch))
			}
		})
	}
	sleepProgress(ctx, s.Name()+" steady warm-up", &done, p.SteadyWarmup)
	rate := r.window(ctx, s.Name()+" steady", &done, p.SteadyWindow)
	stopProducers()
	wg.Wait()
	stop()
	if err, ok := prodErr.Load().(error); ok {
		return 0, err
	}
	return rate, nil
}

// bulk (workload 4) sends n jobs in batches of batch from producers connections, into an empty
// queue with no worker, and returns jobs/s.
func (r *runner) bulk(ctx context.Context, s System) (float64, error) {
	p := r.p
	if err := s.Reset(ctx); err != nil {
		return 0, err
	}
	if err := settle(ctx, s); err != nil {
		return 0, err
	}
	r.pgssReset(ctx)
	ck := checkpoints(ctx, r.admin)
	var claimed, sent atomic.Int64
	var prodErr atomic.Value
	start := time.Now()
	stopTicker := ticker(func(el time.Duration) {
		progress("  %s bulk send: %d/%d (%.0f/s)", s.Name(), sent.Load(), p.BulkJobs, float64(sent.Load())/el.Seconds())
	})
	var wg sync.WaitGroup
	for range p.BulkProducers {
		wg.Go(func() {
			for {
				from := claimed.Add(int64(p.BulkBatch)) - int64(p.BulkBatch)
				if from >= int64(p.BulkJobs) {
					return
				}
				k := int(min(int64(p.BulkBatch), int64(p.BulkJobs)-from))
				if _, err := s.Send(ctx, k, 0); err != nil {
					prodErr.Store(err)
					return
				}
				sent.Add(int64(k))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopTicker()
	r.afterWindow(ctx, s.Name()+" bulk send", ck)
	if err, ok := prodErr.Load().(error); ok {
		return 0, err
	}
	return float64(p.BulkJobs) / elapsed.Seconds(), nil
}

// sqlPath (workload 7) runs clients connections, each repeating: send n jobs (one
// transaction), take up to n (one transaction), finish them (the ack's transaction for
// pgjobq; the plain queue's take already deleted them). It returns jobs finished per second.
func (r *runner) sqlPath(ctx context.Context, s Cycler, n int) (float64, error) {
	p := r.p
	if err := s.Reset(ctx); err != nil {
		return 0, err
	}
	if err := settle(ctx, s); err != nil {
		return 0, err
	}
	var done atomic.Int64
	var cycleErr atomic.Value
	loopCtx, stopLoops := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range p.Clients {
		wg.Go(func() {
			for loopCtx.Err() == nil {
				k, err := s.Cycle(context.WithoutCancel(loopCtx), n)
				if err != nil {
					cycleErr.Store(err)
					return
				}
				done.Add(int64(k))
			}
		})
	}
	label := fmt.Sprintf("%s SQL path, %d per transaction", s.Name(), n)
	sleepProgress(ctx, label+" warm-up", &done, p.SQLWarmup)
	rate := r.window(ctx, label, &done, p.SQLWindow)
	stopLoops()
	wg.Wait()
	if err, ok := cycleErr.Load().(error); ok {
		return 0, err
	}
	return rate, nil
}
