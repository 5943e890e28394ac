#!/usr/bin/env bash
# Agent benchmark, on loopback, in one run:
#   (a) idle: the resident memory (RSS) of every agent process together (service and data plane),
#       and their CPU over a quiet minute, with the agent enrolled, connected and following its config;
#   (b) one bulk download through the agent's local proxy, its tunnel and an edge (curl -x → agent →
#       HTTP/2 mutual TLS → edge → nginx), against the same download direct from nginx.
# A portal (SQLite) and an edge run next to it, as users run them. Target: idle RSS under 60 MB.
# Usage: bench/agent.sh [--idle-seconds N] [--size-mb N]
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

idle_seconds=60
size_mb=1024
while [ $# -gt 0 ]; do
  case "$1" in
    --idle-seconds) idle_seconds=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    *) echo "usage: bench/agent.sh [--idle-seconds N] [--size-mb N]" >&2; exit 2 ;;
  esac
done

say() { printf 'bench/agent.sh: %s\n' "$*" >&2; }

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
bench_install nginx:nginx-light curl:curl clang:"clang zlib1g-dev" # the agent is published as a native executable
bench_workdir agent
pid_files+=("$work/nginx/nginx.pid")
bench_publish src/gatehouse-portal src/gatehouse src/gatehouse-edge src/gatehouse-agent

# --- origin: nginx ----------------------------------------------------------------------
origin_port=$(free_port)
mkdir -p "$work/nginx/www"
truncate -s "${size_mb}M" "$work/nginx/www/big"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  server { listen 127.0.0.1:$origin_port; root $work/nginx/www; }
}
NGINX
nginx -c "$work/nginx/nginx.conf"
wait_for nginx curl -fsS -o /dev/null "http://127.0.0.1:$origin_port/big" -r 0-0

# --- portal, user, edge -------------------------------------------------------------------
bench_portal

edge_tunnel_port=$(free_port)
edge_ops_port=$(free_port)
key=$(gh provisioning-key create --name bench-edge --kind edge --uses 1)
"$out/gatehouse-edge/gatehouse-edge" enroll --portal "$portal_url" --portal-ca "$work/portal/tls.crt" \
  --provisioning-key "$key" --name bench-edge --address "127.0.0.1:$edge_tunnel_port" --state-dir "$work/edge" >"$work/edge-enroll.log" 2>&1
"$out/gatehouse-edge/gatehouse-edge" run --state-dir "$work/edge" --ops-listen "http://127.0.0.1:$edge_ops_port" \
  --tunnel-listen "127.0.0.1:$edge_tunnel_port" --allow-egress 127.0.0.0/8 --log-dir "$work/edge-logs" --log-no-portal >"$work/edge.log" 2>&1 &
pids+=($!)
wait_for edge curl -fsS "http://127.0.0.1:$edge_ops_port/healthz"

# --- the agent, enrolled through `gatehouse enroll` ------------------------------------------
proxy_port=$(free_port)
export GATEHOUSE_AGENT_SOCKET=$work/agent/agent.sock
"$out/gatehouse-agent/gatehouse-agent" service --state-dir "$work/agent" --socket "$GATEHOUSE_AGENT_SOCKET" \
  --proxy-listen "127.0.0.1:$proxy_port" >"$work/agent.log" 2>&1 &
service_pid=$!
pids+=($service_pid)
wait_for "agent service" test -S "$GATEHOUSE_AGENT_SOCKET"
token=$(gh enrollment-token create --user bench@bench.test --uses 1)
gh enroll --portal "$portal_url" --ca-file "$work/portal/tls.crt" --token "$token" --name bench-laptop >/dev/null
wait_for "agent connected" sh -c "'$out/gatehouse/gatehouse' status | grep -q '^state: *connected'"
# The edge learns the device from its next bundle.
wait_for "edge knows the device" curl -fsS -o /dev/null -x "http://127.0.0.1:$proxy_port" "http://127.0.0.1:$origin_port/big" -r 0-0
dataplane_pid=$(pgrep -P "$service_pid" -f "dataplane" | head -1)
[ -n "$dataplane_pid" ] || { say "no data plane process under the service"; exit 1; }

# --- (a) idle ---------------------------------------------------------------------------------
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
say "(a) idle for ${idle_seconds}s…"
sleep 5
t0=$(( $(ticks "$service_pid") + $(ticks "$dataplane_pid") ))
sleep "$idle_seconds"
t1=$(( $(ticks "$service_pid") + $(ticks "$dataplane_pid") ))
hz=$(getconf CLK_TCK)
service_rss=$(rss_kb "$service_pid")
dataplane_rss=$(rss_kb "$dataplane_pid")
idle_cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$idle_seconds" 'BEGIN {printf "%.2f", 100 * t / hz / s}')

# --- (b) one bulk flow ----------------------------------------------------------------------
best() { # curl args... → MB/s, best of 3
  local best=0
  for _ in 1 2 3; do
    best=$(larger "$(mbs "$@")" "$best")
  done
  echo "$best"
}
say "(b) bulk download, ${size_mb} MB, best of 3"
direct_mbs=$(best "http://127.0.0.1:$origin_port/big")
agent_mbs=$(best -x "http://127.0.0.1:$proxy_port" "http://127.0.0.1:$origin_port/big")
after_rss=$(( $(rss_kb "$service_pid") + $(rss_kb "$dataplane_pid") ))

total_mb=$(awk -v a="$service_rss" -v b="$dataplane_rss" 'BEGIN {printf "%.1f", (a + b) / 1024}')
cat <<REPORT

Gatehouse agent benchmark — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)
(a) idle, enrolled and connected, ${idle_seconds}s
    service        $(awk -v a="$service_rss" 'BEGIN {printf "%6.1f", a / 1024}') MiB RSS
    data plane     $(awk -v a="$dataplane_rss" 'BEGIN {printf "%6.1f", a / 1024}') MiB RSS
    all processes  $(printf '%6s' "$total_mb") MiB RSS, CPU ${idle_cpu} % of one core
(b) one bulk download, ${size_mb} MB (curl)
    direct         $(printf '%6s' "$direct_mbs") MB/s
    through agent  $(printf '%6s' "$agent_mbs") MB/s   (local proxy → HTTP/2 mutual-TLS tunnel → edge → nginx)
    agent processes after the downloads: $(awk -v a="$after_rss" 'BEGIN {printf "%.1f", a / 1024}') MiB RSS

agent idle rss MiB $total_mb (target under 60)
agent idle cpu percent $idle_cpu
agent/direct throughput ratio $(awk -v a="$agent_mbs" -v b="$direct_mbs" 'BEGIN {printf "%.2f", a / b}')
REPORT
