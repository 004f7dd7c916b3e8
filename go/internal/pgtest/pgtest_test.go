package pgtest_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestParallelTestsGetTheirOwnDatabase: parallel tests each get a database of their own with the
// extension installed.
func TestParallelTestsGetTheirOwnDatabase(t *testing.T) {
	var mu sync.Mutex
	names := map[string]bool{}
	for _, sub := range []string{"A", "B", "C"} {
		t.Run(sub, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t)
			var current, version string
			require.NoError(t, db.Pool.QueryRow(context.Background(),
				`SELECT current_database(), extversion FROM pg_extension WHERE extname = 'pgjobq'`).Scan(&current, &version))
			require.Equal(t, db.Name, current)
			require.Equal(t, "1.0", version)
			mu.Lock()
			defer mu.Unlock()
			require.False(t, names[current], "database %s shared by two tests", current)
			names[current] = true
		})
	}
}
