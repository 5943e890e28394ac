#!/usr/bin/env bash
# Edge benchmark, on loopback, in one run, against peers measured in the same run:
#   (a) small plain-HTTP requests through the forward proxy (wrk), against Squid (workers 2,
#       caching off) and a direct connection to the origin (nginx);
#   (b) bulk download through CONNECT (curl -p), against Squid and direct;
#   (c) bulk through an agent-style HTTP/2 mutual-TLS tunnel stream (gatehouse-bench-edge forward →
#       edge → nginx), against direct and a TLS tunnel of two stunnel4 processes;
#       (a), then (b) and (c) together, run in rounds over their paths in turn (after a warm-up); each
#       ratio is the median of the rounds' ratios, which a VM whose speed drifts between rounds moves less;
#   (d) many flows held open at once (gatehouse-bench-edge hold): CONNECTs and tunnel streams to an
#       echo server, every one checked before and after holding; the edge's memory per open flow.
# The edge runs as users run it: enrolled with a real portal (SQLite), a 1,000-rule policy in
# force, transaction logging on (JSON-lines files), loopback allowed as an egress exception. Records
# are not shipped to the portal unless --ship-logs is given: a real portal runs on another machine,
# and here its ingestion would take CPU from the two cores the edge and its peers share.
# Prints requests/s, p99 latency and MB/s for each, then one ratio line per comparison.
# Usage: bench/edge.sh [--duration SECONDS] [--connections N] [--size-mb N] [--rounds N] [--proxy-flows N] [--tunnel-flows N] [--ship-logs] [--keep SECONDS]
#   --rounds N rounds of (a) and of the five download paths of (b, c) (default 5).
#   --keep SECONDS leaves everything running that long after the report (ports and pids in it), to profile by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

duration=10
connections=64
size_mb=2048
rounds=5
# 4,000 CONNECTs cost the edge 8,000 descriptors and 6,000 tunnel streams 6,000: 10,000 flows fit
# under this machine's hard limit of 20,000 descriptors per process.
proxy_flows=4000
tunnel_flows=6000
ship_logs=--log-no-portal
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --size-mb) size_mb=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --proxy-flows) proxy_flows=$2; shift 2 ;;
    --tunnel-flows) tunnel_flows=$2; shift 2 ;;
    --ship-logs) ship_logs=; shift ;;
    --keep) keep=$2; shift 2 ;;
    *) echo "usage: bench/edge.sh [--duration SECONDS] [--connections N] [--size-mb N] [--rounds N] [--proxy-flows N] [--tunnel-flows N] [--ship-logs] [--keep SECONDS]" >&2; exit 2 ;;
  esac
done

say() { printf 'bench/edge.sh: %s\n' "$*" >&2; }

# --- peers from Debian ------------------------------------------------------------------
# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
bench_install squid:squid nginx:nginx-light wrk:wrk stunnel4:stunnel4 curl:curl openssl:openssl
ulimit -n "$(ulimit -Hn)" # the held flows need thousands of descriptors

bench_workdir edge
pid_files+=("$work/squid/squid.pid" "$work/nginx/nginx.pid")

# --- build ------------------------------------------------------------------------------
bench_publish src/gatehouse-portal src/gatehouse src/gatehouse-edge bench/Gatehouse.Bench.Edge

# --- origin: nginx ----------------------------------------------------------------------
origin_port=$(free_port)
mkdir -p "$work/nginx/www"
truncate -s "${size_mb}M" "$work/nginx/www/big"
cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 8192; }
http {
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$origin_port;
    root $work/nginx/www;
    location = /small { return 200 "hello from nginx\n"; }
  }
}
EOF
nginx -c "$work/nginx/nginx.conf"
wait_for nginx curl -fsS "http://127.0.0.1:$origin_port/small"

# --- squid: plain forward proxy, caching off, one worker per core -------------------------
squid_port=$(free_port)
mkdir -p "$work/squid"
cat >"$work/squid/squid.conf" <<EOF
workers 2
http_port 127.0.0.1:$squid_port
pid_filename $work/squid/squid.pid
cache deny all
cache_mem 0
access_log none
cache_log $work/squid/cache.log
coredump_dir $work/squid
http_access allow localhost
http_access deny all
shutdown_lifetime 1 seconds
EOF
chown -R proxy "$work/squid" 2>/dev/null || true
squid -f "$work/squid/squid.conf"
wait_for squid curl -fsS -x "http://127.0.0.1:$squid_port" "http://127.0.0.1:$origin_port/small"

