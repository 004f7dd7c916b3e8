#!/usr/bin/env bash
# cluster.sh start|stop|url DIR — a throwaway PostgreSQL 15 cluster that lives in DIR.
#   start: initdb (once) and start it on a free port, written to DIR/port. Reuses a running one.
#   stop:  stop it if it runs (the data directory stays for the next start).
#   url:   print the connection URL of its postgres database.
# As root the server runs as the OS user postgres (initdb refuses root).
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

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

case $cmd in
start)
  if running; then
    echo "cluster: reusing the server in $dir on port $(cat "$dir/port")"
    exit 0
  fi
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log"
  fi
  port=54329
  while ! port_free "$port"; do port=$((port + 1)); done
  # Settings live in their own file, rewritten at each start (the port may change).
  cat >"$dir/data/pgjobq-test.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 10
max_wal_senders = 10
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
cron.host = '$dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
  chown postgres:postgres "$dir/data/pgjobq-test.conf" 2>/dev/null || true
  grep -q "include_if_exists = 'pgjobq-test.conf'" "$dir/data/postgresql.conf" ||
    echo "include_if_exists = 'pgjobq-test.conf'" >>"$dir/data/postgresql.conf"
  echo "$port" >"$dir/port"
  if ! as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null; then
    cat "$dir/server.log" >&2
    exit 1
  fi
  echo "cluster: started PostgreSQL $(as_pg "$PGBIN/postgres" --version | awk '{print $3}') in $dir on port $port"
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
