// Package pgtest gives each Go test a PostgreSQL database of its own with pgjobq installed, so
// tests can run in parallel against a real server.
//
// The server is found once per test process, in this order:
//  1. PGJOBQ_TEST_DATABASE_URL: the URL of a database on a server where pgjobq is installed
//     (make test sets it); tests create and drop their databases there.
//  2. A throwaway cluster the process starts itself with scripts/cluster.sh (needs the
//     PostgreSQL 15 server binaries and pgjobq installed: `make -C extension install` as root).
//  3. A container built from docker/Dockerfile, when a Docker engine answers a ping.
//
// Otherwise the test fails with a message saying what to do. Packages using New must call Main
// from their TestMain so a server the process started is stopped at the end (or on SIGINT or
// SIGTERM; a -timeout panic still leaves it running).
//
// Each test gets CREATE DATABASE and CREATE EXTENSION pgjobq of its own rather than a copy of a
// template database: on the test cluster CREATE DATABASE takes ~250 ms either way and the
// extension ~30 ms, and a template could go stale when the SQL changes.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DB is one test's own database.
type DB struct {
	Pool     *pgxpool.Pool // connected to Name
	URL      string        // connection URL of Name
	Name     string        // database name
	AdminURL string        // a database of the same server outside the test's, as superuser
}

// EnvURL names the environment variable with the URL of a server to test against.
const EnvURL = "PGJOBQ_TEST_DATABASE_URL"

// BinDir holds the PostgreSQL 15 client and server programs (pg_dump, pg_restore, ...).
const BinDir = "/usr/lib/postgresql/15/bin"

var (
	serverOnce sync.Once
	server     *source
	serverErr  error
	mainCalled bool

	stopMu sync.Mutex
	stopFn func() error // stops a server this process started; nil once stopped
)

// source is where test databases are created.
type source struct {
	adminURL string // a database to run CREATE DATABASE from
}

// Main runs the tests of a package and then stops a server the process started. Call it from
// TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	mainCalled = true
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-signals
		fmt.Fprintf(os.Stderr, "pgtest: %v: stopping the test server\n", sig)
		stopServer()
		os.Exit(1)
	}()
	code := m.Run()
	stopServer()
	os.Exit(code)
}

// onStop registers how to stop the server this process starts.
func onStop(fn func() error) {
	stopMu.Lock()
	defer stopMu.Unlock()
	stopFn = fn
}

func stopServer() {
	stopMu.Lock()
	fn := stopFn
	stopFn = nil
	stopMu.Unlock()
	if fn != nil {
		if err := fn(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stopping the test server:", err)
		}
	}
}

// New creates a fresh database with pgjobq installed for t and drops it when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	db, closeDB, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := closeDB(); err != nil {
			t.Error(err)
		}
	})
	return db
}

// Open is [New] for code without a testing.TB, such as examples: it returns the database and a
// function that closes its pool and drops it.
func Open() (*DB, func() error, error) {
	if !mainCalled {
		return nil, nil, errors.New("pgtest: call pgtest.Main(m) from the package's TestMain")
	}
	serverOnce.Do(func() { server, serverErr = findServer() })
	if serverErr != nil {
		return nil, nil, serverErr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := "pgjobq_test_" + randomHex(6)
	if err := admin(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return nil, nil, fmt.Errorf("pgtest: create database: %w", err)
	}
	var pool *pgxpool.Pool
	closeDB := func() error {
		if pool != nil {
			pool.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := admin(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("pgtest: drop %s: %w", name, err)
		}
		return nil
	}
	fail := func(err error) (*DB, func() error, error) {
		return nil, nil, errors.Join(err, closeDB())
	}
	dbURL, err := withDatabase(server.adminURL, name)
	if err != nil {
		return fail(err)
	}
	if pool, err = pgxpool.New(ctx, dbURL); err != nil {
		return fail(fmt.Errorf("pgtest: connect to %s: %w", name, err))
	}
	if _, err := pool.Exec(ctx, "CREATE EXTENSION pgjobq"); err != nil {
		return fail(fmt.Errorf("pgtest: CREATE EXTENSION pgjobq: %w (install it with `make -C extension install` as root)", err))
	}
	return &DB{Pool: pool, URL: dbURL, Name: name, AdminURL: server.adminURL}, closeDB, nil
}

// admin runs one statement on the server's admin database.
func admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, server.adminURL)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", redact(server.adminURL), err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Run runs one of the PostgreSQL programs of [BinDir] (e.g. "pg_dump") with args and returns its
// standard output; it fails the test with the program's output if it fails.
func (db *DB) Run(t testing.TB, program string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(filepath.Join(BinDir, program), args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pgtest: %s %s: %v\n%s", program, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// findServer picks the first source that answers, in the order of the package comment.
func findServer() (*source, error) {
	if u := os.Getenv(EnvURL); u != "" {
		return &source{adminURL: u}, nil
	}
	var tried []string
	s, err := startCluster()
	if err == nil {
		return s, nil
	}
	tried = append(tried, "a throwaway cluster: "+err.Error())
	s, err = startDocker()
	if err == nil {
		return s, nil
	}
	tried = append(tried, "Docker: "+err.Error())
	return nil, fmt.Errorf("pgtest: no PostgreSQL to test against. Run `make test` from the repository root "+
		"(it starts one), or set %s to the URL of a database on a server with pgjobq installed. Tried:\n  %s",
		EnvURL, strings.Join(tried, "\n  "))
}

// startCluster starts a throwaway cluster with the project's scripts/cluster.sh.
func startCluster() (*source, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(root, "scripts", "cluster.sh")
	if _, err := os.Stat(filepath.Join(BinDir, "initdb")); err != nil {
		return nil, errors.New("no PostgreSQL 15 server binaries in " + BinDir)
	}
	if _, err := os.Stat("/usr/share/postgresql/15/extension/pgjobq.control"); err != nil {
		return nil, errors.New("pgjobq is not installed: run `make -C extension install` as root")
	}
	dir, err := os.MkdirTemp("", "pgjobq-gotest-")
	if err != nil {
		return nil, err
	}
	stop := func() error {
		out, err := exec.Command("bash", script, "stop", dir).CombinedOutput()
		os.RemoveAll(dir)
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	onStop(stop) // before the start, so a signal during it still stops the server
	if out, err := exec.Command("bash", script, "start", dir).CombinedOutput(); err != nil {
		stopServer()
		return nil, fmt.Errorf("%s start: %v: %s", script, err, out)
	}
	out, err := exec.Command("bash", script, "url", dir).Output()
	if err != nil {
		stopServer()
		return nil, err
	}
	return &source{adminURL: strings.TrimSpace(string(out))}, nil
}

// repoRoot finds the repository root from the working directory (a package directory).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "scripts", "cluster.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/cluster.sh not found above the working directory")
		}
		dir = parent
	}
}

// withDatabase returns url u with its database replaced by name.
func withDatabase(u, name string) (string, error) {
	parsed, err := url.Parse(u)
	if err != nil || (parsed.Scheme != "postgres" && parsed.Scheme != "postgresql") {
		return "", fmt.Errorf("pgtest: %s must be a postgres:// URL", EnvURL)
	}
	parsed.Path = "/" + name
	return parsed.String(), nil
}

func redact(u string) string {
	if parsed, err := url.Parse(u); err == nil {
		return parsed.Redacted()
	}
	return "the test server"
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