# --- portal, user, policy, edge -----------------------------------------------------------
bench_portal
proxy_password=$(gh user proxy-credential create bench@bench.test 2>/dev/null)
[ -n "$proxy_password" ] || { say "could not make a proxy credential"; exit 1; }

# 1,000 rules, none of which matches the origin: every request walks the whole policy.
{
  echo '{"rules":['
  for i in $(seq 1 1000); do
    [ "$i" -gt 1 ] && echo ','
    printf '{"name":"rule-%d","action":"block","criteria":{"domains":["site%d.example","*.site%d.example"],"ports":["80","443"]}}' "$i" "$i" "$i"
  done
  echo ']}'
} >"$work/policy.json"
gh policy import "$work/policy.json" >/dev/null

edge_proxy_port=$(free_port)
edge_tunnel_port=$(free_port)
edge_ops_port=$(free_port)
key=$(gh provisioning-key create --name bench-edge --kind edge --uses 1)
"$out/gatehouse-edge/gatehouse-edge" enroll --portal "$portal_url" --portal-ca "$work/portal/tls.crt" \
  --provisioning-key "$key" --name bench-edge --address "127.0.0.1:$edge_tunnel_port" --state-dir "$work/edge" >"$work/edge-enroll.log" 2>&1
"$out/gatehouse-edge/gatehouse-edge" run --state-dir "$work/edge" --ops-listen "http://127.0.0.1:$edge_ops_port" \
  --proxy-listen "127.0.0.1:$edge_proxy_port" --tunnel-listen "127.0.0.1:$edge_tunnel_port" \
  --allow-egress 127.0.0.0/8 --log-dir "$work/edge-logs" $ship_logs >"$work/edge.log" 2>&1 &
pids+=($!)
edge_pid=$!
wait_for "edge policy" sh -c "curl -fsS http://127.0.0.1:$edge_ops_port/healthz | grep -q '\"policyRules\":1000'"
proxy_auth="bench@bench.test:$proxy_password"
wait_for "edge proxy" curl -fsS -x "http://127.0.0.1:$edge_proxy_port" --proxy-user "$proxy_auth" "http://127.0.0.1:$origin_port/small"

# --- a device for the tunnel: key and CSR made here, enrolled with a token ------------------
bench_device
# The edge learns the device from its next bundle.
sleep 3

forward_port=$(free_port)
"$out/Gatehouse.Bench.Edge/gatehouse-bench-edge" forward --listen "127.0.0.1:$forward_port" --edge "127.0.0.1:$edge_tunnel_port" \
  --cert "$work/device.crt" --key "$work/device.key" --ca "$work/tenant-ca.crt" --target "127.0.0.1:$origin_port" >"$work/forward.log" 2>&1 &
pids+=($!)
wait_for "tunnel forwarder" curl -fsS "http://127.0.0.1:$forward_port/small"

# --- stunnel pair: client (plain in, TLS out) → server (TLS in, plain to nginx) ---------------
stunnel_client_port=$(free_port)
stunnel_server_port=$(free_port)
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
  -keyout "$work/stunnel.key" -out "$work/stunnel.crt" 2>/dev/null
cat >"$work/stunnel-server.conf" <<EOF
foreground = yes
pid =
[server]
accept = 127.0.0.1:$stunnel_server_port
connect = 127.0.0.1:$origin_port
cert = $work/stunnel.crt
key = $work/stunnel.key
sslVersionMin = TLSv1.3
EOF
cat >"$work/stunnel-client.conf" <<EOF
foreground = yes
pid =
[client]
client = yes
accept = 127.0.0.1:$stunnel_client_port
connect = 127.0.0.1:$stunnel_server_port
CAfile = $work/stunnel.crt
verifyPeer = yes
sslVersionMin = TLSv1.3
EOF
stunnel4 "$work/stunnel-server.conf" >"$work/stunnel-server.log" 2>&1 &
pids+=($!)
stunnel4 "$work/stunnel-client.conf" >"$work/stunnel-client.log" 2>&1 &
pids+=($!)
wait_for stunnel curl -fsS "http://127.0.0.1:$stunnel_client_port/small"

# --- measurements -----------------------------------------------------------------------------
cat >"$work/direct.lua" <<'EOF'
EOF
cat >"$work/squid.lua" <<EOF
wrk.path = "http://127.0.0.1:$origin_port/small"
EOF
cat >"$work/edge.lua" <<EOF
wrk.path = "http://127.0.0.1:$origin_port/small"
wrk.headers["Proxy-Authorization"] = "Basic $(printf '%s' "$proxy_auth" | base64 -w0)"
EOF

