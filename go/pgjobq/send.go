package pgjobq

import (
	"cmp"
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
	// DependsOn lists parent jobs (ids sent before) that every job of the send waits for: it
	// is blocked until all of them completed, and cancelled if one dies or is cancelled.
	DependsOn []int64
	// IgnoreParentFailure lets a job whose parent died or was cancelled run anyway, once every
	// parent has finished.
	IgnoreParentFailure bool
	// Chain makes each job of a batch depend on the one before it: they run strictly in order.
	Chain bool
	// OrderingKey puts the jobs in a FIFO group: jobs of one key (per queue) run one at a
	// time, in send order, across retries. Not with DependsOn or Chain.
	OrderingKey string
	// UniqueKey: while a live job of the queue has this key, the send returns that job's id
	// instead of making a new one.
	UniqueKey string
}

// BatchJob is one job of [SendJobs], with workflow settings of its own.
type BatchJob[T any] struct {
	Payload    T
	Attributes map[string]any // nil: SendOptions.Attributes
	// DependsOn lists parent jobs sent before (ids); DependsOnBatch lists earlier jobs of the
	// same SendJobs call (0-based indexes, each below this job's own).
	DependsOn      []int64
	DependsOnBatch []int
	OrderingKey    string // "": SendOptions.OrderingKey
	UniqueKey      string // "": SendOptions.UniqueKey
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
	jobs := make([]BatchJob[T], len(payloads))
	for i, p := range payloads {
		jobs[i].Payload = p
	}
	return SendJobs(ctx, db, queue, jobs, opts)
}

// SendJobs sends jobs in one statement (pgjobq.send_batch), each with its own attributes,
// parents and keys (opts gives the rest and the defaults), and returns their ids in order: a
// whole graph of jobs in one call.
func SendJobs[T any](ctx context.Context, db DB, queue string, jobs []BatchJob[T], opts *SendOptions) ([]int64, error) {
	ctx = withOperation(ctx, "send", queue)
	if opts == nil {
		opts = &SendOptions{}
	}
	var (
		encoded    = make([][]byte, len(jobs))
		attributes [][]byte
		dependsOn  [][]byte
		orderKeys  []*string
		uniqueKeys []*string
	)
	shared, err := encodeAttributes(opts.Attributes)
	if err != nil {
		return nil, wrap("send", queue, err)
	}
	for i, j := range jobs {
		if encoded[i], err = json.Marshal(j.Payload); err != nil {
			return nil, wrap("send", queue, err)
		}
		own, err := encodeAttributes(j.Attributes)
		if err != nil {
			return nil, wrap("send", queue, err)
		}
		if own == nil {
			own = shared
		}
		if own != nil {
			if attributes == nil {
				attributes = make([][]byte, len(jobs))
			}
			attributes[i] = own
		}
		parents := make([]int64, 0, len(opts.DependsOn)+len(j.DependsOn)+len(j.DependsOnBatch))
		parents = append(append(parents, opts.DependsOn...), j.DependsOn...)
		for _, k := range j.DependsOnBatch {
			parents = append(parents, -int64(k+1)) // -k is the k-th job of the batch, from 1
		}
		if len(parents) > 0 {
			if dependsOn == nil {
				dependsOn = make([][]byte, len(jobs))
			}
			dependsOn[i], _ = json.Marshal(parents)
		}
		orderKeys = setKey(orderKeys, len(jobs), i, cmp.Or(j.OrderingKey, opts.OrderingKey))
		uniqueKeys = setKey(uniqueKeys, len(jobs), i, cmp.Or(j.UniqueKey, opts.UniqueKey))
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
		delay => $4, run_at => $5, priority => $6, notify_completion => $7, depends_on => $8::jsonb[],
		chain => $9, ordering_keys => $10, unique_keys => $11, ignore_parent_failure => $12)`,
		queue, encoded, attributes, delay, runAt, opts.Priority, opts.NotifyCompletion, dependsOn,
		opts.Chain, orderKeys, uniqueKeys, opts.IgnoreParentFailure)
	if err != nil {
		return nil, wrap("send", queue, err)
	}
	defer rows.Close()
	ids := make([]int64, 0, len(jobs))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, wrap("send", queue, err)
		}
		ids = append(ids, id)
	}
	return ids, wrap("send", queue, rows.Err())
}

func encodeAttributes(a map[string]any) ([]byte, error) {
	if a == nil {
		return nil, nil
	}
	return json.Marshal(a)
}

// setKey sets element i of a key array of n elements, made on the first key: NULL means none.
func setKey(keys []*string, n, i int, key string) []*string {
	if key == "" {
		return keys
	}
	if keys == nil {
		keys = make([]*string, n)
	}
	keys[i] = &key
	return keys
}

// SendWait is [SendBatch] on client c's pool that, when the queue is bounded and full, waits for
// space instead of failing with [ErrQueueFull]: it marks the queue as awaited
// (pgjobq.wait_for_space), sleeps until a job of the queue finishes (NOTIFY pgjobq_space) or the
// poll interval passes, and tries again, until ctx ends. It cannot join a transaction: a send
// refused for space aborts the transaction it is in. A batch larger than max_size could never
// fit: it fails at once with [ErrTooLarge].
func SendWait[T any](ctx context.Context, c *Client, queue string, payloads []T, opts *SendOptions) ([]int64, error) {
	for {
		space := c.l.queueSpace(queue) // before looking: a finish after it is not missed
		ids, err := SendBatch(ctx, c.db, queue, payloads, opts)
		if !errors.Is(err, ErrQueueFull) {
			return ids, err
		}
		var free *int64
		ctx := withOperation(ctx, "wait_for_space", queue)
		if err := c.db.QueryRow(ctx, `SELECT pgjobq.wait_for_space($1, $2)`, queue, len(payloads)).Scan(&free); err != nil {
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
