// Package explainpgjobq samples the query plans of pgjobq operations.
//
// pgjobq's operations run inside PL/pgSQL functions, so EXPLAIN of `SELECT pgjobq.receive(...)`
// shows only a Function Scan: the plans worth reading are those of the statements the function
// runs (the receive's pick by job_available_idx, its UPDATE, ...). PostgreSQL's auto_explain
// module explains those nested statements as they run and, at log level NOTICE, sends each plan
// to the client that ran them. A [Sampler] turns it on for a random sample of operations and
// hands their plans to a sink:
//
//	sampler := explainpgjobq.NewSampler(0.01, func(p explainpgjobq.Plan) { ... })
//	cfg, err := pgxpool.ParseConfig(url)
//	sampler.ConfigurePool(cfg)
//	pool, err := pgxpool.NewWithConfig(ctx, cfg)
//	client, err := pgjobq.NewClient(ctx, pool, &pgjobq.Config{Hooks: []pgjobq.Hook{sampler}})
//	// or: db := pgjobq.Instrument(pool, sampler)
//
// # How it works
//
// The sampler is a [pgjobq.Hook], and it cannot know in Before which connection of a pool the
// statement will get. pgx can: [Sampler.ConfigurePool] installs a pgx query tracer, called on
// the very connection that runs each statement. The pieces:
//
//   - ConfigurePool's AfterConnect runs LOAD 'auto_explain' and sets it up for the session
//     (nested statements, JSON format, log level NOTICE) but switched off
//     (auto_explain.log_min_duration = -1).
//   - Before draws a random number; for a sampled statement it marks the context.
//   - The tracer sees the mark when the statement starts on its connection, switches
//     auto_explain on there (SET auto_explain.log_min_duration = 0) and, when the statement
//     has ended, off again. Meanwhile the connection's OnNotice handler collects the plans;
//     other notices go to the handler the config had before.
//   - After hands the [Plan] to the sink, in the goroutine that ran the operation.
//
// This works the same for statements run on the pool, on a connection acquired from it, and in
// a transaction begun on it. An unsampled statement pays the random draw and three context
// lookups that find nothing (the tracer's two and After's): no round trip, no allocation. A
// sampled one pays two extra round trips (the SETs) and the plans' output.
//
// # Requirements and limits
//
//   - LOAD 'auto_explain' and auto_explain's settings need a superuser (PostgreSQL lets others
//     LOAD only libraries in $libdir/plugins, and auto_explain's settings are superuser-only).
//     Without the privilege the sampler disables itself, logs one warning (slog.Default) and
//     reports why in [Sampler.Err]; the application's connections and statements go on
//     unaffected.
//   - Plans arrive as notices: client_min_messages must stay at notice or lower (the default).
//   - Settings are per session, so connections must be real sessions: direct, or a pooler in
//     session mode (not PgBouncer's transaction mode).
//   - On the pool's connections the sampler owns auto_explain: a server-wide auto_explain
//     configuration for the server log does not apply to them.
//   - Statements on connections that ConfigurePool did not set up are not explained (the
//     sampler logs one warning the first time).
package explainpgjobq

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/pgjobq/pgjobq/go/pgjobq"
)

// Plan is what a [Sampler] records of one sampled statement.
type Plan struct {
	Op    string // the driver operation ("receive", ...); empty outside the driver's functions
	Queue string // its queue, if it has one
	SQL   string // the statement the driver ran
	// Plans holds one auto_explain JSON document ({"Query Text": ..., "Plan": {...}}) per
	// statement PostgreSQL executed for it, in the order they finished: the statements nested
	// in pgjobq's functions, then usually the statement itself.
	Plans    []string
	Duration time.Duration // how long the statement took, SETs excluded
	Err      error         // the statement's error, if it failed
}

// Sampler records the query plans of a random sample of pgjobq statements; see the package
// documentation. It is a [pgjobq.Hook]. Its methods are safe for concurrent use.
type Sampler struct {
	rate float64
	sink func(Plan)

	mu    sync.Mutex
	conns map[*pgconn.PgConn]*sample // connections ConfigurePool set up → the sample running there, or nil

	failure atomic.Pointer[error] // why the sampler is disabled
	warned  atomic.Bool           // the unconfigured-connection warning was logged
}

// sample is one sampled statement on its way through Before, the tracer and After.
type sample struct {
	plan  Plan
	armed bool     // auto_explain was switched on for it; guarded by Sampler.mu
	plans []string // guarded by Sampler.mu
}

type sampleKey struct{}

// NewSampler returns a sampler that explains a fraction rate (0 to 1) of the statements it
// sees and calls sink with each sampled statement's [Plan]. sink runs in the goroutine of the
// operation, after the statement has finished; it should be quick. A nil sink samples nothing.
func NewSampler(rate float64, sink func(Plan)) *Sampler {
	if !(rate > 0) || sink == nil { // !(rate > 0) is also true for NaN
		rate = 0
	}
	return &Sampler{rate: min(rate, 1), sink: sink, conns: map[*pgconn.PgConn]*sample{}}
}

// Before draws whether the statement is sampled and, if so, marks ctx for the tracer.
func (s *Sampler) Before(ctx context.Context, ev *pgjobq.Event) context.Context {
	if s.rate == 0 || rand.Float64() >= s.rate || s.failure.Load() != nil {
		return ctx
	}
	return context.WithValue(ctx, sampleKey{}, &sample{plan: Plan{Op: ev.Op, Queue: ev.Queue, SQL: ev.SQL}})
}

// After hands a sampled statement's plans to the sink.
func (s *Sampler) After(ctx context.Context, ev *pgjobq.Event) {
	smp, ok := ctx.Value(sampleKey{}).(*sample)
	if !ok {
		return
	}
	s.mu.Lock()
	armed, plans := smp.armed, smp.plans
	s.mu.Unlock()
	if !armed {
		if ev.Err == nil && s.failure.Load() == nil && s.warned.CompareAndSwap(false, true) {
			slog.Default().Warn("explainpgjobq: a sampled statement ran on a connection that " +
				"Sampler.ConfigurePool did not set up; it was not explained")
		}
		return
	}
	p := smp.plan
	p.Plans, p.Duration, p.Err = plans, ev.Duration, ev.Err
	s.sink(p)
}

// Err returns why the sampler disabled itself (auto_explain could not be loaded or set up), or
// nil while it works.
func (s *Sampler) Err() error {
	if err := s.failure.Load(); err != nil {
		return *err
	}
	return nil
}

// disable stops sampling for good and reports err once.
func (s *Sampler) disable(err error) {
	if s.failure.CompareAndSwap(nil, &err) {
		slog.Default().Warn("explainpgjobq: sampling disabled", "err", err)
	}
}
