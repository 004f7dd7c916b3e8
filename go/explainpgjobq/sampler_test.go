package explainpgjobq_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/pgjobq/pgjobq/go/explainpgjobq"
	"github.com/pgjobq/pgjobq/go/internal/pgtest"
	"github.com/pgjobq/pgjobq/go/pgjobq"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// bundle is a test database with queue "q" holding two jobs, a one-connection pool set up by a
// sampler, and that pool instrumented with it.
type bundle struct {
	pg      *pgtest.DB
	pool    *pgxpool.Pool
	sampler *explainpgjobq.Sampler
	db      pgjobq.DB
	notices chan string // notices the pool's own OnNotice received

	mu    sync.Mutex
	plans []explainpgjobq.Plan
}

// setup builds the bundle. With user set, the pool connects as that new role, without
// superuser privileges.
func setup(t *testing.T, rate float64, user string) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{pg: pgtest.New(t), notices: make(chan string, 16)}
	require.NoError(t, pgjobq.CreateQueue(ctx, b.pg.Pool, "q", nil))
	_, err := pgjobq.SendBatch(ctx, b.pg.Pool, "q", []string{"a", "b"}, nil)
	require.NoError(t, err)

	b.sampler = explainpgjobq.NewSampler(rate, func(p explainpgjobq.Plan) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.plans = append(b.plans, p)
	})
	cfg, err := pgxpool.ParseConfig(b.pg.URL)
	require.NoError(t, err)
	if user != "" {
		_, err := b.pg.Pool.Exec(ctx, "CREATE ROLE "+pgx.Identifier{user}.Sanitize()+" LOGIN")
		require.NoError(t, err)
		t.Cleanup(func() {
			_, err := b.pg.Pool.Exec(context.Background(), "DROP ROLE "+pgx.Identifier{user}.Sanitize())
			require.NoError(t, err)
		})
		cfg.ConnConfig.User = user
	}
	cfg.MaxConns = 1 // every statement on the same session, so tests can look at its settings
	cfg.ConnConfig.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { b.notices <- n.Message }
	b.sampler.ConfigurePool(cfg)
	b.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(b.pool.Close)
	b.db = pgjobq.Instrument(b.pool, b.sampler)
	return b
}

func (b *bundle) recorded() []explainpgjobq.Plan {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]explainpgjobq.Plan(nil), b.plans...)
}

// requireExplainOff checks that auto_explain is switched off again on q (a DB on the session).
func requireExplainOff(t *testing.T, q pgjobq.DB) {
	t.Helper()
	var setting string
	require.NoError(t, q.QueryRow(context.Background(), `SHOW auto_explain.log_min_duration`).Scan(&setting))
	require.Equal(t, "-1", setting)
}

// requirePickPlan checks that p is a receive of q whose plans show the pick by
// job_available_idx, each plan a JSON document.
func requirePickPlan(t *testing.T, p explainpgjobq.Plan) {
	t.Helper()
	require.Equal(t, "receive", p.Op)
	require.Equal(t, "q", p.Queue)
	require.Contains(t, p.SQL, "pgjobq.receive(")
	require.NoError(t, p.Err)
	for _, plan := range p.Plans {
		require.True(t, json.Valid([]byte(plan)), "not JSON: %s", plan)
	}
	require.Contains(t, strings.Join(p.Plans, "\n"), `"Index Name": "job_available_idx"`)
}

func TestSampler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("SampledReceiveShowsThePick", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 1, "")
		jobs, err := pgjobq.Receive[string](ctx, b.db, "q", nil)
		require.NoError(t, err)
		require.Len(t, jobs, 1)

		plans := b.recorded()
		require.Len(t, plans, 1)
		requirePickPlan(t, plans[0])
		require.Greater(t, len(plans[0].Plans), 1, "nested statements, not just the Function Scan")
		requireExplainOff(t, b.pool)
		require.Empty(t, b.notices, "plans do not reach the pool's own notice handler")
	})

	t.Run("RateZeroRecordsNothing", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 0, "")
		jobs, err := pgjobq.Receive[string](ctx, b.db, "q", &pgjobq.ReceiveOptions{MaxJobs: 2})
		require.NoError(t, err)
		require.Len(t, jobs, 2)
		_, err = pgjobq.Send(ctx, b.db, "q", "c", nil)
		require.NoError(t, err)
		require.Empty(t, b.recorded())
		require.NoError(t, b.sampler.Err())
	})

	t.Run("FailingStatementKeepsItsError", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 1, "")
		_, want := pgjobq.Receive[string](ctx, b.pg.Pool, "nope", nil)
		_, got := pgjobq.Receive[string](ctx, b.db, "nope", nil)
		require.ErrorIs(t, got, pgjobq.ErrQueueNotFound)
		require.Equal(t, want.Error(), got.Error())
		var wantPg, gotPg *pgconn.PgError
		require.True(t, errors.As(want, &wantPg))
		require.True(t, errors.As(got, &gotPg))
		require.Equal(t, *wantPg, *gotPg)

		plans := b.recorded()
		require.Len(t, plans, 1)
		require.Equal(t, gotPg, plans[0].Err)
		requireExplainOff(t, b.pool)
	})

	t.Run("InTransaction", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 1, "")
		tx, err := b.pool.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback(ctx)
		txDB := pgjobq.Instrument(tx, b.sampler)
		_, err = pgjobq.Receive[string](ctx, txDB, "q", nil)
		require.NoError(t, err)
		requireExplainOff(t, tx)

		_, err = pgjobq.Receive[string](ctx, txDB, "nope", nil)
		require.ErrorIs(t, err, pgjobq.ErrQueueNotFound)
		require.NoError(t, tx.Rollback(ctx)) // the failed transaction's rollback undoes the SET
		requireExplainOff(t, b.pool)

		plans := b.recorded()
		require.Len(t, plans, 2)
		requirePickPlan(t, plans[0])
		var pgErr *pgconn.PgError
		require.ErrorAs(t, plans[1].Err, &pgErr)
		require.Equal(t, "PJ001", pgErr.Code)
	})

	t.Run("OtherNoticesPassThrough", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 1, "")
		_, err := b.db.Exec(ctx, `DO $$BEGIN RAISE NOTICE 'hello'; END$$`)
		require.NoError(t, err)
		require.Equal(t, "hello", <-b.notices)
	})

	t.Run("WithoutSuperuserDisablesItself", func(t *testing.T) {
		t.Parallel()
		b := setup(t, 1, "pgjobq_explain_test_"+rand.Text()[:8])
		var user string
		require.NoError(t, b.db.QueryRow(ctx, `SELECT current_user`).Scan(&user))
		require.Equal(t, b.pool.Config().ConnConfig.User, user)
		require.ErrorContains(t, b.sampler.Err(), "auto_explain")
		require.Empty(t, b.recorded())
	})
}
