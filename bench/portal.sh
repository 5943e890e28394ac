#!/usr/bin/env bash
# Portal benchmark: one gatehouse-portal process on a real PostgreSQL, loaded from this machine.
#   - N devices (default 10,000) enroll and long-poll their config; one admin change must reach
#     all of them: prints p50/p99/max delay and the portal's CPU, idle and during the wave;
#   - 100,000 devices in PostgreSQL listed page by page: p99 of the portal against the same
#     keyset query run directly on PostgreSQL.
#   - an edge ships batches of 1,000 transaction log records: latency per batch against a binary COPY.
# Usage: bench/portal.sh [--devices N] [--listing-devices N] [--log-batches N] [--sqlite]
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pg_bindir" ]; then
  echo "bench/portal.sh: installing PostgreSQL (Debian package postgresql)…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# 10,000 devices hold 10,000 TLS connections on each side.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

out=.gatehouse/bench
dotnet build src/gatehouse-portal -c Release -o "$out/portal" --nologo -v quiet >/dev/null
dotnet build bench/Gatehouse.Bench.Portal -c Release -o "$out/portal-bench" --nologo -v quiet >/dev/null
exec dotnet "$out/portal-bench/Gatehouse.Bench.Portal.dll" --portal-dll "$out/portal/gatehouse-portal.dll" "$@"
