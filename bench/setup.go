package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// env is the databases and systems of one bench run.
type env struct {
	admin   *pgxpool.Pool // the database of -url
	pools   []*pgxpool.Pool
	systems []System // in the order they run
	goSys   *pgjobqGo
}

func (e *env) close() {
	if e.goSys != nil {
		e.goSys.Close()
	}
	for _, p := range e.pools {
		p.Close()
	}
	e.admin.Close()
}

// system returns the system named name if it was set up.
func (e *env) system(name string) System {
	for _, s := range e.systems {
		if s.Name() == name {
			return s
		}
	}
	return nil
}

// setup creates the databases <prefix>_pgjobq (with the extension), <prefix>_river (River's
// schema, migrated with rivermigrate) and <prefix>_plain when missing, and the systems named.
func setup(ctx context.Context, url, prefix string, p params, names []string) (*env, error) {
	admin, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, err
	}
	e := &env{admin: admin}
	pool := func(db string) (*pgxpool.Pool, error) {
		var exists bool
		if err := admin.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
			return nil, err
		}
		if !exists {
			if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
				return nil, err
			}
		}
		cfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, err
		}
		cfg.ConnConfig.Database = db
		// Every system gets the same pool size: enough for its workers and producers.
		cfg.MaxConns = int32(p.Clients + 8)
		pl, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		e.pools = append(e.pools, pl)
		return pl, nil
	}
	fail := func(err error) (*env, error) { e.close(); return nil, err }
	for _, name := range names {
		var s System
		switch name {
		case "pgjobq-go", "pgjobq-sql":
			// Each pgjobq system has its own pool on the one pgjobq database.
			pl, err := pool(prefix + "_pgjobq")
			if err != nil {
				return fail(err)
			}
			// Unless the schema is there already: a developer may have loaded a script by hand.
			if _, err := pl.Exec(ctx, `DO $$ BEGIN
				IF to_regnamespace('pgjobq') IS NULL THEN CREATE EXTENSION pgjobq; END IF; END $$`); err != nil {
				return fail(fmt.Errorf("pgjobq: %w", err))
			}
			if name == "pgjobq-go" {
				e.goSys, err = newPgjobqGo(ctx, pl, p.Workers)
				s = e.goSys
			} else {
				s, err = newPgjobqSQL(ctx, pl, p.Clients, p.Batch)
			}
			if err != nil {
				return fail(fmt.Errorf("%s: %w", name, err))
			}
		case "river":
			pl, err := pool(prefix + "_river")
			if err != nil {
				return fail(err)
			}
			if s, err = newRiver(ctx, pl, p.Workers); err != nil {
				return fail(fmt.Errorf("river: %w", err))
			}
		case "plain":
			pl, err := pool(prefix + "_plain")
			if err != nil {
				return fail(err)
			}
			if s, err = newPlain(ctx, pl, p.Clients, p.Batch); err != nil {
				return fail(fmt.Errorf("plain: %w", err))
			}
		default:
			return fail(fmt.Errorf("unknown system %q (known: %s)", name, strings.Join(allSystems, ", ")))
		}
		e.systems = append(e.systems, s)
	}
	return e, nil
}

// machineInfo describes the machine and the server's durability settings, for the record.
func machineInfo(ctx context.Context, admin *pgxpool.Pool) []string {
	var lines []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ := strings.Cut(l, ":")
				lines = append(lines, fmt.Sprintf("machine: %d × %s", runtime.NumCPU(), strings.TrimSpace(model)))
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		lines = append(lines, "memory: "+strings.Join(strings.Fields(strings.SplitN(string(b), "\n", 2)[0])[1:], " "))
	}
	var version string
	_ = admin.QueryRow(ctx, `SELECT version()`).Scan(&version)
	lines = append(lines, "server: "+version)
	var settings []string
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes", "wal_level", "shared_buffers",
		"max_wal_size", "checkpoint_timeout", "autovacuum", "shared_preload_libraries"} {
		var v string
		if err := admin.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&v); err == nil {
			settings = append(settings, name+"="+v)
		}
	}
	lines = append(lines, "settings: "+strings.Join(settings, ", "))
	lines = append(lines, "client: Go "+runtime.Version()+", pgx v5, River v0.51.2 (riverpgxv5), on the same machine")
	return lines
}
