#!/usr/bin/env bash
# floor.sh — what `make bench-floor` runs: where the one-job SQL path (workload 7, n = 1) can go.
# pgbench with 8 clients (FLOOR_CLIENTS), prepared statements, on a throwaway durable cluster,
# one script after another: the plain queue of the bench (two transactions per job), the least
# queue with leases (three), and pgjobq (three). Prints jobs/s and the ratio to the plain queue.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${FLOOR_SECONDS:-20}
clients=${FLOOR_CLIENTS:-8}
dir=$(mktemp -d /tmp/pgjobq-floor.XXXXXX)
cleanup() { scripts/cluster.sh stop "$dir" >&2 || true; rm -rf "$dir"; }
trap cleanup EXIT
scripts/deps.sh >&2
export PGJOBQ_CLUSTER_DURABLE=1
scripts/cluster.sh start "$dir" >&2
export PGHOST=127.0.0.1 PGPORT=$(cat "$dir/port") PGUSER=postgres
psql() { command psql -X -q -v ON_ERROR_STOP=1 "$@"; }
exec 9>/tmp/pgjobq-install.lock  # make test's lock: the extension has one install directory
flock 9
make -s -C extension install >&2
psql -d postgres -c 'CREATE DATABASE floor_pgjobq'
psql -d floor_pgjobq -c 'CREATE EXTENSION pgjobq' -c "SELECT pgjobq.create_queue('floor')" >/dev/null
exec 9>&-
psql -d postgres -c 'CREATE DATABASE floor_plain'
psql -d floor_plain -c 'CREATE TABLE plain_job (id bigserial PRIMARY KEY, payload jsonb NOT NULL)' \
  -c 'CREATE TABLE leased_job (id bigserial PRIMARY KEY, payload jsonb NOT NULL, token uuid)' \
  -c 'CREATE INDEX ON leased_job (id) WHERE token IS NULL'

plain=
printf '%-8s %10s %8s\n' script 'jobs/s' 'vs plain'
for s in plain leased pgjobq; do
  db=floor_plain
  [ "$s" = pgjobq ] && db=floor_pgjobq
  tps=$(/usr/lib/postgresql/15/bin/pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -f "bench/floor/$s.sql" "$db" 2>/dev/null |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
  [ -z "$plain" ] && plain=$tps
  awk -v s="$s" -v t="$tps" -v p="$plain" 'BEGIN { printf "%-8s %10.0f %7.2fx\n", s, t, t / p }'
done
