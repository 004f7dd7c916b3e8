package pgtest_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestParallelTestsGetTheirOwnDatabase: parallel tests each get a database of their own with
// pgjobq installed, and the database is dropped when the test ends.
func TestParallelTestsGetTheirOwnDatabase(t *testing.T) {
	var (
		mu       sync.Mutex
		names    = map[string]bool{}
		adminURL string
	)
	t.Run("Group", func(t *testing.T) {
		for _, sub := range []string{"A", "B", "C"} {
			t.Run(sub, func(t *testing.T) {
				t.Parallel()
				db := pgtest.New(t)
				var current string
				var clockWorks bool
				require.NoError(t, db.Pool.QueryRow(context.Background(),
					`SELECT current_database(), pgjobq.now() = now()`).Scan(&current, &clockWorks))
				require.Equal(t, db.Name, current)
				require.True(t, clockWorks, "pgjobq.now() answers")
				mu.Lock()
				defer mu.Unlock()
				require.False(t, names[current], "database %s shared by two tests", current)
				names[current] = true
				adminURL = db.AdminURL
			})
		}
	})
	require.Len(t, names, 3)

	// The group's subtests have ended: their databases are gone.
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, adminURL)
	require.NoError(t, err)
	defer admin.Close(ctx)
	for name := range names {
		var exists bool
		require.NoError(t, admin.QueryRow(ctx,
			`SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists))
		require.False(t, exists, "database %s was not dropped", name)
	}
}

// TestRunFindsThePostgreSQLPrograms: Run runs pg_dump against the test's database.
func TestRunFindsThePostgreSQLPrograms(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t)
	dump := string(db.Run(t, "pg_dump", "--schema-only", "--dbname="+db.URL))
	require.True(t, strings.Contains(dump, "CREATE EXTENSION IF NOT EXISTS pgjobq"), "pg_dump output:\n%s", dump)
}
