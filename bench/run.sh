#!/usr/bin/env bash
# run.sh [bench flags...] — what `make bench` runs: builds the bench, starts a throwaway
# PostgreSQL 15 with durable settings, installs pgjobq, runs every system and workload on it
# (BENCH_MODE=quick or full), and stops and removes the cluster whatever happens.
# The table goes to stdout, progress to stderr, CSV files to bench/results/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH=$PATH:/usr/local/go/bin
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
mode=${BENCH_MODE:-full}

echo "bench: building" >&2
dir=$(mktemp -d /tmp/pgjobq-bench.XXXXXX)
cleanup() {
  local status=$?
  if [ "$status" != 0 ] && [ "$status" != 130 ] && [ -f "$dir/server.log" ]; then
    echo "--- server log (last 40 lines)" >&2
    tail -n 40 "$dir/server.log" >&2
  fi
  scripts/cluster.sh stop "$dir" >&2 || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
(cd bench && go build -o "$dir/pgjobq-bench" .)
scripts/deps.sh >&2

# Durable (fsync, synchronous_commit, full_page_writes on), and checkpoints only when the bench
# asks for one (CHECKPOINT before each measured window): a day between timed checkpoints and
# room for all the WAL of a run. wal_level back to the default replica (cluster.sh sets logical
# for the tests that decode it). pg_stat_statements is loaded for -pgss.
export PGJOBQ_CLUSTER_DURABLE=1
scripts/cluster.sh start "$dir" >&2
psql() { command psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$dir/port")" -U postgres "$@"; }
psql -d postgres <<'SQL'
ALTER SYSTEM SET shared_buffers = '2GB';
ALTER SYSTEM SET max_wal_size = '32GB';
ALTER SYSTEM SET min_wal_size = '1GB';
ALTER SYSTEM SET checkpoint_timeout = '1d';
ALTER SYSTEM SET wal_level = 'replica';
ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';
SQL
scripts/cluster.sh stop "$dir" >&2
scripts/cluster.sh start "$dir" >&2

# The extension has one install directory on the machine: hold make test's lock while
# installing and creating it, so a concurrent make test cannot swap the script under us.
exec 9>/tmp/pgjobq-install.lock
if ! flock -n 9; then
  echo "bench: another make test (or make bench) holds /tmp/pgjobq-install.lock; waiting" >&2
  flock 9
fi
make -s -C extension install >&2
psql -d postgres -c 'CREATE DATABASE bench_pgjobq'
psql -d bench_pgjobq -c 'CREATE EXTENSION pgjobq'
exec 9>&-

"$dir/pgjobq-bench" -mode "$mode" -prefix bench -out "$top/bench/results" \
  -url "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres?sslmode=disable" "$@"
