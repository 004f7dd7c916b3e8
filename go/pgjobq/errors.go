package pgjobq

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
)

// Errors the extension raises, by SQLSTATE, and the driver's own. Test with errors.Is; use
// errors.As with *Error for the operation, the queue and the server's message.
var (
	ErrQueueNotFound    = errors.New("pgjobq: queue does not exist")                 // PJ001
	ErrQueueExists      = errors.New("pgjobq: queue already exists")                 // PJ002
	ErrQueueFull        = errors.New("pgjobq: queue is full")                        // PJ003
	ErrJobNotFound      = errors.New("pgjobq: job does not exist")                   // PJ004
	ErrQueueNotEmpty    = errors.New("pgjobq: queue still has jobs")                 // PJ005
	ErrScheduleNotFound = errors.New("pgjobq: schedule does not exist")              // PJ006 (or another role's)
	ErrInvalidArgument  = errors.New("pgjobq: invalid argument")                     // 22023, 22004
	ErrTooLarge         = errors.New("pgjobq: value or batch too large")             // 54000
	ErrLeaseLost        = errors.New("pgjobq: lease lost")                           // a stale lease token
	ErrCancelled        = errors.New("pgjobq: job cancelled")                        // the cause of a cancelled handler's context
	ErrExtensionMissing = errors.New("pgjobq: extension pgjobq is not installed")    // CREATE EXTENSION pgjobq
	ErrExtensionVersion = errors.New("pgjobq: extension pgjobq has another version") // ALTER EXTENSION pgjobq UPDATE
)

// sqlstates maps the extension's SQLSTATEs to the errors above: the one place that knows them.
var sqlstates = map[string]error{
	"PJ001": ErrQueueNotFound,
	"PJ002": ErrQueueExists,
	"PJ003": ErrQueueFull,
	"PJ004": ErrJobNotFound,
	"PJ005": ErrQueueNotEmpty,
	"PJ006": ErrScheduleNotFound,
	"22023": ErrInvalidArgument,
	"22004": ErrInvalidArgument,
	"54000": ErrTooLarge,
}

// Error is an error of one pgjobq operation. It unwraps to one of the Err* values when the
// cause is known, and to the *pgconn.PgError or other cause below it.
type Error struct {
	Op    string // the operation, e.g. "send"
	Queue string // the queue, if the operation has one
	Kind  error  // one of the Err* values, or nil
	Err   error  // the cause
}

func (e *Error) Error() string {
	where := e.Op
	if e.Queue != "" {
		where = fmt.Sprintf("%s %q", e.Op, e.Queue)
	}
	return fmt.Sprintf("pgjobq: %s: %v", where, e.Err)
}

// Unwrap returns the kind and the cause, so errors.Is and errors.As see both.
func (e *Error) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// wrap turns err of operation op on queue into an *Error with its kind; nil stays nil.
func wrap(op, queue string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Queue: queue, Err: err}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "3F000": // schema pgjobq does not exist
			e.Kind = ErrExtensionMissing
		case "42883": // the schema exists but not this function: another version
			e.Kind = ErrExtensionVersion
		default:
			e.Kind = sqlstates[pgErr.Code]
		}
	}
	for _, kind := range []error{ErrLeaseLost, ErrExtensionMissing, ErrExtensionVersion} {
		if errors.Is(err, kind) {
			e.Kind = kind
		}
	}
	return e
}
