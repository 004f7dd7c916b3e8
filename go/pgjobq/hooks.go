package pgjobq

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Event describes one SQL statement a driver operation ran.
type Event struct {
	Op       string        // the operation: "send", "receive", "ack", ...
	Queue    string        // its queue, if it has one
	SQL      string        // the statement
	Args     []any         // its arguments
	Start    time.Time     // when it started
	Duration time.Duration // how long it took (After only)
	Rows     int64         // rows returned or affected (After only)
	Err      error         // its error (After only)
	DB       DB            // the DB it ran on, not instrumented (for samplers)
}

// Hook observes every SQL operation of the driver, for metrics, tracing or plan sampling.
// Before may return a derived context (e.g. with a span) that After receives.
type Hook interface {
	Before(ctx context.Context, ev *Event) context.Context
	After(ctx context.Context, ev *Event)
}

// Instrument returns db with hooks called around every statement run through it. Wrap the pool
// (or a transaction) once and pass the result to the driver's functions and to a [Client].
func Instrument(db DB, hooks ...Hook) DB {
	if len(hooks) == 0 {
		return db
	}
	return &instrumented{db: db, hooks: hooks}
}

type instrumented struct {
	db    DB
	hooks []Hook
}

func (d *instrumented) before(ctx context.Context, sql string, args []any) (context.Context, *Event) {
	op := operationFrom(ctx)
	ev := &Event{Op: op.name, Queue: op.queue, SQL: sql, Args: args, Start: time.Now(), DB: d.db}
	for _, h := range d.hooks {
		ctx = h.Before(ctx, ev)
	}
	return ctx, ev
}

func (d *instrumented) after(ctx context.Context, ev *Event, rows int64, err error) {
	ev.Duration = time.Since(ev.Start)
	ev.Rows = rows
	ev.Err = err
	for i := len(d.hooks) - 1; i >= 0; i-- {
		d.hooks[i].After(ctx, ev)
	}
}

func (d *instrumented) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	ctx, ev := d.before(ctx, sql, args)
	tag, err := d.db.Exec(ctx, sql, args...)
	d.after(ctx, ev, tag.RowsAffected(), err)
	return tag, err
}

func (d *instrumented) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	ctx, ev := d.before(ctx, sql, args)
	rows, err := d.db.Query(ctx, sql, args...)
	if err != nil {
		d.after(ctx, ev, 0, err)
		return rows, err
	}
	return &countedRows{Rows: rows, done: func(n int64, err error) { d.after(ctx, ev, n, err) }}, nil
}

func (d *instrumented) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	ctx, ev := d.before(ctx, sql, args)
	return &countedRow{row: d.db.QueryRow(ctx, sql, args...), done: func(n int64, err error) { d.after(ctx, ev, n, err) }}
}

// countedRows reports to the hooks when the rows are closed.
type countedRows struct {
	pgx.Rows
	n      int64
	done   func(int64, error)
	closed bool
}

func (r *countedRows) Next() bool {
	if r.Rows.Next() {
		r.n++
		return true
	}
	r.finish()
	return false
}

func (r *countedRows) Close() {
	r.Rows.Close()
	r.finish()
}

func (r *countedRows) finish() {
	if !r.closed {
		r.closed = true
		r.done(r.n, r.Rows.Err())
	}
}

type countedRow struct {
	row  pgx.Row
	done func(int64, error)
}

func (r *countedRow) Scan(dest ...any) error {
	err := r.row.Scan(dest...)
	n := int64(1)
	if err != nil {
		n = 0
	}
	r.done(n, err)
	return err
}
