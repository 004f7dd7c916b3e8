package explainpgjobq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// setupSQL loads auto_explain into a new session and prepares it, switched off.
const setupSQL = `LOAD 'auto_explain';
SET auto_explain.log_nested_statements = on;
SET auto_explain.log_format = json;
SET auto_explain.log_level = notice;
SET auto_explain.log_min_duration = -1`

const (
	onSQL  = `SET auto_explain.log_min_duration = 0`
	offSQL = `SET auto_explain.log_min_duration = -1`
)

// offTimeout bounds switching auto_explain off after a statement whose context has ended.
const offTimeout = 10 * time.Second

// ConfigurePool sets up cfg so that the pool's connections can explain sampled statements:
// AfterConnect loads auto_explain, a query tracer switches it on and off around sampled
// statements, and OnNotice collects the plans. It keeps what cfg already had: its
// AfterConnect, BeforeClose and OnNotice run too, and its tracer is combined with the
// sampler's. Call it before pgxpool.NewWithConfig.
func (s *Sampler) ConfigurePool(cfg *pgxpool.Config) {
	afterConnect, beforeClose := cfg.AfterConnect, cfg.BeforeClose
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if afterConnect != nil {
			if err := afterConnect(ctx, conn); err != nil {
				return err
			}
		}
		return s.setUp(ctx, conn.PgConn())
	}
	cfg.BeforeClose = func(conn *pgx.Conn) {
		s.mu.Lock()
		delete(s.conns, conn.PgConn())
		s.mu.Unlock()
		if beforeClose != nil {
			beforeClose(conn)
		}
	}
	cfg.ConnConfig.OnNotice = s.onNotice(cfg.ConnConfig.OnNotice)
	if prev := cfg.ConnConfig.Tracer; prev != nil {
		cfg.ConnConfig.Tracer = multitracer.New(prev, tracer{s})
	} else {
		cfg.ConnConfig.Tracer = tracer{s}
	}
}

// setUp loads auto_explain into a new connection. A refusal by the server disables the sampler
// and keeps the connection; any other error means the connection broke, and is returned.
func (s *Sampler) setUp(ctx context.Context, pc *pgconn.PgConn) error {
	if s.failure.Load() != nil {
		return nil
	}
	if err := exec(ctx, pc, setupSQL); err != nil {
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) {
			return fmt.Errorf("explainpgjobq: load auto_explain: %w", err)
		}
		s.disable(fmt.Errorf("explainpgjobq: load auto_explain (needs a superuser): %w", err))
		return nil
	}
	s.mu.Lock()
	s.conns[pc] = nil
	s.mu.Unlock()
	return nil
}

// onNotice returns a notice handler that gives auto_explain's plans to the sample running on
// the connection and every other notice to next.
func (s *Sampler) onNotice(next pgconn.NoticeHandler) pgconn.NoticeHandler {
	return func(pc *pgconn.PgConn, n *pgconn.Notice) {
		if plan, ok := planOf(n); ok {
			s.mu.Lock()
			smp := s.conns[pc]
			if smp != nil {
				smp.plans = append(smp.plans, plan)
			}
			s.mu.Unlock()
			if smp != nil {
				return
			}
		}
		if next != nil {
			next(pc, n)
		}
	}
}

// planOf returns the plan of an auto_explain message ("duration: 0.012 ms  plan:\n{...}").
func planOf(n *pgconn.Notice) (string, bool) {
	if !strings.HasPrefix(n.Message, "duration: ") {
		return "", false
	}
	_, plan, ok := strings.Cut(n.Message, " plan:\n")
	return plan, ok
}

// tracer switches auto_explain on and off around sampled statements, on their connection.
type tracer struct{ s *Sampler }

// TraceQueryStart switches auto_explain on for a sampled statement. If that fails the
// statement runs unexplained, and fails itself if the connection is unusable.
func (t tracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	smp, ok := ctx.Value(sampleKey{}).(*sample)
	if !ok {
		return ctx
	}
	pc := conn.PgConn()
	t.s.mu.Lock()
	current, configured := t.s.conns[pc]
	t.s.mu.Unlock()
	if !configured || current != nil {
		return ctx
	}
	if exec(ctx, pc, onSQL) != nil {
		return ctx
	}
	t.s.mu.Lock()
	t.s.conns[pc] = smp
	smp.armed = true
	t.s.mu.Unlock()
	return ctx
}

// TraceQueryEnd switches auto_explain off after a sampled statement. If that fails in a failed
// transaction, its rollback undoes the SET; otherwise the connection is closed so that it cannot
// go on explaining every statement.
func (t tracer) TraceQueryEnd(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryEndData) {
	smp, ok := ctx.Value(sampleKey{}).(*sample)
	if !ok {
		return
	}
	pc := conn.PgConn()
	t.s.mu.Lock()
	armed := t.s.conns[pc] == smp
	t.s.mu.Unlock()
	if !armed {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), offTimeout)
	defer cancel()
	err := exec(ctx, pc, offSQL) // plans still arriving (the statement's own) are collected
	t.s.mu.Lock()
	if _, ok := t.s.conns[pc]; ok {
		t.s.conns[pc] = nil
	}
	t.s.mu.Unlock()
	if err != nil && pc.TxStatus() != 'E' {
		_ = pc.Close(ctx)
	}
}

// exec runs sql, which may hold several statements, with the simple protocol.
func exec(ctx context.Context, pc *pgconn.PgConn, sql string) error {
	_, err := pc.Exec(ctx, sql).ReadAll()
	return err
}
