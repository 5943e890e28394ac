#!/usr/bin/env bash
# Private access benchmark, in network namespaces (root), in one run, from "the endpoint" (this namespace,
# where the agent runs) to a private app (nginx) in a namespace that only the connector's namespace reaches
# through the connector:
#   (a) bulk download (curl, rounds over the four paths in turn) and (b) connect latency (time to the first byte of a small page over
#       a new connection, 200 sequential requests: p50, p99), each over four paths:
#         direct      a veth straight to the app's namespace;
#         ssh -L      an OpenSSH port forward through sshd in the connector's namespace (a jump host);
#         gatehouse   curl -x → agent (local proxy) → HTTP/2 mutual TLS → edge → connector link → connector → app;
#         agentless   curl -x --proxy-user → the edge's forward proxy → connector link → connector → app (no agent:
#                     the client's leg is plain HTTP, as the ssh forward's is, and the edge decides as the user).
#   (c) the same first byte from a device's own tunnel client (gatehouse-bench-edge first-byte, no agent and no curl),
#       over three paths in turn: direct, the connector link's stream, and relayed end to end (second connection, mutual TLS).
# Target: gatehouse throughput at least the ssh forward's (the agentless path is reported, not a target).
# Usage: sudo bench/connector.sh [--size-mb N] [--requests N] [--rounds N] [--keep SECONDS] [--no-private-relay]
#   --rounds N downloads over the four paths in turn N times (default 5): the best of each, and the median of
#     the rounds' gatehouse/ssh ratios, which a VM whose speed drifts between rounds moves less.
#   --keep SECONDS leaves everything running that long after the report, to profile by hand.
#   --no-private-relay runs the edge so (private flows on the connector link's HTTP/2 stream, not relayed end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

size_mb=1024
requests=200
rounds=5
keep=0
edge_flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) size_mb=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --no-private-relay) edge_flags+=(--no-private-relay); shift ;;
    *) echo "usage: bench/connector.sh [--size-mb N] [--requests N] [--rounds N] [--keep SECONDS] [--no-private-relay]" >&2; exit 2 ;;
  esac
done

say() { printf 'bench/connector.sh: %s\n' "$*" >&2; }
[ "$(id -u)" -eq 0 ] || { say "needs root: it makes network namespaces (ip netns) and runs sshd in one"; exit 1; }

# shellcheck source=bench/lib.sh
. "$repo/bench/lib.sh"
bench_install nginx:nginx-light curl:curl ssh:openssh-client sshd:openssh-server socat:socat clang:"clang zlib1g-dev"
bench_workdir connector
pid_files+=("$work/nginx/nginx.pid" "$work/sshd.pid")

# --- namespaces -------------------------------------------------------------------------------
#  this ns (agent, edge on 10.N.4.1, portal) ──10.N.4.0/24── cn (connector, sshd) ──10.N.5.0/24── pv (nginx)
#  this ns ──10.N.7.0/24── pv   (the direct route, for the peer only)
n=$((100 + $$ % 100))
tag=$$
cn=gh-bcn-$tag
pv=gh-bpv-$tag
cleanup_namespaces() {
  ip netns delete "$cn" 2>/dev/null || true
  ip netns delete "$pv" 2>/dev/null || true
  rm -rf "/etc/netns/$cn"
  bench_cleanup
}
trap cleanup_namespaces EXIT INT TERM
ip netns add "$cn"
ip netns add "$pv"
ip -n "$cn" link set lo up
ip -n "$pv" link set lo up
ip link add "ghbc$tag" type veth peer name "ghbC$tag" netns "$cn"
ip addr add "10.$n.4.1/24" dev "ghbc$tag"; ip link set "ghbc$tag" up
ip -n "$cn" addr add "10.$n.4.2/24" dev "ghbC$tag"; ip -n "$cn" link set "ghbC$tag" up
ip -n "$cn" link add "ghbp$tag" type veth peer name "ghbP$tag" netns "$pv"
ip -n "$cn" addr add "10.$n.5.1/24" dev "ghbp$tag"; ip -n "$cn" link set "ghbp$tag" up
ip -n "$pv" addr add "10.$n.5.2/24" dev "ghbP$tag"; ip -n "$pv" link set "ghbP$tag" up
ip link add "ghbd$tag" type veth peer name "ghbD$tag" netns "$pv"
ip addr add "10.$n.7.1/24" dev "ghbd$tag"; ip link set "ghbd$tag" up
ip -n "$pv" addr add "10.$n.7.2/24" dev "ghbD$tag"; ip -n "$pv" link set "ghbD$tag" up
app_private=10.$n.5.2
app_direct=10.$n.7.2
edge_host=10.$n.4.1
sshd_host=10.$n.4.2

