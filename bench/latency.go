package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// latencies are the measured delays of one latency run, in milliseconds.
type latencies struct {
	wake    []float64 // send committed (the send call returned) to handler start
	e2e     []float64 // send call started to handler start
	missing int       // jobs sent but not started within the grace period
}

// latency (workload 3) sends one job per transaction at rate jobs/s in total from producers
// connections for the window, with the workers started (and idle) beforehand, and measures for
// each job the delay from its send to its handler's start. Ids match sends to starts; all
// times come from this process's monotonic clock.
func (r *runner) latency(ctx context.Context, s System, rate float64, producers int) (*latencies, error) {
	p := r.p
	if err := s.Reset(ctx); err != nil {
		return nil, err
	}
	if err := settle(ctx, s); err != nil {
		return nil, err
	}
	var (
		mu      sync.Mutex
		started = map[int64]time.Time{}
		nStart  atomic.Int64
		nSent   atomic.Int64
	)
	stop, err := s.Work(ctx, func(id int64) {
		t := time.Now()
		mu.Lock()
		started[id] = t
		mu.Unlock()
		nStart.Add(1)
	})
	if err != nil {
		return nil, err
	}
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	// Let the workers find the queue empty and go to sleep on their wake-up path.
	time.Sleep(p.LatencyIdle)

	type sendTimes struct {
		id     int64
		t0, t1 time.Time
	}
	var (
		smu   sync.Mutex
		sends []sendTimes
		sErr  atomic.Value
		wg    sync.WaitGroup
	)
	r.pgssReset(ctx)
	ck := checkpoints(ctx, r.admin)
	end := time.Now().Add(p.LatencyWindow)
	interval := time.Duration(float64(time.Second) * float64(producers) / rate)
	stopTicker := ticker(func(time.Duration) {
		progress("  %s latency at %.0f/s: %d sent, %d started", s.Name(), rate, nSent.Load(), nStart.Load())
	})
	for i := range producers {
		wg.Go(func() {
			// Producers start spread over one interval, then each sends on its own clock.
			next := time.Now().Add(interval * time.Duration(i) / time.Duration(producers))
			for next.Before(end) {
				time.Sleep(time.Until(next))
				t0 := time.Now()
				id, err := s.Send(ctx, 1, 0)
				t1 := time.Now()
				if err != nil {
					sErr.Store(err)
					return
				}
				smu.Lock()
				sends = append(sends, sendTimes{id, t0, t1})
				smu.Unlock()
				nSent.Add(1)
				next = next.Add(interval)
				if next.Before(t1) { // fell behind: skip the missed slots, do not burst
					next = t1
				}
			}
		})
	}
	wg.Wait()
	// Give the last jobs time to start.
	for grace := time.Now().Add(5 * time.Second); time.Now().Before(grace) && nStart.Load() < nSent.Load(); {
		time.Sleep(time.Millisecond)
	}
	stopTicker()
	stop()
	stop = nil
	r.afterWindow(ctx, s.Name()+" latency", ck)
	if err, ok := sErr.Load().(error); ok {
		return nil, err
	}
	l := &latencies{}
	for _, snd := range sends {
		t2, ok := started[snd.id]
		if !ok {
			l.missing++
			continue
		}
		// A handler can start before the sender has read its commit's reply: that counts as 0.
		l.wake = append(l.wake, max(0, ms(t2.Sub(snd.t1))))
		l.e2e = append(l.e2e, ms(t2.Sub(snd.t0)))
	}
	if l.missing > 0 {
		progress("  WARNING %s: %d of %d jobs did not start within 5 s of the last send", s.Name(), l.missing, len(sends))
	}
	return l, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
