#!/usr/bin/env bash
# demo.sh — what `make demo` runs: the demo cluster in .pgjobq/ (started or reused), pgjobq
# installed, the Go demo run against it; the server is stopped afterwards, its data kept for the
# next run (`make demo-stop` removes it).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export PATH=$PATH:/usr/local/go/bin
export PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config

scripts/deps.sh
make -s -C extension install
trap 'scripts/cluster.sh stop "$top/.pgjobq"' EXIT
trap 'exit 130' INT TERM
scripts/cluster.sh start "$top/.pgjobq"
PGJOBQ_DATABASE_URL=$(scripts/cluster.sh url "$top/.pgjobq")
export PGJOBQ_DATABASE_URL
(cd go && go run ./cmd/pgjobq-demo)
