package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Result is one measured quantity of one system in one workload: a value per run (or, for the
// soak's throughput, per interval).
type Result struct {
	Workload string // e.g. "1 burn-down"
	Variant  string // e.g. "10k jobs", "ready=100k"
	System   string
	Metric   string // e.g. "jobs/s", "p99 ms"
	Values   []float64
}

// Results collects results in the order they were first seen.
type Results struct {
	mu   sync.Mutex
	list []*Result
}

func (rs *Results) Add(workload, variant, system, metric string, v ...float64) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.list {
		if r.Workload == workload && r.Variant == variant && r.System == system && r.Metric == metric {
			r.Values = append(r.Values, v...)
			return
		}
	}
	rs.list = append(rs.list, &Result{Workload: workload, Variant: variant, System: system, Metric: metric, Values: v})
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// percentile is the q-quantile (0 < q <= 1) of v by the nearest-rank method.
func percentile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// row is a result with its summary and its ratios to River and to the ceiling (the plain
// queue) of the same workload, variant and metric; NaN where there is nothing to compare.
type row struct {
	*Result
	med, lo, hi    float64
	vsRiver, vsCap float64
}

func (rs *Results) rows() []row {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	find := func(r *Result, system string) float64 {
		for _, o := range rs.list {
			if o.Workload == r.Workload && o.Variant == r.Variant && o.Metric == r.Metric && o.System == system {
				return median(o.Values)
			}
		}
		return math.NaN()
	}
	var out []row
	for _, r := range rs.list {
		m := median(r.Values)
		rw := row{Result: r, med: m, lo: slices.Min(r.Values), hi: slices.Max(r.Values),
			vsRiver: m / find(r, "river"), vsCap: m / find(r, "plain")}
		if strings.Contains(r.Metric, "÷") || strings.Contains(r.Metric, "dead") {
			rw.vsRiver, rw.vsCap = math.NaN(), math.NaN() // a ratio already, or a count
		}
		out = append(out, rw)
	}
	// Group by workload, variant and metric, keeping first-seen order within.
	key := func(r row) string { return r.Workload + "\x00" + r.Variant + "\x00" + r.Metric }
	first := map[string]int{}
	for i, r := range out {
		if _, ok := first[key(r)]; !ok {
			first[key(r)] = i
		}
	}
	slices.SortStableFunc(out, func(a, b row) int { return first[key(a)] - first[key(b)] })
	return out
}

// num formats a value with precision that suits its size.
func num(v float64) string {
	switch a := math.Abs(v); {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func ratio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

// Markdown writes the results as one markdown table.
func (rs *Results) Markdown(w io.Writer) {
	fmt.Fprintln(w, "| workload | variant | metric | system | median | min | max | n | vs River | vs ceiling |")
	fmt.Fprintln(w, "|---|---|---|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs.rows() {
		vsRiver, vsCap := ratio(r.vsRiver), ratio(r.vsCap)
		if r.System == "river" && !math.IsNaN(r.vsRiver) {
			vsRiver = "1×"
		}
		if r.System == "plain" && !math.IsNaN(r.vsCap) {
			vsCap = "1×"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |\n", r.Workload, r.Variant,
			r.Metric, r.System, num(r.med), num(r.lo), num(r.hi), len(r.Values), vsRiver, vsCap)
	}
}

// CSV writes the results, one line per result with its summary and every value.
func (rs *Results) CSV(w io.Writer, mode string) error {
	c := csv.NewWriter(w)
	_ = c.Write([]string{"mode", "workload", "variant", "system", "metric", "n", "median", "min", "max",
		"vs_river", "vs_ceiling", "values"})
	f := func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', 6, 64)
	}
	for _, r := range rs.rows() {
		vals := make([]string, len(r.Values))
		for i, v := range r.Values {
			vals[i] = f(v)
		}
		_ = c.Write([]string{mode, r.Workload, r.Variant, r.System, r.Metric, strconv.Itoa(len(r.Values)),
			f(r.med), f(r.lo), f(r.hi), f(r.vsRiver), f(r.vsCap), strings.Join(vals, ";")})
	}
	c.Flush()
	return c.Error()
}
