package extensiontest

import (
	"context"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestConcurrentReceiversCompleteEachJobOnce runs many receivers on their own connections over
// thousands of jobs: no job is ever held by two live leases, and every job is completed exactly
// once.
func TestConcurrentReceiversCompleteEachJobOnce(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	const jobs, receivers, batch = 4000, 8, 7

	db.exec(t, `SELECT pgjobq.create_queue('many', lease_duration => '1 hour')`)
	db.exec(t, `SELECT count(*) FROM pgjobq.send_batch('many',
		(SELECT array_agg(jsonb_build_object('n', g)) FROM generate_series(1, $1) AS g))`, jobs)

	var (
		mu        sync.Mutex
		held      = map[int64]bool{} // jobs under a live lease now
		completed = map[int64]int{}
	)
	var wg sync.WaitGroup
	errs := make(chan error, receivers)
	for r := 0; r < receivers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- func() error {
				conn, err := db.Pool.Acquire(ctx)
				if err != nil {
					return err
				}
				defer conn.Release()
				for {
					rows, _ := conn.Query(ctx, `SELECT id, lease_token FROM pgjobq.receive('many', $1)`, batch)
					type lease struct {
						id    int64
						token [16]byte
					}
					got, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (lease, error) {
						var l lease
						return l, row.Scan(&l.id, &l.token)
					})
					if err != nil {
						return err
					}
					if len(got) == 0 {
						return nil
					}
					mu.Lock()
					for _, l := range got {
						if held[l.id] {
							mu.Unlock()
							t.Errorf("job %d delivered while another lease on it is live", l.id)
							return nil
						}
						held[l.id] = true
					}
					mu.Unlock()
					for _, l := range got {
						var ok bool
						if err := conn.QueryRow(ctx, `SELECT pgjobq.ack($1, $2) IS NOT NULL`, l.id, l.token).Scan(&ok); err != nil {
							return err
						}
						mu.Lock()
						delete(held, l.id)
						if ok {
							completed[l.id]++
						}
						mu.Unlock()
					}
				}
			}()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	require.Len(t, completed, jobs, "every job completed")
	for id, n := range completed {
		require.Equal(t, 1, n, "job %d completed %d times", id, n)
	}
	require.Equal(t, int64(0), db.count(t, `SELECT count(*) FROM pgjobq.job`))
	require.Equal(t, int64(jobs), db.count(t, `SELECT count(*) FROM pgjobq.job_archive WHERE state = 'completed' AND attempts = 1`))
}
