// Command bench runs pgjobq side by side with River and with a minimal plain-SQL SKIP LOCKED
// queue (the machine's ceiling), on one PostgreSQL server, one system after another, and
// prints a markdown table (stdout) with ratios to River and to the ceiling; it writes the same
// as CSV, and the soak's time series, to -out. Progress goes to stderr.
//
// `make bench` (bench/run.sh) starts a throwaway durable cluster and runs it; to run it against
// a server of your own, give -url a superuser connection (it creates the databases
// <prefix>_pgjobq, <prefix>_river and <prefix>_plain; pgjobq must be installed on the server).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
)

var startTime = time.Now()

// progress writes one line of progress to stderr.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] %s\n", time.Since(startTime).Seconds(), fmt.Sprintf(format, args...))
}

var allWorkloads = []string{"burndown", "steady", "latency", "bulk", "backlog", "soak", "sqlpath"}
var allSystems = []string{"pgjobq-go", "pgjobq-sql", "river", "plain"}

func main() {
	mode := flag.String("mode", envOr("BENCH_MODE", "full"), "quick (development, ~3 min) or full (the record)")
	url := flag.String("url", os.Getenv("PGJOBQ_BENCH_DATABASE_URL"), "superuser URL of the server (default $PGJOBQ_BENCH_DATABASE_URL)")
	prefix := flag.String("prefix", "bench", "prefix of the databases the bench creates")
	out := flag.String("out", "results", "directory for the CSV files")
	workloads := flag.String("workloads", strings.Join(allWorkloads, ","), "workloads to run")
	systems := flag.String("systems", strings.Join(allSystems, ","), "systems to run")
	runs := flag.Int("runs", 0, "repetitions (default: the mode's)")
	pgss := flag.Bool("pgss", false, "print the top statements (pg_stat_statements, nested too) after each measured window")
	cpuprofile := flag.String("cpuprofile", "", "write a Go CPU profile of the whole run to this file")
	flag.Parse()

	var p params
	switch *mode {
	case "quick":
		p = quickParams
	case "full":
		p = fullParams
	default:
		fail(fmt.Errorf("unknown -mode %q (quick or full)", *mode))
	}
	if *runs > 0 {
		p.Runs = *runs
	}
	if *url == "" {
		fail(fmt.Errorf("give -url (or PGJOBQ_BENCH_DATABASE_URL): a superuser connection to a server with pgjobq installed; `make bench` starts one"))
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer pprof.StopCPUProfile()
	}

	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	env, err := setup(ctx, *url, *prefix, p, split(*systems))
	if err != nil {
		fail(err)
	}
	defer env.close()
	r := &runner{p: p, res: &Results{}, env: env, admin: env.admin, pgss: *pgss}
	if *pgss {
		if err := r.pgssEnable(ctx); err != nil {
			fail(err)
		}
	}
	info := machineInfo(ctx, env.admin)
	progress("bench: %s mode, %d run(s) per workload", *mode, p.Runs)
	loadBefore := loadAvg()

	err = r.run(ctx, split(*workloads))
	pprof.StopCPUProfile()

	stamp := startTime.Format("20060102-150405")
	fmt.Printf("# pgjobq benchmark, %s mode, %s\n\n", *mode, startTime.Format(time.RFC3339))
	for _, l := range info {
		fmt.Println("- " + l)
	}
	fmt.Printf("- load average (1, 5, 15 min): %s at the start, %s at the end\n", loadBefore, loadAvg())
	fmt.Printf("- runs per workload: %d; workers: %d handler slots (pgjobq Worker, River); SQL path and plain: %d connections, %d jobs per take\n\n",
		p.Runs, p.Workers, p.Clients, p.Batch)
	r.res.Markdown(os.Stdout)
	if files, werr := r.writeCSV(*out, *mode, stamp); werr != nil {
		progress("writing CSV: %v", werr)
	} else {
		fmt.Printf("\nCSV: %s\n", strings.Join(files, ", "))
	}
	if err != nil {
		fail(err)
	}
}

func (r *runner) writeCSV(dir, mode, stamp string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, "results-"+stamp+".csv")
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if err := r.res.CSV(f, mode); err != nil {
		return nil, err
	}
	files := []string{name}
	if len(r.soakRows) > 0 {
		soak := filepath.Join(dir, "soak-"+stamp+".csv")
		if err := os.WriteFile(soak, []byte(strings.Join(r.soakRows, "\n")+"\n"), 0o644); err != nil {
			return files, err
		}
		files = append(files, soak)
	}
	return files, nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:3], " ")
}

func split(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
