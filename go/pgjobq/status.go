package pgjobq

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// State is the life of a job.
type State string

// The states of a job.
const (
	StateBlocked   State = "blocked" // waiting for parent jobs or for its ordering key
	StateScheduled State = "scheduled"
	StateAvailable State = "available"
	StateLeased    State = "leased"
	StateRetrying  State = "retrying"
	StateCompleted State = "completed"
	StateDead      State = "dead"
	StateCancelled State = "cancelled"
)

// Finished reports whether s is a final state.
func (s State) Finished() bool {
	return s == StateCompleted || s == StateDead || s == StateCancelled
}

// Attempt is one entry of a job's attempt history.
type Attempt struct {
	Attempt int       `json:"attempt"`
	Outcome string    `json:"outcome"` // "failed", "lease_expired" or "cancelled"
	At      time.Time `json:"at"`
	Error   *string   `json:"error"`
}

// JobInfo is the state of a job wherever it is (pgjobq.get_job).
type JobInfo struct {
	ID             int64
	Queue          string
	State          State
	Priority       int
	Attempts       int
	MaxAttempts    int
	Payload        json.RawMessage
	Attributes     map[string]any
	Result         json.RawMessage // nil unless completed with a result
	Errors         []Attempt
	CreatedAt      time.Time
	RunAt          *time.Time
	LeaseExpiresAt *time.Time
	FinishedAt     *time.Time
	// CancelRequested: the job is leased and was cancelled (pgjobq.cancel); it ends cancelled.
	CancelRequested bool
}

// GetJob returns the state of job id, or [ErrJobNotFound].
func GetJob(ctx context.Context, db DB, id int64) (*JobInfo, error) {
	ctx = withOperation(ctx, "get_job", "")
	var (
		j                    JobInfo
		attributes, attempts []byte
	)
	err := db.QueryRow(ctx, `SELECT id, queue, state::text, priority, attempts, max_attempts, payload,
		attributes, result, errors, created_at, run_at, lease_expires_at, finished_at, cancel_requested
		FROM pgjobq.get_job($1)`, id).Scan(&j.ID, &j.Queue, &j.State, &j.Priority, &j.Attempts,
		&j.MaxAttempts, &j.Payload, &attributes, &j.Result, &attempts, &j.CreatedAt, &j.RunAt,
		&j.LeaseExpiresAt, &j.FinishedAt, &j.CancelRequested)
	if err != nil {
		return nil, wrap("get_job", "", err)
	}
	if err := json.Unmarshal(attributes, &j.Attributes); err != nil {
		return nil, wrap("get_job", j.Queue, err)
	}
	if err := json.Unmarshal(attempts, &j.Errors); err != nil {
		return nil, wrap("get_job", j.Queue, err)
	}
	return &j, nil
}

// DeadJob is a dead-lettered job (pgjobq.list_dead).
type DeadJob struct {
	ID         int64
	Reason     string // "failed" or "lease_expired"
	Attempts   int
	Payload    json.RawMessage
	Attributes map[string]any
	Errors     []Attempt
	CreatedAt  time.Time
	DiedAt     time.Time
}

// ListDead lists up to max (0: 100) dead-lettered jobs of queue, oldest death first.
func ListDead(ctx context.Context, db DB, queue string, max int) ([]DeadJob, error) {
	ctx = withOperation(ctx, "list_dead", queue)
	if max == 0 {
		max = 100
	}
	rows, err := db.Query(ctx, `SELECT id, reason, attempts, payload, attributes, errors, created_at,
		died_at FROM pgjobq.list_dead($1, $2)`, queue, max)
	if err != nil {
		return nil, wrap("list_dead", queue, err)
	}
	defer rows.Close()
	var out []DeadJob
	for rows.Next() {
		var (
			d                    DeadJob
			attributes, attempts []byte
		)
		if err := rows.Scan(&d.ID, &d.Reason, &d.Attempts, &d.Payload, &attributes, &attempts,
			&d.CreatedAt, &d.DiedAt); err != nil {
			return nil, wrap("list_dead", queue, err)
		}
		if err := json.Unmarshal(attributes, &d.Attributes); err != nil {
			return nil, wrap("list_dead", queue, err)
		}
		if err := json.Unmarshal(attempts, &d.Errors); err != nil {
			return nil, wrap("list_dead", queue, err)
		}
		out = append(out, d)
	}
	return out, wrap("list_dead", queue, rows.Err())
}

// Redrive moves dead-lettered jobs of queue back to it (ids, or all when ids is nil) and returns
// how many moved (pgjobq.redrive).
func Redrive(ctx context.Context, db DB, queue string, ids []int64) (int64, error) {
	ctx = withOperation(ctx, "redrive", queue)
	var n int64
	err := db.QueryRow(ctx, `SELECT pgjobq.redrive($1, $2)`, queue, ids).Scan(&n)
	return n, wrap("redrive", queue, err)
}

// PurgeDead deletes dead-lettered jobs of queue (ids, or all when ids is nil) and returns how
// many (pgjobq.purge_dead).
func PurgeDead(ctx context.Context, db DB, queue string, ids []int64) (int64, error) {
	ctx = withOperation(ctx, "purge_dead", queue)
	var n int64
	err := db.QueryRow(ctx, `SELECT pgjobq.purge_dead($1, $2)`, queue, ids).Scan(&n)
	return n, wrap("purge_dead", queue, err)
}

// CheckExtension verifies that pgjobq is installed in db's database with the version this driver
// speaks, returning [ErrExtensionMissing] or [ErrExtensionVersion].
func CheckExtension(ctx context.Context, db DB) error {
	ctx = withOperation(ctx, "check_extension", "")
	var version *string
	err := db.QueryRow(ctx, `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pgjobq')`).Scan(&version)
	switch {
	case err != nil:
		return wrap("check_extension", "", err)
	case version == nil:
		return wrap("check_extension", "", ErrExtensionMissing)
	case *version != ExtensionVersion:
		return wrap("check_extension", "", fmt.Errorf("%w: installed %s, this driver needs %s",
			ErrExtensionVersion, *version, ExtensionVersion))
	}
	return nil
}

// ExtensionVersion is the version of the pgjobq extension this driver speaks.
const ExtensionVersion = "1.0"
