#!/usr/bin/env bash
# test.sh — what `make test` runs: installs what is missing, starts a throwaway PostgreSQL 15,
# installs pgjobq, runs pg_regress, the isolation specs, plpgsql_check, go vet and go test -race
# against it, and stops and removes the cluster whatever happens (failure, Ctrl-C, SIGTERM).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH=$PATH:/usr/local/go/bin
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

step() { printf '\n=== %s\n' "$*"; }

step "packages"
scripts/deps.sh

# The extension is installed into PostgreSQL's one share directory, so two runs on one machine
# (two clones, two terminals) would test each other's script: they take turns instead.
exec 9>/tmp/pgjobq-install.lock
if ! flock -n 9; then
  echo "another make test (or make bench) on this machine holds /tmp/pgjobq-install.lock; waiting"
  flock 9
fi

dir=$(mktemp -d /tmp/pgjobq-test.XXXXXX)
cleanup() {
  local status=$?
  if [ "$status" != 0 ] && [ "$status" != 130 ] && [ -f "$dir/server.log" ]; then
    step "server log (last 40 lines)"
    tail -n 40 "$dir/server.log"
  fi
  scripts/cluster.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "cluster"
scripts/cluster.sh start "$dir"
PGPORT=$(cat "$dir/port")
export PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres

step "install the extension"
make -s -C extension install

failed=()

step "README quick start is test/regress/sql/readme.sql"
quick() { sed -n '/quick-start: begin/,/quick-start: end/p' "$1" | grep -v -e 'quick-start:' -e '^```'; }
if diff <(quick README.md) <(quick test/regress/sql/readme.sql); then
  echo "same"
else
  echo "the README's SQL quick start and test/regress/sql/readme.sql differ" >&2
  failed+=(readme)
fi

count() { find "$1" -maxdepth 1 -name "$2" 2>/dev/null | wc -l; }
step "pg_regress ($(count test/regress/sql '*.sql') files) and isolation ($(count test/isolation/specs '*.spec') specs)"
# Results go to the temporary directory, so concurrent runs in one tree do not collide.
if ! make -s -C extension installcheck REGRESS_OUTPUTDIR="$dir/regress" ISOLATION_OUTPUTDIR="$dir/isolation"; then
  for f in "$dir/regress/regression.diffs" "$dir/isolation/regression.diffs"; do
    if [ -s "$f" ]; then echo "--- $f"; cat "$f"; fi
  done
  failed+=(installcheck)
fi

step "plpgsql_check"
psql -X -q -v ON_ERROR_STOP=1 -c 'CREATE DATABASE pgjobq_check'
# One line per finding; trigger functions are checked against a table that uses them.
if report=$(psql -X -q -At -v ON_ERROR_STOP=1 -d pgjobq_check <<'SQL'
CREATE EXTENSION pgjobq;
CREATE EXTENSION plpgsql_check;
SELECT 'checked ' || count(*) || ' plpgsql functions of schema pgjobq'
  FROM pg_proc AS p JOIN pg_language AS l ON l.oid = p.prolang
 WHERE p.pronamespace = 'pgjobq'::regnamespace AND l.lanname = 'plpgsql';
SELECT p.oid::regprocedure || ' line ' || coalesce(c.lineno::text, '?') || ': ' || c.level || ': '
       || c.message || coalesce(' (' || c.query || ')', '')
  FROM pg_proc AS p
  JOIN pg_language AS l ON l.oid = p.prolang
 CROSS JOIN LATERAL plpgsql_check_function_tb(p.oid,
         coalesce((SELECT t.tgrelid FROM pg_trigger AS t WHERE t.tgfoid = p.oid LIMIT 1), 0)) AS c
 WHERE p.pronamespace = 'pgjobq'::regnamespace AND l.lanname = 'plpgsql'
 ORDER BY 1;
SQL
); then
  echo "$report"
  if grep -q ': error: ' <<<"$report"; then failed+=(plpgsql_check); fi
else
  echo "$report"
  failed+=(plpgsql_check)
fi

export PGJOBQ_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
step "go vet ./..."
(cd go && go vet ./...) || failed+=(go-vet)
step "go test -race ./..."
(cd go && go test -race -count=1 -v ./...) || failed+=(go-test)

if [ ${#failed[@]} -gt 0 ]; then
  step "FAILED: ${failed[*]}"
  exit 1
fi
step "all tests passed"
