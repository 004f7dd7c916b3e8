package extensiontest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestScheduleTickWithPgCron calls pgjobq.schedule_tick_with_pg_cron with the real pg_cron, in
// the database pg_cron runs in (cron.database_name), inside a transaction that is rolled back:
// pg_cron's launcher never sees the job, and nothing waits on its timing. Skipped when pg_cron is
// not loaded for the test server's admin database, or pgjobq is already installed there.
func TestScheduleTickWithPgCron(t *testing.T) {
	t.Parallel()
	db := setup(t) // for the server's admin URL
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, db.AdminURL)
	require.NoError(t, err)
	defer conn.Close(ctx)

	var cronDB, here string
	var available, installed bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT coalesce(current_setting('cron.database_name', true), ''),
		current_database(),
		EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pg_cron'),
		EXISTS (SELECT FROM pg_extension WHERE extname = 'pgjobq')`).Scan(&cronDB, &here, &available, &installed))
	if cronDB != here || !available || installed {
		t.Skipf("pg_cron is not loaded for database %q (cron.database_name %q, available %v) or pgjobq is installed there",
			here, cronDB, available)
	}

	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(ctx) }()
	_, err = tx.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS pg_cron`)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `CREATE EXTENSION pgjobq`)
	require.NoError(t, err)

	var id int64
	require.NoError(t, tx.QueryRow(ctx, `SELECT pgjobq.schedule_tick_with_pg_cron('pgjobq-test-tick')`).Scan(&id))
	var version, schedule, command, username, database string
	require.NoError(t, tx.QueryRow(ctx, `SELECT (SELECT extversion FROM pg_extension WHERE extname = 'pg_cron'),
		schedule, command, username, database FROM cron.job WHERE jobid = $1`, id).
		Scan(&version, &schedule, &command, &username, &database))
	require.Equal(t, "SELECT pgjobq.tick()", command)
	require.Equal(t, here, database)
	var me string
	require.NoError(t, tx.QueryRow(ctx, `SELECT current_user`).Scan(&me))
	require.Equal(t, me, username, "the tick runs as the role that set it up")
	if version < "1.5" {
		require.Equal(t, "* * * * *", schedule, "pg_cron %s has no second intervals", version)
	} else {
		require.Equal(t, "1 seconds", schedule)
	}

	// Called again, it updates the same pg_cron job.
	var again int64
	require.NoError(t, tx.QueryRow(ctx, `SELECT pgjobq.schedule_tick_with_pg_cron('pgjobq-test-tick')`).Scan(&again))
	require.Equal(t, id, again)
}
