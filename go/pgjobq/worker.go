package pgjobq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Handler works one job. Returning nil acks it; an error nacks it with the error's text (retried
// after the queue's backoff, or dead-lettered after its last attempt); a panic counts as an
// error. ctx is cancelled when the job is cancelled (pgjobq.cancel; context.Cause is then
// [ErrCancelled], and the job ends cancelled whatever the handler returns), when its lease is
// lost, or when the worker's shutdown deadline passes.
type Handler[T any] func(ctx context.Context, job *Job[T]) error

// WorkerOptions configure a [Worker]. The zero value is useful.
type WorkerOptions struct {
	// Concurrency is how many handlers run at once. Default 10.
	Concurrency int
	// BatchSize is how many jobs one receive may lease, at most Concurrency. Default Concurrency.
	BatchSize int
	// LeaseDuration is the lease taken on each job; running jobs are extended every third of it.
	// Default 30s.
	LeaseDuration time.Duration
	// Filter receives only jobs whose attributes contain it.
	Filter map[string]any
	// ShutdownTimeout is how long running handlers may go on after Run's context ends before
	// their contexts are cancelled. Default 10s.
	ShutdownTimeout time.Duration
	// AckDelay is how long a completed job may wait to be acked together with others in one
	// statement. Default 2ms; negative acks each job on its own. A job completed but not yet
	// acked when the process dies is delivered again (at least once).
	AckDelay time.Duration
}

// Worker works one queue with a handler: it receives in batches up to its concurrency, runs the
// handler of each job, extends the leases of running jobs, and acks or nacks them.
type Worker[T any] struct {
	c       *Client
	queue   string
	handler Handler[T]
	opts    WorkerOptions

	mu      sync.Mutex
	running map[Lease]context.CancelCauseFunc // by delivery: a job may come back to this worker
	// settled is poked when a handler's job is settled: an idle loop then looks again (a nacked
	// job may come due sooner than the lease it slept on).
	settled chan struct{}
}

// NewWorker returns a worker of queue on client c. Start it with [Worker.Run].
func NewWorker[T any](c *Client, queue string, handler Handler[T], opts *WorkerOptions) *Worker[T] {
	w := &Worker[T]{c: c, queue: queue, handler: handler, running: map[Lease]context.CancelCauseFunc{},
		settled: make(chan struct{}, 1)}
	if opts != nil {
		w.opts = *opts
	}
	if w.opts.Concurrency <= 0 {
		w.opts.Concurrency = 10
	}
	if w.opts.BatchSize <= 0 || w.opts.BatchSize > w.opts.Concurrency {
		w.opts.BatchSize = w.opts.Concurrency
	}
	if w.opts.LeaseDuration <= 0 {
		w.opts.LeaseDuration = 30 * time.Second
	}
	if w.opts.ShutdownTimeout <= 0 {
		w.opts.ShutdownTimeout = 10 * time.Second
	}
	if w.opts.AckDelay == 0 {
		w.opts.AckDelay = 2 * time.Millisecond
	}
	return w
}

var (
	errLeaseLost = fmt.Errorf("%w: the job's lease was lost", ErrLeaseLost)
	errCancelled = fmt.Errorf("%w: the job was cancelled while it ran", ErrCancelled)
	errShutdown  = errors.New("pgjobq: the worker's shutdown deadline passed")
)

// Run works the queue until ctx ends, then shuts down gracefully: it stops receiving, gives back
// jobs it received but did not start (their attempt is not charged), lets running handlers finish
// for up to ShutdownTimeout, cancels the rest, and acks what completed. It returns nil after a
// shutdown caused by ctx.
func (w *Worker[T]) Run(ctx context.Context) error {
	// Handlers outlive ctx until the shutdown deadline.
	handlerCtx, stopHandlers := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopHandlers(nil)
	settleCtx := context.WithoutCancel(ctx)

	acks := newAcker(settleCtx, w.c, w.opts.AckDelay)
	heartbeatDone := make(chan struct{})
	heartbeatCtx, stopHeartbeat := context.WithCancel(settleCtx)
	go func() {
		defer close(heartbeatDone)
		w.heartbeat(heartbeatCtx)
	}()

	slots := make(chan struct{}, w.opts.Concurrency)
	var wg sync.WaitGroup
	emptyOnce := false // the last receive found nothing
	for ctx.Err() == nil {
		// Wait for one free slot, then take what else is free up to the batch size.
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			continue
		}
		free := 1
		for free < w.opts.BatchSize {
			select {
			case slots <- struct{}{}:
				free++
				continue
			default:
			}
			break
		}

		wake := w.c.l.queueWake(w.queue)
		// Not cancelled by the shutdown: a receive cut off mid-way could lease jobs that this
		// worker then never sees; the jobs are given back below instead.
		jobs, err := Receive[T](settleCtx, w.c.db, w.queue, &ReceiveOptions{
			MaxJobs: free, LeaseDuration: w.opts.LeaseDuration, Filter: w.opts.Filter})
		for i := len(jobs); i < free; i++ {
			<-slots
		}
		if len(jobs) > 0 {
			emptyOnce = false
		}
		var bad *PayloadError
		if errors.As(err, &bad) { // jobs that cannot decode fail like a handler error
			for _, lease := range bad.Leases {
				if _, err := Nack(settleCtx, w.c.db, lease, bad.Err, nil); err != nil {
					w.c.cfg.Logger.Error("pgjobq: worker nack", "queue", w.queue, "job", lease.JobID, "error", err)
				}
			}
			err = nil
		}
		if err != nil && ctx.Err() == nil {
			w.c.cfg.Logger.Error("pgjobq: worker receive", "queue", w.queue, "error", err)
		}
		for _, job := range jobs {
			if ctx.Err() != nil { // shutting down: give it back uncharged
				if err := Release(settleCtx, w.c.db, job.Lease); err != nil {
					w.c.cfg.Logger.Error("pgjobq: worker release", "queue", w.queue, "job", job.JobID, "error", err)
				}
				<-slots
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				w.work(handlerCtx, settleCtx, acks, job)
			}()
		}
		if len(jobs) == 0 && err == nil {
			// The first empty receive marks the queue as waited on. A send that checked the mark
			// just before it was committed sends no wake-up, but its job is visible to a receive
			// that starts now: look once more before sleeping.
			if !emptyOnce {
				emptyOnce = true
				continue
			}
			w.idle(ctx, wake)
		} else if err != nil {
			_ = w.c.sleep(ctx, w.c.cfg.PollInterval, nil, nil)
		}
	}

	// Shutdown: let running handlers finish until the deadline, then cancel them.
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	deadline := time.NewTimer(w.opts.ShutdownTimeout)
	select {
	case <-finished:
	case <-deadline.C:
		stopHandlers(errShutdown)
		<-finished
	}
	deadline.Stop()
	stopHeartbeat()
	<-heartbeatDone
	acks.close()
	return nil
}

