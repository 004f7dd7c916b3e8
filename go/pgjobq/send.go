package pgjobq

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// SendOptions are the options of a send; the zero value sends an immediate job of priority 0.
type SendOptions struct {
	// Attributes are matched by receive filters (a JSON object).
	Attributes map[string]any
	// Delay makes the job available after this long (database time). Do not set with RunAt.
	Delay time.Duration
	// RunAt makes the job available at this time. Do not set with Delay.
	RunAt time.Time
	// Priority: higher is received first (-32768 to 32767).
	Priority int
	// NotifyCompletion makes the job send a completion notification that [Client.Wait] uses.
	// Client.Send sets it.
	NotifyCompletion bool
}

// Send sends one job with payload encoded as JSON to queue (pgjobq.send) and returns its id.
// Pass a transaction as db to make the send part of it.
func Send[T any](ctx context.Context, db DB, queue string, payload T, opts *SendOptions) (int64, error) {
	ids, err := SendBatch(ctx, db, queue, []T{payload}, opts)
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// SendBatch sends one job per payload in one statement (pgjobq.send_batch) and returns the ids in
// payload order. All jobs share opts.
func SendBatch[T any](ctx context.Context, db DB, queue string, payloads []T, opts *SendOptions) ([]int64, error) {
	ctx = withOperation(ctx, "send", queue)
	if opts == nil {
		opts = &SendOptions{}
	}
	encoded := make([][]byte, len(payloads))
	for i, p := range payloads {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, wrap("send", queue, err)
		}
		encoded[i] = b
	}
	var attributes [][]byte
	if opts.Attributes != nil {
		b, err := json.Marshal(opts.Attributes)
		if err != nil {
			return nil, wrap("send", queue, err)
		}
		attributes = make([][]byte, len(payloads))
		for i := range attributes {
			attributes[i] = b
		}
	}
	var runAt any
	if !opts.RunAt.IsZero() {
		runAt = opts.RunAt
	}
	var delay any
	if opts.Delay != 0 {
		delay = opts.Delay
	}
	rows, err := db.Query(ctx, `SELECT pgjobq.send_batch($1, $2::jsonb[], attributes => $3::jsonb[],
		delay => $4, run_at => $5, priority => $6, notify_completion => $7)`,
		queue, encoded, attributes, delay, runAt, opts.Priority, opts.NotifyCompletion)
	if err != nil {
		return nil, wrap("send", queue, err)
	}
	defer rows.Close()
	ids := make([]int64, 0, len(payloads))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("send", queue, err)
		}
		ids = append(ids, id)
	}
	return ids, wrap("send", queue, rows.Err())
}

// SendWait is [SendBatch] on client c's pool that, when the queue is bounded and full, waits for
// space instead of failing with [ErrQueueFull]: it marks the queue as awaited
// (pgjobq.wait_for_space), sleeps until a job of the queue finishes (NOTIFY pgjobq_space) or the
// poll interval passes, and tries again, until ctx ends. It cannot join a transaction: a send
// refused for space aborts the transaction it is in.
func SendWait[T any](ctx context.Context, c *Client, queue string, payloads []T, opts *SendOptions) ([]int64, error) {
	for {
		space := c.l.queueSpace(queue) // before looking: a finish after it is not missed
		ids, err := SendBatch(ctx, c.db, queue, payloads, opts)
		if !errors.Is(err, ErrQueueFull) {
			return ids, err
		}
		var free *int64
		ctx := withOperation(ctx, "wait_for_space", queue)
		if err := c.db.QueryRow(ctx, `SELECT pgjobq.wait_for_space($1)`, queue).Scan(&free); err != nil {
			return nil, wrap("wait_for_space", queue, err)
		}
		if free != nil && *free >= int64(len(payloads)) {
			continue // room was made meanwhile
		}
		if err := c.sleep(ctx, c.cfg.PollInterval, space, nil); err != nil {
			return nil, wrap("send", queue, err)
		}
	}
}
