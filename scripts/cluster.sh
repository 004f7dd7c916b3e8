#!/usr/bin/env bash
# cluster.sh start|stop|url DIR — a throwaway PostgreSQL 15 cluster that lives in DIR.
#   start: initdb (once) and start it on a free port, written to DIR/port. Reuses a running one.
#   stop:  stop it if it runs (the data directory stays for the next start).
#   url:   print the connection URL of its postgres database.
# As root the server runs as the OS user postgres (initdb refuses root).
# PGJOBQ_CLUSTER_DURABLE=1 (for benchmarks): fsync, synchronous_commit and full_page_writes on;
# by default they are off, which is fast and fine for tests.
set -euo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=${1:?usage: cluster.sh start|stop|url DIR}
dir=$(realpath -m "${2:?usage: cluster.sh start|stop|url DIR}")

# as_pg runs a server command as postgres, from a directory postgres may enter.
as_pg() {
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

running() {
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1
}

# port_free: nothing (PostgreSQL or other) listens on the port.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# write_conf PORT: the test settings, in a file of their own rewritten at each start.
write_conf() {
  local preload='' durable=off
  [ "${PGJOBQ_CLUSTER_DURABLE:-}" = 1 ] && durable=on
  # pg_cron when installed (make test and make demo install it; a bare `go test` may run without).
  [ -f "$("$PGBIN/pg_config" --pkglibdir)/pg_cron.so" ] && preload='pg_cron'
  cat >"$dir/data/pgjobq-test.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
shared_preload_libraries = '$preload'
cron.database_name = 'postgres'
cron.host = '$dir'
max_connections = 200
fsync = $durable
synchronous_commit = $durable
full_page_writes = $durable
CONF
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/data/pgjobq-test.conf"
  return 0
}

case $cmd in
start)
  if running; then
    echo "cluster: reusing the server in $dir on port $(cat "$dir/port")"
    exit 0
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres:postgres "$dir"
    if ! as_pg test -w "$dir"; then
      echo "cluster: the postgres user cannot write $dir (is a parent directory closed to others?)" >&2
      exit 1
    fi
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log"
  fi
  grep -q "include_if_exists = 'pgjobq-test.conf'" "$dir/data/postgresql.conf" ||
    echo "include_if_exists = 'pgjobq-test.conf'" >>"$dir/data/postgresql.conf"
  # The first free port from 54329; another run may take it first, so try the next ones too.
  port=54329
  for _ in 1 2 3 4 5; do
    while ! port_free "$port"; do port=$((port + 1)); done
    write_conf "$port"
    echo "$port" >"$dir/port"
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1; then
      echo "cluster: started PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') in $dir on port $port"
      exit 0
    fi
    port=$((port + 1))
  done
  cat "$dir/server.log" >&2
  exit 1
  ;;
stop)
  if running; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    echo "cluster: stopped the server in $dir"
  fi
  ;;
url)
  echo "postgres://postgres@127.0.0.1:$(cat "$dir/port")/postgres?sslmode=disable"
  ;;
*)
  echo "usage: cluster.sh start|stop|url DIR" >&2
  exit 2
  ;;
esac