# wrk → "RPS P99_MS ERRORS"
run_wrk() { # script url
  local text rps p99 errors
  text=$(${wrk_cpu:+taskset -c "$wrk_cpu"} wrk -t2 -c"$connections" -d"${duration}s" --latency -s "$1" "$2")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$text")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$text")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$text" | tr '\n' ' ')
  echo "$rps $p99 ${errors:-none}"
}

# A fresh edge reaches its steady rate after 6-10 s of load, while .NET compiles its hot paths again,
# optimised (1 s runs from a start: 9-11k requests/s in the first, 25-27k from the sixth to the tenth); Squid
# needs no warm-up and gets the same, so that both are measured steady.
warm_up_seconds=15
say "warming up ($warm_up_seconds s each)…"
wrk -t2 -c"$connections" -d"${warm_up_seconds}s" -s "$work/edge.lua" "http://127.0.0.1:$edge_proxy_port" >/dev/null
wrk -t2 -c"$connections" -d"${warm_up_seconds}s" -s "$work/squid.lua" "http://127.0.0.1:$squid_port" >/dev/null

say "(a) small requests, $connections connections, $rounds rounds of ${duration}s over direct, squid and the edge in turn"
declare -A rps=() p99=() errors=() round=() round_us=()
rps_ratios=()
wrk_path() { # direct|squid|edge → "RPS P99_MS ERRORS"
  case $1 in
    direct) run_wrk "$work/direct.lua" "http://127.0.0.1:$origin_port/small" ;;
    squid) run_wrk "$work/squid.lua" "http://127.0.0.1:$squid_port" ;;
    edge) run_wrk "$work/edge.lua" "http://127.0.0.1:$edge_proxy_port" ;;
  esac
}
# The CPU (user + system) a proxy's own processes spend per request: on two cores shared with wrk and
# nginx, whose cost per request is the same on either path, requests/s move less than this does.
hz=$(getconf CLK_TCK)
proxy_pids() { # squid|edge → its processes
  case $1 in
    # shellcheck disable=SC2046 # one pid per word
    squid) local master; master=$(cat "$work/squid/squid.pid"); echo "$master" $(pgrep -P "$master") ;;
    edge) echo "$edge_pid" ;;
  esac
}
cpu_ticks() { # PID… → their user + system ticks, summed
  local total=0 pid
  for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done
  echo "$total"
}
declare -A cpu_us=()
cpu_ratios=()
for _ in $(seq 1 "$rounds"); do
  for path in direct squid edge; do
    # (Not `pids`: that array holds what the clean-up stops.)
    # shellcheck disable=SC2086 # one pid per word
    measured=$(proxy_pids "$path"); before=$(cpu_ticks $measured)
    read -r r p e < <(wrk_path "$path")
    # shellcheck disable=SC2086
    after=$(cpu_ticks $measured)
    round[$path]=$r; rps[$path]+="$r "; p99[$path]+="$p "
    [ "$e" = none ] || errors[$path]+="$e "
    [ -z "$measured" ] || round_us[$path]=$(awk -v t=$((after - before)) -v hz="$hz" -v r="$r" -v d="$duration" 'BEGIN {printf "%.1f", t / hz * 1e6 / (r * d)}')
  done
  say "$(printf '    round: direct %.0f, squid %.0f, edge %.0f req/s; CPU per request squid %s, edge %s µs' "${round[direct]}" "${round[squid]}" "${round[edge]}" "${round_us[squid]}" "${round_us[edge]}")"
  rps_ratios+=("$(ratio_of "${round[edge]}" "${round[squid]}")")
  cpu_us[squid]+="${round_us[squid]} "; cpu_us[edge]+="${round_us[edge]} "
  cpu_ratios+=("$(ratio_of "${round_us[squid]}" "${round_us[edge]}")")
done
# Each path's median requests/s and p99 over the rounds; the errors of any round.
# shellcheck disable=SC2086 # the lists are space-separated numbers
{
  direct_rps=$(median_of ${rps[direct]}); direct_p99=$(median_of ${p99[direct]}); direct_err=${errors[direct]:-none}
  squid_rps=$(median_of ${rps[squid]}); squid_p99=$(median_of ${p99[squid]}); squid_err=${errors[squid]:-none}
  edge_rps=$(median_of ${rps[edge]}); edge_p99=$(median_of ${p99[edge]}); edge_err=${errors[edge]:-none}
}
edge_rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$edge_pid/status")

