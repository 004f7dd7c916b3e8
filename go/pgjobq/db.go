package pgjobq

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB runs SQL. *pgxpool.Pool, *pgx.Conn and pgx.Tx satisfy it; pass a transaction to make an
// operation part of it.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// operation names what a driver function is doing, for hooks and errors.
type operation struct {
	name  string
	queue string
}

type operationKey struct{}

// withOperation tells an instrumented DB which operation the next statement belongs to.
func withOperation(ctx context.Context, name, queue string) context.Context {
	return context.WithValue(ctx, operationKey{}, operation{name: name, queue: queue})
}

func operationFrom(ctx context.Context) operation {
	op, _ := ctx.Value(operationKey{}).(operation)
	return op
}