# --- the private app: nginx in pv ---------------------------------------------------------------
mkdir -p "$work/nginx/www"
truncate -s "${size_mb}M" "$work/nginx/www/big"
echo "small" >"$work/nginx/www/small"
cat >"$work/nginx/nginx.conf" <<NGINX
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  server { listen 8080; root $work/nginx/www; }
}
NGINX
ip netns exec "$pv" nginx -c "$work/nginx/nginx.conf"
wait_for nginx curl -fsS -o /dev/null "http://$app_direct:8080/small"

bench_publish src/gatehouse-portal src/gatehouse src/gatehouse-edge src/gatehouse-agent src/gatehouse-connector bench/Gatehouse.Bench.Edge

# --- portal, edge ----------------------------------------------------------------------------------
bench_portal
# The connector's namespace reaches the portal on its own 127.0.0.1, as an installed connector reaches a portal's name.
portal_port=${portal_url##*:}
socat "TCP-LISTEN:$portal_port,bind=$edge_host,fork,reuseaddr" "TCP:127.0.0.1:$portal_port" >"$work/socat-host.log" 2>&1 &
pids+=($!)
ip netns exec "$cn" socat "TCP-LISTEN:$portal_port,bind=127.0.0.1,fork,reuseaddr" "TCP:$edge_host:$portal_port" >"$work/socat-cn.log" 2>&1 &
pids+=($!)

edge_tunnel_port=$(free_port)
edge_ops_port=$(free_port)
edge_proxy_port=$(free_port)
key=$(gh provisioning-key create --name bench-edge --kind edge --uses 1)
"$out/gatehouse-edge/gatehouse-edge" enroll --portal "$portal_url" --portal-ca "$work/portal/tls.crt" \
  --provisioning-key "$key" --name bench-edge --address "$edge_host:$edge_tunnel_port" --state-dir "$work/edge" >"$work/edge-enroll.log" 2>&1
"$out/gatehouse-edge/gatehouse-edge" run --state-dir "$work/edge" --ops-listen "http://127.0.0.1:$edge_ops_port" \
  --proxy-listen "127.0.0.1:$edge_proxy_port" --tunnel-listen "$edge_host:$edge_tunnel_port" --log-dir "$work/edge-logs" --log-no-portal ${edge_flags[@]+"${edge_flags[@]}"} >"$work/edge.log" 2>&1 &
pids+=($!)
edge_pid=$!
wait_for edge curl -fsS "http://127.0.0.1:$edge_ops_port/healthz"

# --- private access objects, the connector ------------------------------------------------------------
gh connector-group create --name bench-dc >/dev/null
gh app-segment create --name bench-app --domain app.bench.internal --port 8080 --connector-group bench-dc >/dev/null
cat >"$work/access.yaml" <<YAML
rules:
  - name: bench-user-app
    action: allow
    criteria: { users: [bench@bench.test], appSegments: [bench-app] }
YAML
gh access-policy import "$work/access.yaml" >/dev/null
key=$(gh provisioning-key create --name bench-connector --kind connector --connector-group bench-dc --uses 1)
"$out/gatehouse-connector/gatehouse-connector" enroll --portal "$portal_url" --portal-ca "$work/portal/tls.crt" \
  --provisioning-key "$key" --name bench-connector --state-dir "$work/connector" >"$work/connector-enroll.log" 2>&1
ip netns exec "$cn" "$out/gatehouse-connector/gatehouse-connector" run --state-dir "$work/connector" \
  --resolve "app.bench.internal=$app_private" >"$work/connector.log" 2>&1 &
pids+=($!)
connector_pid=$!
wait_for "connector link" grep -q "Linked to edge" "$work/connector.log"

# --- the agent, enrolled through `gatehouse enroll` ---------------------------------------------------
proxy_port=$(free_port)
export GATEHOUSE_AGENT_SOCKET=$work/agent/agent.sock
"$out/gatehouse-agent/gatehouse-agent" service --state-dir "$work/agent" --socket "$GATEHOUSE_AGENT_SOCKET" \
  --proxy-listen "127.0.0.1:$proxy_port" >"$work/agent.log" 2>&1 &
pids+=($!)
agent_pid=$!
wait_for "agent service" test -S "$GATEHOUSE_AGENT_SOCKET"
token=$(gh enrollment-token create --user bench@bench.test --uses 1)
gh enroll --portal "$portal_url" --ca-file "$work/portal/tls.crt" --token "$token" --name bench-laptop >/dev/null
wait_for "agent connected" sh -c "'$out/gatehouse/gatehouse' status | grep -q '^state: *connected'"
gatehouse_url=http://app.bench.internal:8080
wait_for "the app through gatehouse" curl -fsS -o /dev/null -x "http://127.0.0.1:$proxy_port" "$gatehouse_url/small"
proxy_auth="bench@bench.test:$(gh user proxy-credential create bench@bench.test --description bench)"
agentless=(-x "http://127.0.0.1:$edge_proxy_port" --proxy-user "$proxy_auth")
wait_for "the app through the edge's forward proxy" curl -fsS -o /dev/null "${agentless[@]}" "$gatehouse_url/small"

# --- a second device, for gatehouse-bench-edge's own tunnel client ----------------------------------
bench_device
first_byte=("$out/Gatehouse.Bench.Edge/gatehouse-bench-edge" first-byte --edge "$edge_host:$edge_tunnel_port" --cert "$work/device.crt"
  --key "$work/device.key" --ca "$work/tenant-ca.crt" --app "app.bench.internal:8080" --direct "$app_direct:8080" --path /small)
# An edge run with --no-private-relay relays nothing.
[ ${#edge_flags[@]} -eq 0 ] || first_byte+=(--paths direct,stream)
# The edge learns the device from its next bundle.
wait_for "the device's tunnel" "${first_byte[@]}" --flows 1

# --- the peer: sshd in the connector's namespace, ssh -L from here -------------------------------------
ssh-keygen -q -t ed25519 -N '' -f "$work/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/client_key"
cat >"$work/sshd_config" <<SSHD
Port 22
ListenAddress $sshd_host
HostKey $work/host_key
PidFile $work/sshd.pid
AuthorizedKeysFile $work/client_key.pub
PermitRootLogin prohibit-password
PasswordAuthentication no
AllowTcpForwarding yes
UsePAM no
StrictModes no
SSHD
mkdir -p /run/sshd
ip netns exec "$cn" /usr/sbin/sshd -f "$work/sshd_config" -E "$work/sshd.log"
ssh_port=$(free_port)
ssh -i "$work/client_key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ExitOnForwardFailure=yes \
  -N -L "127.0.0.1:$ssh_port:$app_private:8080" "root@$sshd_host" 2>"$work/ssh.log" &
pids+=($!)
ssh_pid=$!
wait_for "ssh -L" curl -fsS -o /dev/null "http://127.0.0.1:$ssh_port/small"

# --- measurements ------------------------------------------------------------------------------------
ticks() { # PID → CPU ticks (user + system) of the process and all its descendants
  local pid=$1 total child
  total=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
  for child in $(pgrep -P "$pid"); do
    total=$((total + $(ticks "$child")))
  done
  echo "$total"
}
latency() { # curl args... → "P50 P99" in ms, time to first byte of a new connection
  local i
  for i in $(seq 1 "$requests"); do
    curl -fsS -o /dev/null -w '%{time_starttransfer}\n' "$@"
  done | sort -n | awk '{v[NR] = $1 * 1000} END {printf "%.2f %.2f", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.99 + 0.5)]}'
}
say "(a) bulk download, ${size_mb} MB, a warm-up round and $rounds rounds over the four paths in turn"
sshd_pid=$(cat "$work/sshd.pid")
direct_mbs=0 ssh_mbs=0 gatehouse_mbs=0 agentless_mbs=0 ratios=() agentless_ratios=()
declare -A cpu=([edge]=0 [connector]=0 [agent]=0 [ssh]=0 [sshd]=0 [agentless_edge]=0 [agentless_connector]=0)
# One round first, not counted: .NET compiles the hot paths again, optimised, after their first calls.
mbs "http://$app_direct:8080/big" >/dev/null; mbs "http://127.0.0.1:$ssh_port/big" >/dev/null
mbs -x "http://127.0.0.1:$proxy_port" "$gatehouse_url/big" >/dev/null; mbs "${agentless[@]}" "$gatehouse_url/big" >/dev/null
for _ in $(seq 1 "$rounds"); do
  d=$(mbs "http://$app_direct:8080/big")
  before_ssh=$(ticks "$ssh_pid"); before_sshd=$(ticks "$sshd_pid")
  s=$(mbs "http://127.0.0.1:$ssh_port/big")
  cpu[ssh]=$((cpu[ssh] + $(ticks "$ssh_pid") - before_ssh)); cpu[sshd]=$((cpu[sshd] + $(ticks "$sshd_pid") - before_sshd))
  before_edge=$(ticks "$edge_pid"); before_connector=$(ticks "$connector_pid"); before_agent=$(ticks "$agent_pid")
  g=$(mbs -x "http://127.0.0.1:$proxy_port" "$gatehouse_url/big")
  cpu[edge]=$((cpu[edge] + $(ticks "$edge_pid") - before_edge))
  cpu[connector]=$((cpu[connector] + $(ticks "$connector_pid") - before_connector))
  cpu[agent]=$((cpu[agent] + $(ticks "$agent_pid") - before_agent))
  before_edge=$(ticks "$edge_pid"); before_connector=$(ticks "$connector_pid")
  a=$(mbs "${agentless[@]}" "$gatehouse_url/big")
  cpu[agentless_edge]=$((cpu[agentless_edge] + $(ticks "$edge_pid") - before_edge))
  cpu[agentless_connector]=$((cpu[agentless_connector] + $(ticks "$connector_pid") - before_connector))
  say "    round: direct $d, ssh -L $s, gatehouse $g, agentless $a MB/s"
  direct_mbs=$(larger "$d" "$direct_mbs"); ssh_mbs=$(larger "$s" "$ssh_mbs"); gatehouse_mbs=$(larger "$g" "$gatehouse_mbs")
  agentless_mbs=$(larger "$a" "$agentless_mbs")
  ratios+=("$(ratio_of "$g" "$s")"); agentless_ratios+=("$(ratio_of "$a" "$s")")
done
ratio_median=$(median_of "${ratios[@]}")
ratio_range=$(range_of "${ratios[@]}")
per_gb() { # name → CPU seconds per GB downloaded over the rounds
  awk -v t="${cpu[$1]}" -v hz="$(getconf CLK_TCK)" -v mb="$((size_mb * rounds))" 'BEGIN {printf "%.2f", t / hz / (mb / 1000)}'
}
say "(b) connect latency, $requests new connections each"
read -r direct_p50 direct_p99 <<<"$(latency "http://$app_direct:8080/small")"
read -r ssh_p50 ssh_p99 <<<"$(latency "http://127.0.0.1:$ssh_port/small")"
read -r gatehouse_p50 gatehouse_p99 <<<"$(latency -x "http://127.0.0.1:$proxy_port" "$gatehouse_url/small")"
read -r agentless_p50 agentless_p99 <<<"$(latency "${agentless[@]}" "$gatehouse_url/small")"
say "(c) first byte from a device's tunnel client, $requests flows over each path"
tunnel_latency=$("${first_byte[@]}" --flows "$requests" | tail -n +2)

cat <<REPORT

Gatehouse private access benchmark — $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)${edge_flags[@]+, edge run with ${edge_flags[*]}}
(a) bulk download, ${size_mb} MB (curl, best of $rounds rounds; CPU per GB over all rounds)
    direct        $(printf '%6s' "$direct_mbs") MB/s
    ssh -L        $(printf '%6s' "$ssh_mbs") MB/s   CPU s/GB: ssh $(per_gb ssh), sshd $(per_gb sshd)
    gatehouse     $(printf '%6s' "$gatehouse_mbs") MB/s   CPU s/GB: agent $(per_gb agent), edge $(per_gb edge), connector $(per_gb connector)
    agentless     $(printf '%6s' "$agentless_mbs") MB/s   CPU s/GB: edge $(per_gb agentless_edge), connector $(per_gb agentless_connector)
    gatehouse/ssh by round: ${ratio_range}, median ${ratio_median}
    agentless/ssh by round: $(range_of "${agentless_ratios[@]}"), median $(median_of "${agentless_ratios[@]}")
(b) time to first byte over a new connection, $requests requests
    direct        p50 $(printf '%7s' "$direct_p50") ms   p99 $(printf '%7s' "$direct_p99") ms
    ssh -L        p50 $(printf '%7s' "$ssh_p50") ms   p99 $(printf '%7s' "$ssh_p99") ms
    gatehouse     p50 $(printf '%7s' "$gatehouse_p50") ms   p99 $(printf '%7s' "$gatehouse_p99") ms
    agentless     p50 $(printf '%7s' "$agentless_p50") ms   p99 $(printf '%7s' "$agentless_p99") ms
(c) time to first byte of a new flow from a device's tunnel client (gatehouse-bench-edge first-byte), $requests flows per path in turn
$tunnel_latency

gatehouse/ssh throughput ratio $ratio_median
gatehouse/direct throughput ratio $(awk -v a="$gatehouse_mbs" -v b="$direct_mbs" 'BEGIN {printf "%.2f", a / b}')
gatehouse/ssh connect p50 ratio $(awk -v a="$gatehouse_p50" -v b="$ssh_p50" 'BEGIN {printf "%.2f", a / b}')
agentless/ssh throughput ratio $(median_of "${agentless_ratios[@]}")
REPORT

if [ "$keep" -gt 0 ]; then
  say "keeping everything for ${keep}s: agent proxy http://127.0.0.1:$proxy_port → $gatehouse_url, edge proxy http://127.0.0.1:$edge_proxy_port (--proxy-user $proxy_auth), ssh -L http://127.0.0.1:$ssh_port, direct http://$app_direct:8080, work $work"
  # In the background, so that a TERM to this script runs the clean-up at once (bash runs traps between commands).
  sleep "$keep" &
  pids+=($!)
  wait "$!"
fi