# The same requests with each proxy on a core of its own, and wrk and nginx on another: on two shared
# cores the client and the origin take CPU from the proxy too, which holds back the cheaper proxy's rate
# more. Squid's processes and the edge's threads get the same single core; everything is unpinned after.
pinned_ratios=() pinned_median=unknown pinned_line="not measured (needs 2 cores and taskset)"
if [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null 2>&1; then
  say "(a, one core each) the proxy on CPU 1, wrk and nginx on CPU 0: $rounds rounds of ${duration}s over squid and the edge in turn"
  pin() { # CPUS PID… → every thread of each
    local cpus=$1 pid; shift
    for pid in "$@"; do taskset -a -cp "$cpus" "$pid" >/dev/null 2>&1 || true; done
  }
  origin=$(cat "$work/nginx/nginx.pid"); origin="$origin $(pgrep -P "$origin")"
  proxies="$(proxy_pids squid) $(proxy_pids edge)"
  # shellcheck disable=SC2086 # one pid per word
  { pin 0 $origin; pin 1 $proxies; }
  wrk_cpu=0
  declare -A pinned=()
  for _ in $(seq 1 "$rounds"); do
    read -r q _ _ < <(wrk_path squid); read -r e _ _ < <(wrk_path edge)
    say "$(printf '    round: squid %.0f, edge %.0f req/s' "$q" "$e")"
    pinned[squid]+="$q "; pinned[edge]+="$e "
    pinned_ratios+=("$(ratio_of "$e" "$q")")
  done
  unset wrk_cpu
  # shellcheck disable=SC2086
  pin "0-$(($(nproc) - 1))" $origin $proxies
  pinned_median=$(median_of "${pinned_ratios[@]}")
  # shellcheck disable=SC2086 # space-separated numbers
  pinned_line=$(printf 'squid %.0f, edge %.0f req/s; edge/squid by round %s, median %s' \
    "$(median_of ${pinned[squid]})" "$(median_of ${pinned[edge]})" "$(range_of "${pinned_ratios[@]}")" "$pinned_median")
fi

say "(b, c) bulk downloads, ${size_mb} MB, after a warm-up, $rounds rounds over direct, CONNECT (squid, edge) and TLS tunnels (stunnel, edge) in turn"
direct_bulk() { mbs "http://127.0.0.1:$origin_port/big"; }
squid_bulk() { mbs -p -x "http://127.0.0.1:$squid_port" "http://127.0.0.1:$origin_port/big"; }
edge_connect_bulk() { mbs -p -x "http://127.0.0.1:$edge_proxy_port" --proxy-user "$proxy_auth" "http://127.0.0.1:$origin_port/big"; }
stunnel_bulk() { mbs "http://127.0.0.1:$stunnel_client_port/big"; }
tunnel_bulk() { mbs "http://127.0.0.1:$forward_port/big"; }
# .NET compiles the bulk paths again, optimised, over their first seconds of traffic, in the edge and in
# the tunnel forwarder alike: back-to-back 64 MB tunnel downloads from a fresh bench (2026-12-07) kept both
# processes' tiered compilers busy for 12 s, and ran at 255-340 MB/s at first and 400-500 MB/s after.
# One warm-up download each, as before, left the rounds inside that. So every path downloads back to back
# for as long as (a) warms up before the rounds (Squid and stunnel need no warm-up and get the same).
warm_up() { # COMMAND: runs it back to back for the warm-up's seconds
  local until=$((SECONDS + warm_up_seconds))
  while [ "$SECONDS" -lt "$until" ]; do "$@" >/dev/null; done
}
say "    warming up the bulk paths ($warm_up_seconds s each)…"
warm_up squid_bulk; warm_up edge_connect_bulk; warm_up stunnel_bulk; warm_up tunnel_bulk
direct_mbs=0 squid_connect_mbs=0 edge_connect_mbs=0 stunnel_mbs=0 tunnel_mbs=0 connect_ratios=() tunnel_ratios=()
for _ in $(seq 1 "$rounds"); do
  d=$(direct_bulk); q=$(squid_bulk); e=$(edge_connect_bulk); s=$(stunnel_bulk); t=$(tunnel_bulk)
  say "    round: direct $d, squid CONNECT $q, edge CONNECT $e, stunnel $s, edge tunnel $t MB/s"
  direct_mbs=$(larger "$d" "$direct_mbs"); squid_connect_mbs=$(larger "$q" "$squid_connect_mbs")
  edge_connect_mbs=$(larger "$e" "$edge_connect_mbs"); stunnel_mbs=$(larger "$s" "$stunnel_mbs"); tunnel_mbs=$(larger "$t" "$tunnel_mbs")
  connect_ratios+=("$(ratio_of "$e" "$q")"); tunnel_ratios+=("$(ratio_of "$t" "$s")")
done

say "(d) $proxy_flows CONNECTs and $tunnel_flows tunnel streams held at once"
"$out/Gatehouse.Bench.Edge/gatehouse-bench-edge" hold --edge-pid "$edge_pid" \
  --proxy "127.0.0.1:$edge_proxy_port" --proxy-user "$proxy_auth" --proxy-flows "$proxy_flows" \
  --edge "127.0.0.1:$edge_tunnel_port" --cert "$work/device.crt" --key "$work/device.key" --ca "$work/tenant-ca.crt" \
  --tunnel-flows "$tunnel_flows" --hold-seconds 10 >"$work/hold.txt" 2>&1 || hold_failed=1
held_report=$(grep -v '^edge memory per open flow' "$work/hold.txt")
per_flow_kib=$(awk '/^edge memory per open flow KiB/ {print $NF}' "$work/hold.txt")

log_lines=$(cat "$work"/edge-logs/*.jsonl 2>/dev/null | wc -l)

cat <<EOF

Gatehouse edge benchmark — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), policy of 1,000 rules, logging on (files${ship_logs:+; not shipped to the portal})
(a) small plain-HTTP requests (wrk -t2 -c$connections -d${duration}s, median of $rounds rounds)
    direct         $(printf '%10.0f' "$direct_rps") req/s   p99 $(printf '%7.2f' "$direct_p99") ms   errors: $direct_err
    squid          $(printf '%10.0f' "$squid_rps") req/s   p99 $(printf '%7.2f' "$squid_p99") ms   errors: $squid_err
    edge proxy     $(printf '%10.0f' "$edge_rps") req/s   p99 $(printf '%7.2f' "$edge_p99") ms   errors: $edge_err
    edge/squid by round: $(range_of "${rps_ratios[@]}"), median $(median_of "${rps_ratios[@]}")
    CPU per request, the proxy's own processes: squid $(median_of ${cpu_us[squid]}) µs, edge $(median_of ${cpu_us[edge]}) µs; squid/edge by round $(range_of "${cpu_ratios[@]}"), median $(median_of "${cpu_ratios[@]}")
    one core each (the proxy on CPU 1; wrk and nginx on CPU 0): $pinned_line
    edge resident memory after the run: $((edge_rss_kb / 1024)) MiB; transaction records written: $log_lines
(b) bulk download, ${size_mb} MB (curl, best of $rounds rounds)
    direct         $(printf '%10s' "$direct_mbs") MB/s
    squid CONNECT  $(printf '%10s' "$squid_connect_mbs") MB/s
    edge CONNECT   $(printf '%10s' "$edge_connect_mbs") MB/s
    edge/squid by round: $(range_of "${connect_ratios[@]}"), median $(median_of "${connect_ratios[@]}")
(c) bulk through a TLS tunnel, ${size_mb} MB (curl, best of $rounds rounds)
    direct         $(printf '%10s' "$direct_mbs") MB/s
    stunnel pair   $(printf '%10s' "$stunnel_mbs") MB/s
    edge tunnel    $(printf '%10s' "$tunnel_mbs") MB/s   (HTTP/2 mutual TLS stream, gatehouse-bench-edge forward → edge)
    tunnel/stunnel by round: $(range_of "${tunnel_ratios[@]}"), median $(median_of "${tunnel_ratios[@]}")
(d) flows held open at once
$held_report

edge/squid rps ratio $(median_of "${rps_ratios[@]}")
edge/squid rps ratio, one core each $pinned_median
squid/edge cpu per request ratio $(median_of "${cpu_ratios[@]}")
edge/squid connect throughput ratio $(median_of "${connect_ratios[@]}")
tunnel/stunnel throughput ratio $(median_of "${tunnel_ratios[@]}")
tunnel/direct throughput ratio $(awk -v a="$tunnel_mbs" -v b="$direct_mbs" 'BEGIN {printf "%.2f", a / b}')
edge memory per open flow KiB ${per_flow_kib:-unknown}
EOF
if [ "$keep" -gt 0 ]; then
  say "keeping everything for ${keep}s: edge pid $edge_pid, proxy 127.0.0.1:$edge_proxy_port, tunnel forwarder http://127.0.0.1:$forward_port/big, stunnel http://127.0.0.1:$stunnel_client_port/big, origin http://127.0.0.1:$origin_port/big"
  # In the background, so that a TERM to this script runs the clean-up at once (bash runs traps between commands).
  sleep "$keep" &
  pids+=($!)
  wait "$!"
fi
[ -z "${hold_failed:-}" ] || { say "(d) not every flow was held: see above"; exit 1; }