// idle waits, after a receive found nothing, for a wake-up, for the next job or lease of the
// queue to come due (no notification announces those), or for the poll interval.
func (w *Worker[T]) idle(ctx context.Context, wake <-chan struct{}) {
	wait := w.c.cfg.PollInterval
	if due, ok, err := NextDue(ctx, w.c.db, w.queue); err == nil && ok {
		wait = min(wait, due)
	}
	_ = w.c.sleep(ctx, wait, wake, w.settled)
}

// work runs the handler of one job and settles it.
func (w *Worker[T]) work(handlerCtx, settleCtx context.Context, acks *acker, job *Job[T]) {
	jobCtx, cancel := context.WithCancelCause(handlerCtx)
	defer cancel(nil)
	w.mu.Lock()
	for lease, cancelOld := range w.running {
		if lease.JobID == job.JobID { // an older delivery of this job runs here: it lost its lease
			cancelOld(errLeaseLost)
		}
	}
	w.running[job.Lease] = cancel
	w.mu.Unlock()
	unsubscribe := w.c.l.onCancel(job.JobID, func() { cancel(errCancelled) })

	err := w.call(jobCtx, job)
	unsubscribe()

	w.mu.Lock()
	delete(w.running, job.Lease)
	w.mu.Unlock()
	defer func() {
		select {
		case w.settled <- struct{}{}:
		default:
		}
	}()
	switch cause := context.Cause(jobCtx); {
	case errors.Is(cause, errLeaseLost):
		return // another delivery owns the job now
	case errors.Is(cause, errShutdown) && err != nil:
		// Cut off by the shutdown, not failed: give it back without charging the attempt.
		if err := Release(settleCtx, w.c.db, job.Lease); err != nil && !errors.Is(err, ErrLeaseLost) {
			w.c.cfg.Logger.Error("pgjobq: worker release", "queue", w.queue, "job", job.JobID, "error", err)
		}
		return
	}
	if err == nil {
		acks.add(job.Lease)
		return
	}
	if _, err := Nack(settleCtx, w.c.db, job.Lease, err, nil); err != nil && !errors.Is(err, ErrLeaseLost) {
		w.c.cfg.Logger.Error("pgjobq: worker nack", "queue", w.queue, "job", job.JobID, "error", err)
	}
}

// call runs the handler, turning a panic into an error.
func (w *Worker[T]) call(ctx context.Context, job *Job[T]) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return w.handler(ctx, job)
}

// heartbeat extends the leases of running jobs every third of the lease duration, in one
// statement, and cancels the handlers whose lease was lost or whose job was cancelled. It also
// runs at once after the client's LISTEN connection came back: a cancellation notified while it
// was down is learnt from the rows.
func (w *Worker[T]) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.opts.LeaseDuration / 3)
	defer t.Stop()
	for {
		again := w.c.l.reconnected()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-again:
		}
		w.mu.Lock()
		leases := make([]Lease, 0, len(w.running))
		for lease := range w.running {
			leases = append(leases, lease)
		}
		w.mu.Unlock()
		if len(leases) == 0 {
			continue
		}
		held, err := ExtendMany(ctx, w.c.db, leases, w.opts.LeaseDuration)
		if err != nil {
			if ctx.Err() == nil {
				w.c.cfg.Logger.Error("pgjobq: worker heartbeat", "queue", w.queue, "error", err)
			}
			continue
		}
		w.mu.Lock()
		for _, l := range leases {
			h, ok := held[l.JobID]
			if cancel, running := w.running[l]; running && !ok {
				cancel(errLeaseLost)
			} else if running && h.CancelRequested {
				cancel(errCancelled)
			}
		}
		w.mu.Unlock()
	}
}
