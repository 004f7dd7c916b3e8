package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// runner runs the workloads over the systems and collects the results.
type runner struct {
	p        params
	res      *Results
	env      *env
	admin    *pgxpool.Pool
	pgss     bool
	soakRows []string // the soak's time series, CSV lines
}

const (
	wBurn    = "1 burn-down"
	wSteady  = "2 steady state"
	wLatency = "3 latency"
	wBulk    = "4 bulk send"
	wBacklog = "5 backlog"
	wSoak    = "6 soak"
	wSQL     = "7 SQL path"
)

// pick returns the systems of the run among names, in run order.
func (r *runner) pick(names ...string) []System {
	var out []System
	for _, s := range r.env.systems {
		if slices.Contains(names, s.Name()) {
			out = append(out, s)
		}
	}
	return out
}

// run runs the workloads named, in the order of issue 5. Within a workload, each repetition
// runs every system once, so a drift of the machine's load spreads over all of them.
func (r *runner) run(ctx context.Context, workloads []string) error {
	p := r.p
	for _, w := range workloads {
		if !slices.Contains(allWorkloads, w) {
			return fmt.Errorf("unknown workload %q (known: %s)", w, strings.Join(allWorkloads, ", "))
		}
	}
	has := func(w string) bool { return slices.Contains(workloads, w) }
	all := r.env.systems
	// reps runs f for every repetition and system.
	reps := func(name string, systems []System, f func(s System) error) error {
		for run := range p.Runs {
			for _, s := range systems {
				progress("%s: %s, run %d/%d", name, s.Name(), run+1, p.Runs)
				if err := f(s); err != nil {
					return fmt.Errorf("%s, %s: %w", name, s.Name(), err)
				}
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
		return nil
	}

	if has("burndown") {
		variant := short(p.BurnJobs) + " jobs"
		if err := reps(wBurn, all, func(s System) error {
			rate, err := r.burnDown(ctx, s, p.BurnJobs)
			r.res.Add(wBurn, variant, s.Name(), "jobs/s", rate)
			progress("  %.0f jobs/s", rate)
			return err
		}); err != nil {
			return err
		}
	}
	if has("steady") {
		variant := fmt.Sprintf("%s window, %d producers × %d", p.SteadyWindow, p.SteadyProducers, p.SteadyBatch)
		if err := reps(wSteady, all, func(s System) error {
			rate, err := r.steady(ctx, s)
			r.res.Add(wSteady, variant, s.Name(), "jobs/s", rate)
			progress("  %.0f jobs/s", rate)
			return err
		}); err != nil {
			return err
		}
	}
	if has("latency") {
		// Only systems with a wake-up path: the SQL-path and plain workers poll.
		for _, v := range []struct {
			name      string
			rate      float64
			producers int
		}{
			{fmt.Sprintf("low rate %.0f/s", p.LatencyLowRate), p.LatencyLowRate, 1},
			{fmt.Sprintf("under load %.0f/s", p.LatencyLoadRate), p.LatencyLoadRate, p.LatencyLoadProd},
		} {
			if err := reps(wLatency+" "+v.name, r.pick("pgjobq-go", "river"), func(s System) error {
				l, err := r.latency(ctx, s, v.rate, v.producers)
				if err != nil {
					return err
				}
				for _, m := range []struct {
					metric string
					vals   []float64
					q      float64
				}{
					{"p50 ms", l.wake, 0.50}, {"p95 ms", l.wake, 0.95}, {"p99 ms", l.wake, 0.99},
					{"e2e p50 ms", l.e2e, 0.50}, {"e2e p99 ms", l.e2e, 0.99},
				} {
					r.res.Add(wLatency, v.name, s.Name(), m.metric, percentile(m.vals, m.q))
				}
				progress("  commit→start p50 %.2f ms, p99 %.2f ms over %d jobs", percentile(l.wake, 0.5), percentile(l.wake, 0.99), len(l.wake))
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if has("bulk") {
		variant := fmt.Sprintf("%s jobs, %d producers × %d", short(p.BulkJobs), p.BulkProducers, p.BulkBatch)
		if err := reps(wBulk, all, func(s System) error {
			rate, err := r.bulk(ctx, s)
			r.res.Add(wBulk, variant, s.Name(), "jobs/s", rate)
			progress("  %.0f jobs/s", rate)
			return err
		}); err != nil {
			return err
		}
	}
	if has("backlog") {
		largest := slices.Max(p.BacklogSizes)
		var variants []backlogVariant
		for _, n := range p.BacklogSizes {
			variants = append(variants, backlogVariant{size: n})
		}
		variants = append(variants, backlogVariant{size: largest, future: true})
		for _, v := range variants {
			for _, s := range r.pick("pgjobq-go", "river", "plain") {
				if v.future && s.Name() == "plain" {
					continue // no scheduling
				}
				progress("%s %s: %s, %d run(s)", wBacklog, v, s.Name(), p.Runs)
				rates, err := r.backlog(ctx, s, v, p.BacklogWork, p.Runs)
				if err != nil {
					return fmt.Errorf("%s %s, %s: %w", wBacklog, v, s.Name(), err)
				}
				r.res.Add(wBacklog, v.String(), s.Name(), "jobs/s", rates...)
			}
		}
		// Each system's rate with a backlog relative to its rate with none.
		for _, s := range r.pick("pgjobq-go", "river", "plain") {
			base := r.res.median(wBacklog, backlogVariant{size: 0}.String(), s.Name(), "jobs/s")
			for _, v := range variants[1:] {
				if m := r.res.median(wBacklog, v.String(), s.Name(), "jobs/s"); m > 0 && base > 0 {
					r.res.Add(wBacklog, v.String(), s.Name(), "÷ ready=0", m/base)
				}
			}
		}
	}
	if has("soak") {
		if err := r.soakAll(ctx); err != nil {
			return err
		}
	}
	if has("sqlpath") {
		for _, n := range []int{1, p.SQLBatch} {
			variant := fmt.Sprintf("%d per transaction", n)
			var cyclers []System
			for _, s := range r.pick("pgjobq-sql", "plain") {
				cyclers = append(cyclers, s)
			}
			if err := reps(wSQL+", "+variant, cyclers, func(s System) error {
				rate, err := r.sqlPath(ctx, s.(Cycler), n)
				r.res.Add(wSQL, variant, s.Name(), "jobs/s", rate)
				progress("  %.0f jobs/s", rate)
				return err
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// soakAll runs workload 6 for pgjobq-go and River at one common rate: half of the slower one's
// steady-state rate measured in this run (or 1000 jobs/s without one), so that both can keep up
// and their tables are compared at the same load. (The plain queue, a ceiling for throughput,
// is left out: ten minutes of it would say nothing about pgjobq's stability.)
func (r *runner) soakAll(ctx context.Context) error {
	p := r.p
	systems := r.pick("pgjobq-go", "river")
	rate := 0.0
	for _, s := range systems {
		m := r.res.median(wSteady, "", s.Name(), "jobs/s")
		if m > 0 && (rate == 0 || m/2 < rate) {
			rate = m / 2
		}
	}
	if rate == 0 {
		rate = 1000
	}
	variant := fmt.Sprintf("%s at %.0f jobs/s", p.SoakDuration, rate)
	r.soakRows = append(r.soakRows, "system,run,t_s,jobs_per_s,backlog,hot_dead_tup,hot_live_tup,hot_bytes,all_bytes")
	for run := range p.SoakRuns {
		for _, s := range systems {
			progress("%s: %s at %.0f jobs/s for %s, run %d/%d", wSoak, s.Name(), rate, p.SoakDuration, run+1, p.SoakRuns)
			samples, err := r.soak(ctx, s, rate, p.SoakDuration, p.SoakInterval)
			if err != nil {
				return fmt.Errorf("%s, %s: %w", wSoak, s.Name(), err)
			}
			var maxDead int64
			for _, smp := range samples {
				r.res.Add(wSoak, variant, s.Name(), "jobs/s per interval", smp.rate)
				maxDead = max(maxDead, smp.hotDead)
				r.soakRows = append(r.soakRows, fmt.Sprintf("%s,%d,%.0f,%.1f,%d,%d,%d,%d,%d", s.Name(), run+1,
					smp.at.Seconds(), smp.rate, smp.backlog, smp.hotDead, smp.hotLive, smp.hotBytes, smp.allBytes))
			}
			if n := len(samples); n > 0 {
				first, last := samples[0], samples[n-1]
				r.res.Add(wSoak, variant, s.Name(), "last ÷ first interval", last.rate/first.rate)
				r.res.Add(wSoak, variant, s.Name(), "hot table max dead tuples", float64(maxDead))
				r.res.Add(wSoak, variant, s.Name(), "hot table MB at end", mb(last.hotBytes))
				r.res.Add(wSoak, variant, s.Name(), "all tables MB at end", mb(last.allBytes))
			}
		}
	}
	return nil
}

// median returns the median of a result, or 0; an empty variant matches any.
func (rs *Results) median(workload, variant, system, metric string) float64 {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.list {
		if r.Workload == workload && (variant == "" || r.Variant == variant) && r.System == system && r.Metric == metric {
			return median(r.Values)
		}
	}
	return 0
}

// pgssEnable makes pg_stat_statements track statements nested in functions (pgjobq's work
// happens inside PL/pgSQL functions).
func (r *runner) pgssEnable(ctx context.Context) error {
	for _, sql := range []string{
		`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`,
		`ALTER SYSTEM SET pg_stat_statements.track = 'all'`,
		`SELECT pg_reload_conf()`,
	} {
		if _, err := r.admin.Exec(ctx, sql); err != nil {
			return fmt.Errorf("-pgss needs pg_stat_statements preloaded: %w", err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the reload reaches the backends
	return nil
}

func (r *runner) pgssReset(ctx context.Context) {
	if r.pgss {
		if _, err := r.admin.Exec(ctx, `SELECT pg_stat_statements_reset()`); err != nil {
			progress("pg_stat_statements_reset: %v", err)
		}
	}
}

// pgssReport prints the statements that took the most time since the last reset.
func (r *runner) pgssReport(ctx context.Context, label string) {
	if !r.pgss {
		return
	}
	rows, err := r.admin.Query(ctx, `SELECT calls, total_exec_time, mean_exec_time, rows, toplevel,
		regexp_replace(query, '\s+', ' ', 'g')
		FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 12`)
	if err != nil {
		progress("pg_stat_statements: %v", err)
		return
	}
	defer rows.Close()
	progress("  top statements of %s (calls, total ms, mean ms, rows, top-level, query):", label)
	for rows.Next() {
		var (
			calls, nrows int64
			total, mean  float64
			top          bool
			query        string
		)
		if err := rows.Scan(&calls, &total, &mean, &nrows, &top, &query); err != nil {
			return
		}
		if len(query) > 150 {
			query = query[:150] + "…"
		}
		progress("    %8d %10.1f %8.3f %9d %-5v %s", calls, total, mean, nrows, top, query)
	}
}
