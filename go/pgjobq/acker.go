package pgjobq

import (
	"context"
	"sync"
	"time"
)

// acker acks completed jobs in batches: a job waits at most delay for others to share its
// ack_many statement. With a negative delay every job is acked on its own.
type acker struct {
	ctx   context.Context
	c     *Client
	delay time.Duration

	mu      sync.Mutex
	pending []Lease
	timer   *time.Timer
	wg      sync.WaitGroup
}

const maxAckBatch = 1000

func newAcker(ctx context.Context, c *Client, delay time.Duration) *acker {
	return &acker{ctx: ctx, c: c, delay: delay}
}

func (a *acker) add(l Lease) {
	if a.delay < 0 {
		a.flush([]Lease{l})
		return
	}
	a.mu.Lock()
	a.pending = append(a.pending, l)
	var batch []Lease
	if len(a.pending) >= maxAckBatch {
		batch, a.pending = a.pending, nil
	} else if a.timer == nil {
		a.wg.Add(1)
		a.timer = time.AfterFunc(a.delay, func() {
			defer a.wg.Done()
			a.mu.Lock()
			batch := a.pending
			a.pending, a.timer = nil, nil
			a.mu.Unlock()
			a.flush(batch)
		})
	}
	a.mu.Unlock()
	if batch != nil {
		a.flush(batch)
	}
}

func (a *acker) flush(batch []Lease) {
	if len(batch) == 0 {
		return
	}
	// Leases lost meanwhile are left out by ack_many: those jobs were delivered again. A failed
	// statement is tried once more: a completed job left unacked would run again.
	if _, err := AckMany(a.ctx, a.c.db, batch); err != nil {
		if _, err := AckMany(a.ctx, a.c.db, batch); err != nil {
			a.c.cfg.Logger.Error("pgjobq: worker ack", "jobs", len(batch), "error", err)
		}
	}
}

// close acks what is pending and waits for flushes in flight.
func (a *acker) close() {
	a.mu.Lock()
	batch := a.pending
	a.pending = nil
	if a.timer != nil && a.timer.Stop() {
		a.wg.Done()
	}
	a.timer = nil
	a.mu.Unlock()
	a.flush(batch)
	a.wg.Wait()
}
