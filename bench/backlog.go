package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// backlogVariant is one state of the queue in workload 5: how many jobs wait, and whether they
// are ready or scheduled in the future.
type backlogVariant struct {
	size   int
	future bool
}

func (v backlogVariant) String() string {
	if v.future {
		return "future=" + short(v.size)
	}
	return "ready=" + short(v.size)
}

// short writes 100000 as 100k and 1000000 as 1M.
func short(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// backlog (workload 5) measures the receive rate with v.size jobs waiting: the backlog is
// loaded once, then each run sends work more ready jobs, settles (vacuum, analyze,
// checkpoint), and times the workers handling work jobs; handled jobs are replaced so the
// backlog stays at v.size. It returns jobs/s per run.
func (r *runner) backlog(ctx context.Context, s System, v backlogVariant, work, runs int) ([]float64, error) {
	if err := s.Reset(ctx); err != nil {
		return nil, err
	}
	var delay time.Duration
	if v.future {
		delay = 24 * time.Hour
	}
	if err := load(ctx, s, v.size, delay); err != nil {
		return nil, err
	}
	var rates []float64
	topUp := 0
	for run := range runs {
		if err := load(ctx, s, work+topUp, 0); err != nil {
			return nil, err
		}
		if err := settle(ctx, s); err != nil {
			return nil, err
		}
		r.pgssReset(ctx)
		ck := checkpoints(ctx, r.admin)
		var done atomic.Int64
		start := time.Now()
		stop, err := s.Work(ctx, func(int64) { done.Add(1) })
		if err != nil {
			return nil, err
		}
		label := fmt.Sprintf("%s backlog %s run %d", s.Name(), v, run+1)
		err = waitCount(ctx, label, &done, int64(work), 5*time.Minute)
		elapsed := time.Since(start)
		stop()
		r.afterWindow(ctx, label, ck)
		if err != nil {
			return nil, err
		}
		rates = append(rates, float64(work)/elapsed.Seconds())
		progress("  %s: %.0f jobs/s", label, rates[len(rates)-1])
		// Workers that went on past work took jobs of a ready backlog: put as many back.
		topUp = int(done.Load()) - work
	}
	return rates, nil
}

// soakSample is one point of the soak's time series.
type soakSample struct {
	at       time.Duration
	rate     float64 // jobs handled per second over the last interval
	hotDead  int64   // n_dead_tup of the hot table
	hotLive  int64   // n_live_tup of the hot table
	hotBytes int64   // pg_total_relation_size of the hot table (with indexes and TOAST)
	allBytes int64   // the same over all the system's tables
	backlog  int64   // jobs sent but not handled yet
}

// soak (workload 6) sends at rate jobs/s (batches every 20 ms from two connections) with the
// workers running for d, and samples the handled rate, dead tuples and table sizes every
// interval.
func (r *runner) soak(ctx context.Context, s System, rate float64, d, interval time.Duration) ([]soakSample, error) {
	if err := s.Reset(ctx); err != nil {
		return nil, err
	}
	if err := settle(ctx, s); err != nil {
		return nil, err
	}
	var done, sent atomic.Int64
	stop, err := s.Work(ctx, func(int64) { done.Add(1) })
	if err != nil {
		return nil, err
	}
	defer stop()
	prodCtx, stopProducers := context.WithCancel(ctx)
	defer stopProducers()
	var wg sync.WaitGroup
	var prodErr atomic.Value
	const producers, tick = 2, 20 * time.Millisecond
	start := time.Now()
	for range producers {
		wg.Go(func() {
			// Each producer owes rate/producers jobs per second since start; it sends what it owes.
			var mine int64
			for prodCtx.Err() == nil {
				owed := int64(rate/producers*time.Since(start).Seconds()) - mine
				if owed <= 0 {
					time.Sleep(tick)
					continue
				}
				k := int(min(owed, 5000))
				if _, err := s.Send(context.WithoutCancel(prodCtx), k, 0); err != nil {
					prodErr.Store(err)
					return
				}
				mine += int64(k)
				sent.Add(int64(k))
				time.Sleep(tick)
			}
		})
	}
	var samples []soakSample
	last, lastAt := done.Load(), time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	for time.Since(start) < d {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		if err, ok := prodErr.Load().(error); ok {
			return nil, err
		}
		now, n := time.Now(), done.Load()
		smp, err := tableStats(ctx, s)
		if err != nil {
			return nil, err
		}
		smp.at = time.Since(start).Round(time.Second)
		smp.rate = float64(n-last) / now.Sub(lastAt).Seconds()
		smp.backlog = sent.Load() - n
		last, lastAt = n, now
		samples = append(samples, smp)
		progress("  %s soak %s: %.0f jobs/s, backlog %d, hot table %d dead / %d live tuples, %.1f MB; all tables %.1f MB",
			s.Name(), smp.at, smp.rate, smp.backlog, smp.hotDead, smp.hotLive, mb(smp.hotBytes), mb(smp.allBytes))
	}
	stopProducers()
	wg.Wait()
	return samples, nil
}

// tableStats reads dead tuples and sizes of the system's tables.
func tableStats(ctx context.Context, s System) (soakSample, error) {
	var smp soakSample
	tables := s.Tables()
	err := s.Pool().QueryRow(ctx, `SELECT coalesce(n_dead_tup, 0), coalesce(n_live_tup, 0),
		pg_total_relation_size($1::regclass),
		(SELECT sum(pg_total_relation_size(t::regclass))::bigint FROM unnest($2::text[]) AS t)
		FROM (SELECT $1::regclass AS relid) AS r LEFT JOIN pg_stat_user_tables AS st USING (relid)`,
		tables[0], tables).Scan(&smp.hotDead, &smp.hotLive, &smp.hotBytes, &smp.allBytes)
	return smp, err
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }
