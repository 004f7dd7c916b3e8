package pgjobq

import (
	"context"
	"fmt"
	"time"
)

// QueueOptions are a queue's settings. The zero value of a field means the extension's default
// when creating (lease 30s, 5 attempts, backoff 1s to 1h with 10% jitter, retention 7 days, dead
// letters kept forever, unbounded) and "unchanged" when altering.
type QueueOptions struct {
	LeaseDuration       time.Duration
	MaxAttempts         int
	BackoffBase         time.Duration
	BackoffMax          time.Duration
	BackoffJitter       *float64 // nil: default / unchanged (0 is a valid jitter)
	Retention           time.Duration
	DeadLetterRetention time.Duration
	MaxSize             int64
}

// call builds "SELECT fn($1, name => $2, ...)" with the settings opts sets, so the extension's
// own defaults apply to the rest and there is one place that knows them.
func (o *QueueOptions) call(fn, queue string) (string, []any) {
	if o == nil {
		o = &QueueOptions{}
	}
	sql := "SELECT " + fn + "($1::text"
	args := []any{queue}
	add := func(name string, set bool, v any) {
		if set {
			args = append(args, v)
			sql += fmt.Sprintf(", %s => $%d", name, len(args))
		}
	}
	add("lease_duration", o.LeaseDuration != 0, o.LeaseDuration)
	add("max_attempts", o.MaxAttempts != 0, o.MaxAttempts)
	add("backoff_base", o.BackoffBase != 0, o.BackoffBase)
	add("backoff_max", o.BackoffMax != 0, o.BackoffMax)
	add("backoff_jitter", o.BackoffJitter != nil, o.BackoffJitter)
	add("retention", o.Retention != 0, o.Retention)
	add("dead_letter_retention", o.DeadLetterRetention != 0, o.DeadLetterRetention)
	add("max_size", o.MaxSize != 0, o.MaxSize)
	return sql + ")", args
}

// CreateQueue creates a queue (pgjobq.create_queue). It fails with [ErrQueueExists] if it exists.
func CreateQueue(ctx context.Context, db DB, queue string, opts *QueueOptions) error {
	ctx = withOperation(ctx, "create_queue", queue)
	sql, args := opts.call("pgjobq.create_queue", queue)
	_, err := db.Exec(ctx, sql, args...)
	return wrap("create_queue", queue, err)
}

// AlterQueue changes the settings of a queue that opts sets (pgjobq.alter_queue).
func AlterQueue(ctx context.Context, db DB, queue string, opts *QueueOptions) error {
	ctx = withOperation(ctx, "alter_queue", queue)
	sql, args := opts.call("pgjobq.alter_queue", queue)
	_, err := db.Exec(ctx, sql, args...)
	return wrap("alter_queue", queue, err)
}

// DropQueue drops a queue (pgjobq.drop_queue). Without force it fails with [ErrQueueNotEmpty]
// while the queue has live or dead-lettered jobs.
func DropQueue(ctx context.Context, db DB, queue string, force bool) error {
	ctx = withOperation(ctx, "drop_queue", queue)
	_, err := db.Exec(ctx, `SELECT pgjobq.drop_queue($1, force => $2)`, queue, force)
	return wrap("drop_queue", queue, err)
}

// QueueInfo is a queue with its settings and job counts (pgjobq.list_queues).
type QueueInfo struct {
	Name                string
	LeaseDuration       time.Duration
	MaxAttempts         int
	BackoffBase         time.Duration
	BackoffMax          time.Duration
	BackoffJitter       float64
	Retention           time.Duration
	DeadLetterRetention *time.Duration
	MaxSize             *int64
	Scheduled           int64
	Available           int64
	Leased              int64
	Retrying            int64
	Dead                int64
	CreatedAt           time.Time
	Blocked             int64 // waiting for parents or for their ordering key
	Paused              bool
}

// ListQueues lists every queue. It counts rows: for dashboards, not hot paths.
func ListQueues(ctx context.Context, db DB) ([]QueueInfo, error) {
	ctx = withOperation(ctx, "list_queues", "")
	rows, err := db.Query(ctx, `SELECT queue, lease_duration, max_attempts, backoff_base, backoff_max,
		backoff_jitter, retention, dead_letter_retention, max_size, scheduled, available, leased,
		retrying, dead, created_at, blocked, paused FROM pgjobq.list_queues()`)
	if err != nil {
		return nil, wrap("list_queues", "", err)
	}
	defer rows.Close()
	var out []QueueInfo
	for rows.Next() {
		var q QueueInfo
		if err := rows.Scan(&q.Name, &q.LeaseDuration, &q.MaxAttempts, &q.BackoffBase, &q.BackoffMax,
			&q.BackoffJitter, &q.Retention, &q.DeadLetterRetention, &q.MaxSize, &q.Scheduled,
			&q.Available, &q.Leased, &q.Retrying, &q.Dead, &q.CreatedAt, &q.Blocked, &q.Paused); err != nil {
			return nil, wrap("list_queues", "", err)
		}
		out = append(out, q)
	}
	return out, wrap("list_queues", "", rows.Err())
}

// PauseQueue stops queue from delivering jobs (pgjobq.pause_queue); sends are still accepted.
func PauseQueue(ctx context.Context, db DB, queue string) error {
	ctx = withOperation(ctx, "pause_queue", queue)
	_, err := db.Exec(ctx, `SELECT pgjobq.pause_queue($1)`, queue)
	return wrap("pause_queue", queue, err)
}

// ResumeQueue lets a paused queue deliver again and wakes its workers (pgjobq.resume_queue).
func ResumeQueue(ctx context.Context, db DB, queue string) error {
	ctx = withOperation(ctx, "resume_queue", queue)
	_, err := db.Exec(ctx, `SELECT pgjobq.resume_queue($1)`, queue)
	return wrap("resume_queue", queue, err)
}

// Maintain deletes finished and dead jobs past their queue's retention (pgjobq.maintain) and
// returns how many rows it deleted. [Client] runs it periodically.
func Maintain(ctx context.Context, db DB) (int64, error) {
	ctx = withOperation(ctx, "maintain", "")
	var n int64
	err := db.QueryRow(ctx, `SELECT pgjobq.maintain()`).Scan(&n)
	return n, wrap("maintain", "", err)
}

// NextDue returns how long until something of queue comes due without a notification: a delayed
// or retrying job, or a lease expiring (pgjobq.next_due). ok is false when nothing is pending.
func NextDue(ctx context.Context, db DB, queue string) (d time.Duration, ok bool, err error) {
	ctx = withOperation(ctx, "next_due", queue)
	var due *time.Duration
	if err := db.QueryRow(ctx, `SELECT pgjobq.next_due($1)`, queue).Scan(&due); err != nil {
		return 0, false, wrap("next_due", queue, err)
	}
	if due == nil {
		return 0, false, nil
	}
	return *due, true, nil
}
