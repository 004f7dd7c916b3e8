// Package extensiontest holds Go tests of the SQL extension's claims that need several
// connections at once, killed connections, or pg_dump: concurrency, crashes, dump and restore.
package extensiontest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// testDB is a test's own database with a few helpers.
type testDB struct {
	*pgtest.DB
}

func setup(t *testing.T) *testDB {
	t.Helper()
	return &testDB{pgtest.New(t)}
}

// exec runs sql and fails the test on error.
func (db *testDB) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := db.Pool.Exec(context.Background(), sql, args...)
	require.NoError(t, err, sql)
}

// count runs a query returning one bigint.
func (db *testDB) count(t *testing.T, sql string, args ...any) int64 {
	t.Helper()
	var n int64
	require.NoError(t, db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n), sql)
	return n
}

// setClock freezes pgjobq's clock on one connection (the pgjobq.now setting), so a test moves
// time past a lease instead of sleeping.
func setClock(t *testing.T, conn *pgx.Conn, at time.Time) {
	t.Helper()
	_, err := conn.Exec(context.Background(), `SELECT set_config('pgjobq.now', $1, false)`, at.Format(time.RFC3339Nano))
	require.NoError(t, err)
}
