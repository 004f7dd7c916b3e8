package pgjobq

import (
	"context"
	"encoding/json"
)

// CancelOutcome is what a cancel did to a job.
type CancelOutcome string

// The outcomes of a cancel.
const (
	// Cancelled: the job was blocked, scheduled, available or retrying; it will never be
	// delivered. Its children are cancelled too (or run, if they ignore parent failure).
	Cancelled CancelOutcome = "cancelled"
	// CancelRequested: the job is running. Its holder is told (a [Worker] cancels the handler's
	// context with cause [ErrCancelled]); whatever it reports, the job ends cancelled and is
	// never delivered again.
	CancelRequested CancelOutcome = "cancel_requested"
	// AlreadyCompleted, AlreadyCancelled, AlreadyDead: the job had finished; nothing changed.
	AlreadyCompleted CancelOutcome = "already_completed"
	AlreadyCancelled CancelOutcome = "already_cancelled"
	AlreadyDead      CancelOutcome = "already_dead"
	// NotFound: no such job (or deleted after its queue's retention); only from CancelMany.
	NotFound CancelOutcome = "not_found"
)

// Cancel cancels job id (pgjobq.cancel), keeping reason in its history, and returns what it
// did, or [ErrJobNotFound].
func Cancel(ctx context.Context, db DB, id int64, reason string) (CancelOutcome, error) {
	ctx = withOperation(ctx, "cancel", "")
	var out CancelOutcome
	err := db.QueryRow(ctx, `SELECT pgjobq.cancel($1, $2)`, id, nullIfEmpty(reason)).Scan(&out)
	return out, wrap("cancel", "", err)
}

// CancelMany cancels jobs by id (pgjobq.cancel_many) and returns what it did to each.
func CancelMany(ctx context.Context, db DB, ids []int64, reason string) (map[int64]CancelOutcome, error) {
	ctx = withOperation(ctx, "cancel", "")
	return scanOutcomes(ctx, db, "", `SELECT id, outcome FROM pgjobq.cancel_many($1, $2)`, ids, nullIfEmpty(reason))
}

// CancelMatching cancels up to 10000 live jobs of queue whose attributes contain filter
// (pgjobq.cancel_matching; an empty filter matches every live job) and returns what it did to
// each. Call it again while it returns jobs.
func CancelMatching(ctx context.Context, db DB, queue string, filter map[string]any, reason string) (map[int64]CancelOutcome, error) {
	ctx = withOperation(ctx, "cancel", queue)
	if filter == nil {
		filter = map[string]any{}
	}
	f, err := json.Marshal(filter)
	if err != nil {
		return nil, wrap("cancel", queue, err)
	}
	return scanOutcomes(ctx, db, queue, `SELECT id, outcome FROM pgjobq.cancel_matching($1, $2::jsonb, $3)`, queue, string(f), nullIfEmpty(reason))
}

func scanOutcomes(ctx context.Context, db DB, queue, sql string, args ...any) (map[int64]CancelOutcome, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, wrap("cancel", queue, err)
	}
	defer rows.Close()
	out := map[int64]CancelOutcome{}
	for rows.Next() {
		var (
			id int64
			o  CancelOutcome
		)
		if err := rows.Scan(&id, &o); err != nil {
			return nil, wrap("cancel", queue, err)
		}
		out[id] = o
	}
	return out, wrap("cancel", queue, rows.Err())
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
