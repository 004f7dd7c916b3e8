package pgjobq

import (
	"context"
	"encoding/json"
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
