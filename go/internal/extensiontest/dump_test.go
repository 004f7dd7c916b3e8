package extensiontest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDumpAndRestoreKeepQueuesAndJobs: pg_dump of a database with pgjobq keeps its queues and
// jobs in every state, and the restored database carries on (ids continue, jobs are received).
func TestDumpAndRestoreKeepQueuesAndJobs(t *testing.T) {
	t.Parallel()
	src := setup(t)
	ctx := context.Background()
	src.exec(t, `SELECT pgjobq.create_queue('kept', max_attempts => 1, lease_duration => '1 hour')`)
	src.exec(t, `SELECT pgjobq.send('kept', '{"n": 1}', attributes => '{"k": "v"}')`) // 1 will be completed
	src.exec(t, `SELECT pgjobq.send('kept', '{"n": 2}')`)                             // 2 will be dead
	src.exec(t, `SELECT pgjobq.send('kept', '{"n": 3}')`)                             // 3 will be leased
	src.exec(t, `SELECT pgjobq.send('kept', '{"n": 4}')`)                             // 4 stays available
	src.exec(t, `SELECT pgjobq.send('kept', '{"n": 5}', delay => '1 day')`)           // 5 stays scheduled
	src.exec(t, `SELECT pgjobq.ack(id, lease_token, '{"r": 1}') FROM pgjobq.receive('kept')`)
	src.exec(t, `SELECT pgjobq.nack(id, lease_token, 'boom') FROM pgjobq.receive('kept')`)
	src.exec(t, `SELECT count(*) FROM pgjobq.receive('kept')`)

	states := `SELECT string_agg(id || ':' || state, ' ' ORDER BY id) FROM
		generate_series(1, 5) AS id, LATERAL (SELECT state FROM pgjobq.get_job(id)) AS s`
	var before string
	require.NoError(t, src.Pool.QueryRow(ctx, states).Scan(&before))
	require.Equal(t, "1:completed 2:dead 3:leased 4:available 5:scheduled", before)

	dst := restoreCopy(t, src)

	var after string
	require.NoError(t, dst.Pool.QueryRow(ctx, states).Scan(&after))
	require.Equal(t, before, after)
	var queues string
	require.NoError(t, dst.Pool.QueryRow(ctx,
		`SELECT string_agg(queue || ' ' || lease_duration || ' ' || max_attempts, ',') FROM pgjobq.list_queues()`).Scan(&queues))
	require.Equal(t, "kept 01:00:00 1", queues)

	var next int64
	require.NoError(t, dst.Pool.QueryRow(ctx, `SELECT pgjobq.send('kept', '{"n": 6}')`).Scan(&next))
	require.Equal(t, int64(6), next, "ids continue after the restore")
	var got []int64
	rows, err := dst.Pool.Query(ctx, `SELECT id FROM pgjobq.receive('kept', 10)`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		require.NoError(t, rows.Scan(&id))
		got = append(got, id)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []int64{4, 6}, got)
}

// restoreCopy dumps src with pg_dump and restores it with pg_restore into a new database that
// has no pgjobq yet, as a restore onto a fresh server would.
func restoreCopy(t *testing.T, src *testDB) *testDB {
	t.Helper()
	dst := setup(t)
	dst.exec(t, `DROP EXTENSION pgjobq; DROP SCHEMA pgjobq`)
	file := filepath.Join(t.TempDir(), "dump")
	src.Run(t, "pg_dump", "--format=custom", "--file="+file, "--dbname="+src.URL)
	dst.Run(t, "pg_restore", "--exit-on-error", "--dbname="+dst.URL, file)
	return dst
}
