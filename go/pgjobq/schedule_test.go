package pgjobq_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

func TestSchedules(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	pool := pgtest.New(t).Pool
	require.NoError(t, pgjobq.CreateQueue(ctx, pool, "reports", nil))
	// One connection with pgjobq's clock frozen, so the test moves time instead of waiting.
	conn, err := pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	setNow := func(at string) {
		t.Helper()
		_, err := conn.Exec(ctx, `SELECT set_config('pgjobq.now', $1, false)`, at)
		require.NoError(t, err)
	}
	setNow("2030-01-01T00:00:00Z")
	_, err = conn.Exec(ctx, `CREATE TABLE ticks (at timestamptz)`)
	require.NoError(t, err)
	var me string
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_user`).Scan(&me))

	t.Run("ScheduleAndList", func(t *testing.T) {
		id, err := pgjobq.Schedule(ctx, conn, "hourly", "0 * * * *", "INSERT INTO ticks VALUES (pgjobq.now())")
		require.NoError(t, err)
		again, err := pgjobq.Schedule(ctx, conn, "hourly", "0 * * * *", "INSERT INTO ticks VALUES (pgjobq.now())")
		require.NoError(t, err)
		require.Equal(t, id, again, "the same name updates the schedule")
		anon, err := pgjobq.Schedule(ctx, conn, "", "@daily", "SELECT 1")
		require.NoError(t, err)
		send, err := pgjobq.ScheduleSend(ctx, conn, "report", "30 * * * *", "reports", map[string]int{"n": 1},
			&pgjobq.ScheduleSendOptions{Attributes: map[string]any{"kind": "report"}, Priority: 2})
		require.NoError(t, err)

		list, err := pgjobq.ListSchedules(ctx, conn)
		require.NoError(t, err)
		require.Len(t, list, 3)
		require.Equal(t, pgjobq.ScheduleInfo{ID: id, Name: "hourly", Schedule: "0 * * * *",
			Command: "INSERT INTO ticks VALUES (pgjobq.now())", Username: me, Active: true,
			NextRunAt: time.Date(2030, 1, 1, 1, 0, 0, 0, time.UTC), CreatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
			normalize(list[0]))
		require.Equal(t, anon, list[1].ID)
		require.Equal(t, "", list[1].Name)
		require.Equal(t, send, list[2].ID)
		require.Equal(t, "reports", list[2].Queue)
		require.JSONEq(t, `{"n": 1}`, string(list[2].Payload))
		require.JSONEq(t, `{"kind": "report"}`, string(list[2].Attributes))
		require.Equal(t, 2, list[2].Priority)
	})

	t.Run("Tick", func(t *testing.T) {
		setNow("2030-01-01T00:59:59Z")
		n, err := pgjobq.Tick(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, 1, n, "the half-past send")
		setNow("2030-01-01T01:00:00Z")
		n, err = pgjobq.Tick(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, 1, n, "the hourly command")
		n, err = pgjobq.Tick(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, 0, n, "nothing fires twice")
		var ticks, sent int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM ticks`).Scan(&ticks))
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pgjobq.job`).Scan(&sent))
		require.Equal(t, 1, ticks)
		require.Equal(t, 1, sent)
	})

	t.Run("AlterAndUnschedule", func(t *testing.T) {
		list, err := pgjobq.ListSchedules(ctx, conn)
		require.NoError(t, err)
		id := list[0].ID
		paused, every := false, "15 * * * *"
		require.NoError(t, pgjobq.AlterSchedule(ctx, conn, id, pgjobq.AlterScheduleOptions{Schedule: &every, Active: &paused}))
		list, err = pgjobq.ListSchedules(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, "15 * * * *", list[0].Schedule)
		require.False(t, list[0].Active)
		require.Equal(t, time.Date(2030, 1, 1, 1, 15, 0, 0, time.UTC), list[0].NextRunAt.UTC())

		require.NoError(t, pgjobq.UnscheduleByName(ctx, conn, "hourly"))
		require.NoError(t, pgjobq.Unschedule(ctx, conn, list[1].ID))
		list, err = pgjobq.ListSchedules(ctx, conn)
		require.NoError(t, err)
		require.Len(t, list, 1)
	})

	t.Run("Errors", func(t *testing.T) {
		_, err := pgjobq.Schedule(ctx, conn, "bad", "61 * * * *", "SELECT 1")
		require.ErrorIs(t, err, pgjobq.ErrInvalidArgument)
		require.ErrorContains(t, err, "minute field")
		_, err = pgjobq.ScheduleSend(ctx, conn, "bad", "* * * * *", "nope", map[string]int{}, nil)
		require.ErrorIs(t, err, pgjobq.ErrQueueNotFound)
		require.ErrorIs(t, pgjobq.Unschedule(ctx, conn, -1), pgjobq.ErrScheduleNotFound)
		require.ErrorIs(t, pgjobq.UnscheduleByName(ctx, conn, "nope"), pgjobq.ErrScheduleNotFound)
		err = pgjobq.AlterSchedule(ctx, conn, -1, pgjobq.AlterScheduleOptions{})
		require.ErrorIs(t, err, pgjobq.ErrInvalidArgument, "no updates specified")
		active := true
		err = pgjobq.AlterSchedule(ctx, conn, -1, pgjobq.AlterScheduleOptions{Active: &active})
		require.ErrorIs(t, err, pgjobq.ErrScheduleNotFound)
		var e *pgjobq.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, "alter_job", e.Op)
	})
}

// normalize drops what a comparison of a command schedule should not depend on.
func normalize(s pgjobq.ScheduleInfo) pgjobq.ScheduleInfo {
	s.NextRunAt = s.NextRunAt.UTC()
	s.CreatedAt = s.CreatedAt.UTC()
	return s
}
