#!/usr/bin/env bash
# Runs Gatehouse on this machine with embedded defaults: SQLite, loopback ports, no root.
# Everything it makes lives in ./.gatehouse/. Stop it with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")"

root=$PWD
state=$root/.gatehouse
bin=$state/bin
logs=$state/logs
mkdir -p "$state" "$logs"
chmod 700 "$state"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "up.sh: the .NET 10 SDK is needed (dotnet not found on PATH)." >&2
  exit 1
fi

# The agent is published as a native executable, which needs clang; without it (and without a way
# to install it) it is published for the JIT instead: the same program, three times the memory.
agent_build=()
if ! command -v clang >/dev/null 2>&1; then
  sudo=()
  [ "$(id -u)" -eq 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && sudo=(sudo -n); }
  if { [ "$(id -u)" -eq 0 ] || [ ${#sudo[@]} -gt 0 ]; } && command -v apt-get >/dev/null 2>&1; then
    echo "Installing clang for the agent's native build…" >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq >"$logs/apt.log" 2>&1 || true
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends clang zlib1g-dev >>"$logs/apt.log" 2>&1 || true
  fi
  if ! command -v clang >/dev/null 2>&1; then
    echo "up.sh: clang is not installed: the agent is built for the JIT (apt-get install clang zlib1g-dev for the native build)." >&2
    agent_build=(-p:GatehouseNativeAgent=false)
  fi
fi

echo "Building Gatehouse (Release)…" >&2
dotnet publish src/gatehouse-portal -c Release -o "$bin/portal" --nologo -v quiet >"$logs/build.log" 2>&1 \
  && dotnet publish src/gatehouse -c Release -o "$bin/cli" --nologo -v quiet >>"$logs/build.log" 2>&1 \
  && dotnet publish src/gatehouse-edge -c Release -o "$bin/edge" --nologo -v quiet >>"$logs/build.log" 2>&1 \
  && dotnet publish src/gatehouse-connector -c Release -o "$bin/connector" --nologo -v quiet >>"$logs/build.log" 2>&1 \
  && dotnet publish src/gatehouse-agent -c Release -o "$bin/agent" "${agent_build[@]}" --nologo -v quiet >>"$logs/build.log" 2>&1 \
  || { echo "up.sh: the build failed; see $logs/build.log" >&2; tail -n 20 "$logs/build.log" >&2; exit 1; }

# The owner's password is made once and kept readable by you only.
password_file=$state/owner-password
if [ ! -s "$password_file" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file")
fi
owner_email=${GATEHOUSE_OWNER_EMAIL:-owner@gatehouse.local}
portal_url=https://127.0.0.1:7443

pids=()
stop() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo >&2; echo "Stopping Gatehouse…" >&2
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop INT TERM EXIT

GATEHOUSE_Portal__DataDirectory=$state/portal \
GATEHOUSE_Portal__OwnerEmail=$owner_email \
GATEHOUSE_Portal__OwnerPassword=$(cat "$password_file") \
  "$bin/portal/gatehouse-portal" >"$logs/portal.log" 2>&1 &
pids+=($!)

wait_healthy() { # name url pid
  for _ in $(seq 1 150); do
    if curl -fsS --cacert "$state/portal/tls.crt" "$2" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "up.sh: $1 exited; see $logs/$1.log" >&2; tail -n 20 "$logs/$1.log" >&2; exit 1; fi
    sleep 0.2
  done
  echo "up.sh: $1 did not become healthy in 30 s; see $logs/$1.log" >&2
  exit 1
}
wait_healthy portal "$portal_url/healthz" "${pids[0]}"

export GATEHOUSE_CLI_CONFIG=$state/cli.json
gatehouse() { "$bin/cli/gatehouse" "$@"; }
gatehouse login --portal "$portal_url" --ca-file "$state/portal/tls.crt" --email "$owner_email" --password-stdin \
  < "$password_file" >/dev/null

# The edge enrolls once with a provisioning key, then follows the tenant's signed config.
edge_ops=http://127.0.0.1:7445
if [ ! -f "$state/edge/node.json" ]; then
  key=$(gatehouse provisioning-key create --name local-edge --kind edge --uses 1 2>/dev/null)
  "$bin/edge/gatehouse-edge" enroll --portal "$portal_url" --portal-ca "$state/portal/tls.crt" \
    --provisioning-key "$key" --name local-edge --address 127.0.0.1:7444 --state-dir "$state/edge" >"$logs/edge-enroll.log" 2>&1 \
    || { echo "up.sh: the edge did not enroll; see $logs/edge-enroll.log" >&2; cat "$logs/edge-enroll.log" >&2; exit 1; }
fi

# A demo user with proxy credentials and a demo policy, made once, so that `curl -x` works at once.
# The demo policy is put in only while the tenant has no rules: an admin's policy is never replaced.
demo_email=demo@gatehouse.local
demo_password_file=$state/demo-proxy-password
if [ ! -s "$demo_password_file" ]; then
  gatehouse user create --email "$demo_email" --name "Demo user" >/dev/null 2>&1 || true
  (umask 077; gatehouse user proxy-credential create "$demo_email" --description "up.sh demo" 2>/dev/null > "$demo_password_file")
  [ -s "$demo_password_file" ] || { echo "up.sh: could not make the demo proxy credential" >&2; exit 1; }
fi
if [ "$(gatehouse policy list --json | tr -d '[:space:]')" = "[]" ]; then
  gatehouse policy import deploy/demo-policy.yaml >/dev/null
fi

# --allow-egress 127.0.0.0/8: the demo's destinations are on this machine; a real edge refuses loopback.
"$bin/edge/gatehouse-edge" run --state-dir "$state/edge" --ops-listen "$edge_ops" \
  --proxy-listen 127.0.0.1:3128 --tunnel-listen 127.0.0.1:7444 --allow-egress 127.0.0.0/8 --log-dir "$state/edge/logs" >"$logs/edge.log" 2>&1 &
pids+=($!)
wait_healthy edge "$edge_ops/healthz" "${pids[1]}"
demo_proxy="--proxy-user $demo_email:\$(cat .gatehouse/demo-proxy-password) -x http://127.0.0.1:3128"

# A sample private app and an app connector that dials out to the edge. The app's name,
# app.gatehouse.internal, resolves for the connector only (--resolve); made once, like the edge.
sample_app=app.gatehouse.internal:7480
"$bin/connector/gatehouse-connector" sample-app --listen 127.0.0.1:7480 >"$logs/sample-app.log" 2>&1 &
pids+=($!)
if [ ! -f "$state/connector/node.json" ]; then
  gatehouse connector-group create --name local-connectors >/dev/null 2>&1 || true
  gatehouse server-group create --name demo-app-servers --server app.gatehouse.internal --health-check http --health-path /healthz >/dev/null 2>&1 || true
  gatehouse app-segment create --name demo-app --domain app.gatehouse.internal --port 7480 \
    --connector-group local-connectors --server-group demo-app-servers >/dev/null 2>&1 || true
  key=$(gatehouse provisioning-key create --name local-connector --kind connector --connector-group local-connectors --uses 1 2>/dev/null)
  "$bin/connector/gatehouse-connector" enroll --portal "$portal_url" --portal-ca "$state/portal/tls.crt" \
    --provisioning-key "$key" --name local-connector --state-dir "$state/connector" >"$logs/connector-enroll.log" 2>&1 \
    || { echo "up.sh: the connector did not enroll; see $logs/connector-enroll.log" >&2; cat "$logs/connector-enroll.log" >&2; exit 1; }
fi
if [ "$(gatehouse access-policy list --json | tr -d '[:space:]')" = "[]" ]; then
  gatehouse access-policy import deploy/demo-access-policy.yaml >/dev/null
fi
# --allow-egress 127.0.0.0/8: the sample app is on this machine; a real connector refuses loopback.
"$bin/connector/gatehouse-connector" run --state-dir "$state/connector" --allow-egress 127.0.0.0/8 \
  --resolve app.gatehouse.internal=127.0.0.1 >"$logs/connector.log" 2>&1 &
pids+=($!)

# The agent, as the demo user's device: its service (local API on a socket under .gatehouse/agent/)
# and the data plane it supervises (local proxy on 127.0.0.1:9000, tunnels to the edge). It enrolls
# once with an enrollment token, through `gatehouse enroll` as a user would.
export GATEHOUSE_AGENT_SOCKET=$state/agent/agent.sock
"$bin/agent/gatehouse-agent" service --state-dir "$state/agent" --socket "$GATEHOUSE_AGENT_SOCKET" \
  --proxy-listen 127.0.0.1:9000 >"$logs/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do [ -S "$GATEHOUSE_AGENT_SOCKET" ] && break; sleep 0.1; done
if [ ! -f "$state/agent/device/node.json" ]; then
  token=$(gatehouse enrollment-token create --user "$demo_email" --uses 1 2>/dev/null)
  gatehouse enroll --portal "$portal_url" --ca-file "$state/portal/tls.crt" --token "$token" --name demo-laptop >"$logs/agent-enroll.log" 2>&1 \
    || { echo "up.sh: the agent did not enroll; see $logs/agent-enroll.log" >&2; cat "$logs/agent-enroll.log" >&2; exit 1; }
fi
for _ in $(seq 1 100); do gatehouse status 2>/dev/null | grep -q '^state: *connected' && break; sleep 0.2; done

cat <<INFO

Gatehouse is running (logs in .gatehouse/logs/):
  portal   $portal_url        (API: $portal_url/api/v1, health: /healthz, metrics: /metrics)
  database SQLite, .gatehouse/portal/portal.db
  edge     forward proxy http://127.0.0.1:3128 (PAC file: /proxy.pac), agent tunnels 127.0.0.1:7444
           (HTTP/2, mutual TLS), operations $edge_ops,
           enforcing the tenant's signed policy; transaction logs in .gatehouse/edge/logs/
  agent    the demo user's device: local proxy http://127.0.0.1:9000 (PAC file: /proxy.pac),
           tunnels to the edge; \`gatehouse status\` (socket .gatehouse/agent/agent.sock)
  connector local-connector, linked to the edge, serving app segment demo-app: the sample
           private app http://$sample_app/ (its name resolves for the connector only)

Owner: $owner_email, password in .gatehouse/owner-password

Try it, in another shell:
  export GATEHOUSE_CLI_CONFIG=$state/cli.json
  alias gatehouse=$bin/cli/gatehouse
  gatehouse whoami
  gatehouse user create --email alice@example.com
  gatehouse user list
  gatehouse audit list
  curl --cacert .gatehouse/portal/tls.crt $portal_url/healthz
  curl $edge_ops/healthz

Through the edge's forward proxy, as the demo user:
  curl $demo_proxy $edge_ops/healthz                          # allowed
  curl $demo_proxy http://casino.gatehouse.test/              # block page (rule demo-block-gambling)
  curl $demo_proxy --cacert .gatehouse/portal/tls.crt $portal_url/healthz   # HTTPS through CONNECT
  curl $demo_proxy http://$sample_app/                        # the private app, through a connector
  gatehouse logs query --since 10m                           # what the edge saw

Through the agent, as an application on the demo user's device would go:
  export GATEHOUSE_AGENT_SOCKET=$state/agent/agent.sock
  gatehouse status
  curl -x http://127.0.0.1:9000 $edge_ops/healthz             # allowed, through the tunnel
  curl -x http://127.0.0.1:9000 http://casino.gatehouse.test/ # block page from the agent
  curl -x http://127.0.0.1:9000 http://$sample_app/     # the private app, through edge and connector
  gatehouse connector list                                   # its links, flows and servers' health

Press Ctrl-C to stop.
INFO

wait -n "${pids[@]}"
echo "up.sh: a component exited; see $logs/" >&2
