#!/usr/bin/env bash
# test.sh — what `make test` runs: installs what is missing, starts a throwaway PostgreSQL 15,
# installs pgjobq, runs pg_regress, the isolation specs, plpgsql_check, go vet and go test -race
# against it, and stops and removes the cluster whatever happens.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH=$PATH:/usr/local/go/bin
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

step() { printf '\n=== %s\n' "$*"; }

step "packages"
scripts/deps.sh

dir=$(mktemp -d /tmp/pgjobq-test.XXXXXX)
cleanup() {
  scripts/cluster.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "cluster"
scripts/cluster.sh start "$dir"
export PGHOST=127.0.0.1 PGPORT=$(cat "$dir/port") PGUSER=postgres PGDATABASE=postgres

step "install the extension"
make -s -C extension install

failed=()

step "README quick start is test/regress/sql/readme.sql"
quick() { sed -n '/quick-start: begin/,/quick-start: end/p' "$1" | grep -v -e 'quick-start:' -e '^```'; }
if ! diff <(quick README.md) <(quick test/regress/sql/readme.sql); then
  echo "the README's SQL quick start and test/regress/sql/readme.sql differ" >&2
  failed+=(readme)
fi

step "pg_regress and isolation specs"
rm -rf extension/results extension/output_iso extension/regression.* 
if ! make -s -C extension installcheck; then
  for f in extension/regression.diffs extension/output_iso/regression.diffs; do
    [ -f "$f" ] && cat "$f"
  done
  failed+=(installcheck)
fi

step "plpgsql_check"
psql -X -q -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS pgjobq_check' -c 'CREATE DATABASE pgjobq_check'
report=$(psql -X -q -At -v ON_ERROR_STOP=1 -d pgjobq_check <<'SQL'
CREATE EXTENSION pgjobq;
CREATE EXTENSION plpgsql_check;
SELECT p.oid::regprocedure || ' line ' || coalesce(c.lineno::text, '?') || ': ' || c.level || ': '
       || c.message || coalesce(' (' || c.query || ')', '')
  FROM pg_proc AS p
  JOIN pg_namespace AS n ON n.oid = p.pronamespace
  JOIN pg_language AS l ON l.oid = p.prolang
 CROSS JOIN LATERAL plpgsql_check_function_tb(p.oid) AS c
 WHERE n.nspname = 'pgjobq' AND l.lanname = 'plpgsql'
 ORDER BY 1;
SQL
)
checked=$(psql -X -At -d pgjobq_check -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang WHERE n.nspname = 'pgjobq' AND l.lanname = 'plpgsql'")
echo "checked $checked plpgsql functions"
if [ -n "$report" ]; then
  echo "$report"
  if grep -q ': error: ' <<<"$report"; then failed+=(plpgsql_check); fi
fi

step "go vet and go test -race"
export PGJOBQ_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres?sslmode=disable"
(cd go && go vet ./... && go test -race -count=1 ./...) || failed+=(go)

if [ ${#failed[@]} -gt 0 ]; then
  step "FAILED: ${failed[*]}"
  exit 1
fi
step "all tests passed"
