package pgjobq

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Ack completes a leased job (pgjobq.ack), keeping result (JSON-encoded; nil for none) in the
// archive, and returns the state it ended in: [StateCompleted], or [StateCancelled] if the job
// was cancelled while it ran. It returns [ErrLeaseLost] if the lease is no longer the job's.
func Ack(ctx context.Context, db DB, lease Lease, result any) (State, error) {
	ctx = withOperation(ctx, "ack", "")
	res, err := encodeResult(result)
	if err != nil {
		return "", wrap("ack", "", err)
	}
	var state *State
	if err := db.QueryRow(ctx, `SELECT pgjobq.ack($1, $2, $3::jsonb)`, lease.JobID, lease.Token, res).Scan(&state); err != nil {
		return "", wrap("ack", "", err)
	}
	if state == nil {
		return "", wrap("ack", "", ErrLeaseLost)
	}
	return *state, nil
}

// AckMany completes many leased jobs in one statement (pgjobq.ack_many) and returns the state
// each finished job ended in ([StateCompleted] or [StateCancelled]); leases that were lost are
// left out.
func AckMany(ctx context.Context, db DB, leases []Lease) (map[int64]State, error) {
	ctx = withOperation(ctx, "ack_many", "")
	ids, tokens := splitLeases(leases)
	rows, err := db.Query(ctx, `SELECT id, state FROM pgjobq.ack_many($1, $2)`, ids, tokens)
	if err != nil {
		return nil, wrap("ack_many", "", err)
	}
	defer rows.Close()
	done := make(map[int64]State, len(leases))
	for rows.Next() {
		var (
			id    int64
			state State
		)
		if err := rows.Scan(&id, &state); err != nil {
			return nil, wrap("ack_many", "", err)
		}
		done[id] = state
	}
	return done, wrap("ack_many", "", rows.Err())
}

// NackOptions are the options of a nack; the zero value retries after the queue's backoff.
type NackOptions struct {
	// RetryIn retries after this long instead of the queue's backoff (0: the backoff).
	RetryIn time.Duration
}

// Nack reports that a leased job failed with cause (kept in its attempt history) (pgjobq.nack)
// and returns what became of it: [StateRetrying] (after the backoff or opts.RetryIn),
// [StateDead] (that was its last attempt) or [StateCancelled] (it was cancelled while it ran;
// it is not retried). It returns [ErrLeaseLost] if the lease is no longer the job's.
func Nack(ctx context.Context, db DB, lease Lease, cause error, opts *NackOptions) (State, error) {
	ctx = withOperation(ctx, "nack", "")
	var msg, retryIn any
	if cause != nil {
		msg = cause.Error()
	}
	if opts != nil && opts.RetryIn != 0 {
		retryIn = opts.RetryIn
	}
	var state *State
	if err := db.QueryRow(ctx, `SELECT pgjobq.nack($1, $2, $3, $4)`, lease.JobID, lease.Token, msg, retryIn).Scan(&state); err != nil {
		return "", wrap("nack", "", err)
	}
	if state == nil {
		return "", wrap("nack", "", ErrLeaseLost)
	}
	return *state, nil
}

// Extend extends a lease to leaseDuration from now (0: the queue's lease) (pgjobq.extend) and
// returns the new expiry, or [ErrLeaseLost].
func Extend(ctx context.Context, db DB, lease Lease, leaseDuration time.Duration) (time.Time, error) {
	expiries, err := ExtendMany(ctx, db, []Lease{lease}, leaseDuration)
	if err != nil {
		return time.Time{}, err
	}
	held, ok := expiries[lease.JobID]
	if !ok {
		return time.Time{}, wrap("extend", "", ErrLeaseLost)
	}
	return held.Expiry, nil
}

// Held is a lease still held after a heartbeat.
type Held struct {
	Expiry time.Time // the new expiry
	// CancelRequested: the job was cancelled while it ran (pgjobq.cancel); its handler should
	// stop. Whatever it reports next, the job ends cancelled.
	CancelRequested bool
}

// ExtendMany extends many leases in one statement (pgjobq.extend_many) and returns each job
// still held with its new expiry and whether it was cancelled; lost leases are left out.
func ExtendMany(ctx context.Context, db DB, leases []Lease, leaseDuration time.Duration) (map[int64]Held, error) {
	ctx = withOperation(ctx, "extend", "")
	ids, tokens := splitLeases(leases)
	var lease any
	if leaseDuration != 0 {
		lease = leaseDuration
	}
	rows, err := db.Query(ctx, `SELECT id, lease_expires_at, cancel_requested FROM pgjobq.extend_many($1, $2, $3)`, ids, tokens, lease)
	if err != nil {
		return nil, wrap("extend", "", err)
	}
	defer rows.Close()
	held := make(map[int64]Held, len(leases))
	for rows.Next() {
		var (
			id int64
			h  Held
		)
		if err := rows.Scan(&id, &h.Expiry, &h.CancelRequested); err != nil {
			return nil, wrap("extend", "", err)
		}
		held[id] = h
	}
	return held, wrap("extend", "", rows.Err())
}

// Release gives a leased job back without charging the attempt (pgjobq.release), or returns
// [ErrLeaseLost]. A job cancelled while it was held ends cancelled instead.
func Release(ctx context.Context, db DB, lease Lease) error {
	ctx = withOperation(ctx, "release", "")
	var ok bool
	if err := db.QueryRow(ctx, `SELECT pgjobq.release($1, $2)`, lease.JobID, lease.Token).Scan(&ok); err != nil {
		return wrap("release", "", err)
	}
	if !ok {
		return wrap("release", "", ErrLeaseLost)
	}
	return nil
}

// splitLeases returns the ids and tokens of leases in id order, so that statements locking
// several jobs lock them in one order and cannot deadlock each other.
func splitLeases(leases []Lease) ([]int64, [][16]byte) {
	leases = slices.Clone(leases)
	slices.SortFunc(leases, func(a, b Lease) int { return cmp.Compare(a.JobID, b.JobID) })
	ids := make([]int64, len(leases))
	tokens := make([][16]byte, len(leases))
	for i, l := range leases {
		ids[i], tokens[i] = l.JobID, l.Token
	}
	return ids, tokens
}

func encodeResult(result any) (any, error) {
	if result == nil {
		return nil, nil
	}
	b, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}
