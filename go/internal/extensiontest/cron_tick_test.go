package extensiontest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestConcurrentTicksFireEachOccurrenceOnce runs several goroutines, each on its own connection,
// that tick at the same frozen instant while time moves forward in steps (sometimes skipping
// occurrences, so the catch-up run happens under contention too). Every due occurrence must
// fire exactly once: one run per schedule per step where it was due, each command's row
// written once, each send's job sent once.
func TestConcurrentTicksFireEachOccurrenceOnce(t *testing.T) {
	t.Parallel()
	db := setup(t)
	ctx := context.Background()
	const tickers, schedules = 6, 24
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	db.exec(t, `CREATE TABLE fired (jobname text, at timestamptz)`)
	db.exec(t, `SELECT pgjobq.create_queue('cron_q')`)
	conn, err := db.Pool.Acquire(ctx)
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(ctx, `SELECT set_config('pgjobq.now', $1, false)`, start.Format(time.RFC3339))
	require.NoError(t, err)
	for i := 0; i < schedules; i++ {
		name := fmt.Sprintf("%s_%d", kind(i), i)
		insert := fmt.Sprintf("INSERT INTO public.fired VALUES ('%s', pgjobq.now())", name)
		switch kind(i) {
		case "every":
			_, err = conn.Exec(ctx, `SELECT pgjobq.schedule($1, '* * * * *', $2)`, name, insert)
		case "even":
			_, err = conn.Exec(ctx, `SELECT pgjobq.schedule($1, '*/2 * * * *', $2)`, name, insert)
		default:
			_, err = conn.Exec(ctx, `SELECT pgjobq.schedule_send($1, '* * * * *', 'cron_q', jsonb_build_object('n', $2::int))`, name, i)
		}
		require.NoError(t, err)
	}

	// Time moves minute by minute, with jumps (missed occurrences fire once).
	var steps []time.Time
	for m := 1; m <= 40; m++ {
		if m%7 == 0 || m%7 == 1 {
			continue // nobody ticks at these minutes
		}
		steps = append(steps, start.Add(time.Duration(m)*time.Minute))
	}

	var total int64
	var mu sync.Mutex
	for _, at := range steps {
		var wg sync.WaitGroup
		ready := make(chan struct{})
		errs := make(chan error, tickers)
		for g := 0; g < tickers; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- func() error {
					c, err := db.Pool.Acquire(ctx)
					if err != nil {
						return err
					}
					defer c.Release()
					if _, err := c.Exec(ctx, `SELECT set_config('pgjobq.now', $1, false)`, at.Format(time.RFC3339)); err != nil {
						return err
					}
					<-ready // all tick at once
					var n int64
					if err := c.QueryRow(ctx, `SELECT pgjobq.tick()`).Scan(&n); err != nil {
						return err
					}
					mu.Lock()
					total += n
					mu.Unlock()
					return nil
				}()
			}()
		}
		close(ready)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	}

	// What should have fired: at each step, each schedule that had an occurrence since the
	// previous step (or since the start) fires once.
	want := map[string]int{}
	prev := start
	for _, at := range steps {
		for i := 0; i < schedules; i++ {
			switch i % 3 {
			case 0, 2:
				want[kind(i)]++
			case 1:
				for m := prev.Add(time.Minute); !m.After(at); m = m.Add(time.Minute) {
					if m.Minute()%2 == 0 {
						want[kind(i)]++
						break
					}
				}
			}
		}
		prev = at
	}
	expected := int64(want["every"] + want["even"] + want["send"])
	require.Equal(t, expected, total, "tick counts over all tickers")
	require.Equal(t, expected, db.count(t, `SELECT count(*) FROM pgjobq.cron_job_run_details WHERE status = 'succeeded'`))
	require.Zero(t, db.count(t, `SELECT count(*) FROM (SELECT jobid, scheduled_at FROM pgjobq.cron_job_run_details
		GROUP BY 1, 2 HAVING count(*) > 1) AS twice`), "an occurrence fired twice")
	require.Equal(t, int64(want["every"]+want["even"]), db.count(t, `SELECT count(*) FROM fired`))
	require.Zero(t, db.count(t, `SELECT count(*) FROM (SELECT jobname, at FROM fired GROUP BY 1, 2 HAVING count(*) > 1) AS twice`))
	require.Equal(t, int64(want["send"]), db.count(t, `SELECT count(*) FROM pgjobq.job`))
}

func kind(i int) string {
	return [...]string{"every", "even", "send"}[i%3]
}
