#!/usr/bin/env bash
# deps.sh — install the Debian packages pgjobq's build, tests and demo need, if any is missing.
set -euo pipefail
need=()
for p in postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-plpgsql-check make; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root (or install them yourself): apt-get install ${need[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
