package pgjobq

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Lease identifies one delivery of a job: ack, nack, extend and release must present it. A job
// delivered again gets a new token, and the old lease can no longer settle it.
type Lease struct {
	JobID int64
	Token [16]byte
}

// Job is a delivered job with its payload decoded into T.
type Job[T any] struct {
	Lease
	Queue          string
	Payload        T
	Attributes     map[string]any
	Attempt        int // deliveries so far, this one included
	Priority       int
	CreatedAt      time.Time
	LeaseExpiresAt time.Time
}

// ReceiveOptions are the options of a receive; the zero value leases one job for the queue's
// lease duration.
type ReceiveOptions struct {
	// MaxJobs is how many jobs to lease at most (1 to 10000); 0 means 1.
	MaxJobs int
	// LeaseDuration overrides the queue's lease duration (1s to 7 days).
	LeaseDuration time.Duration
	// Filter keeps jobs whose attributes contain it (JSON containment).
	Filter map[string]any
}

// PayloadError reports received jobs whose payload or attributes did not decode into the
// receiver's types. Those jobs are leased to the caller, which should nack them ([Worker] does).
type PayloadError struct {
	Leases []Lease
	Err    error // the first decoding error
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("%d job(s) did not decode, the first: %v", len(e.Leases), e.Err)
}

func (e *PayloadError) Unwrap() error { return e.Err }

// Receive leases up to opts.MaxJobs available jobs of queue (pgjobq.receive), highest priority
// first, then oldest. It returns no jobs and no error when none is available. Jobs that do not
// decode into T are left out of the result and reported, still leased, in a [*PayloadError]
// next to the jobs that did decode.
func Receive[T any](ctx context.Context, db DB, queue string, opts *ReceiveOptions) ([]*Job[T], error) {
	ctx = withOperation(ctx, "receive", queue)
	if opts == nil {
		opts = &ReceiveOptions{}
	}
	max := opts.MaxJobs
	if max == 0 {
		max = 1
	}
	var lease any
	if opts.LeaseDuration != 0 {
		lease = opts.LeaseDuration
	}
	var filter any
	if opts.Filter != nil {
		b, err := json.Marshal(opts.Filter)
		if err != nil {
			return nil, wrap("receive", queue, err)
		}
		filter = string(b)
	}
	rows, err := db.Query(ctx, `SELECT id, lease_token, payload, attributes, attempt, priority,
		created_at, lease_expires_at
		FROM pgjobq.receive($1, max_jobs => $2, lease_duration => $3, filter => $4::jsonb)`,
		queue, max, lease, filter)
	if err != nil {
		return nil, wrap("receive", queue, err)
	}
	defer rows.Close()
	var (
		jobs []*Job[T]
		bad  *PayloadError
	)
	for rows.Next() {
		var (
			j                   = &Job[T]{Queue: queue}
			payload, attributes []byte
		)
		if err := rows.Scan(&j.JobID, &j.Token, &payload, &attributes, &j.Attempt, &j.Priority,
			&j.CreatedAt, &j.LeaseExpiresAt); err != nil {
			return nil, wrap("receive", queue, err)
		}
		err := json.Unmarshal(payload, &j.Payload)
		if err != nil {
			err = fmt.Errorf("job %d: payload does not decode into %T: %w", j.JobID, j.Payload, err)
		} else if err = json.Unmarshal(attributes, &j.Attributes); err != nil {
			err = fmt.Errorf("job %d: attributes: %w", j.JobID, err)
		}
		if err != nil {
			if bad == nil {
				bad = &PayloadError{Err: err}
			}
			bad.Leases = append(bad.Leases, j.Lease)
			continue
		}
		jobs = append(jobs, j)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("receive", queue, err)
	}
	if bad != nil {
		return jobs, wrap("receive", queue, bad)
	}
	return jobs, nil
}
