# Shared by the benchmarks (sourced, not run): the work directory and its clean-up, free ports,
# waiting for a service, building the programs, and a portal with a signed-in CLI.
# The sourcing script sets `say` and `repo` first.

# bench_workdir NAME: a world-readable work directory (nginx's workers read from it), removed on exit
# with every process started from it (their pids in `pids`, or pid files in `pid_files`).
bench_workdir() {
  work=$(mktemp -d "/tmp/gatehouse-bench-$1.XXXXXX")
  chmod 755 "$work"
  pids=()
  pid_files=()
  trap bench_cleanup EXIT INT TERM
}

bench_cleanup() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
  local file
  for file in "${pid_files[@]}"; do
    [ -f "$file" ] && kill "$(cat "$file")" 2>/dev/null || true
  done
  sleep 1
  pkill -f "$work/" 2>/dev/null || true
  rm -rf "$work"
}

# bench_install COMMAND:PACKAGE...: installs from Debian the packages whose command is missing.
bench_install() {
  local pair missing=()
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${pair%%:*}" ] || missing+=(${pair#*:})
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian…"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  export PATH=$PATH:/usr/sbin
}

# free_port: a TCP port no socket uses, below the kernel's ephemeral range, so that the thousands of
# connections a run opens (and leaves in TIME_WAIT) cannot hold the port a later listener needs.
free_port() {
  local port ephemeral_low
  read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range
  while true; do
    port=$((10000 + RANDOM % (ephemeral_low - 10000)))
    ss -Htan "sport = :$port" | grep -q . || { echo "$port"; return; }
  done
}

wait_for() { # what command...
  local what=$1; shift
  for _ in $(seq 1 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  say "$what did not come up; logs in $work"; exit 1
}

# bench_publish PROJECT...: Release builds into $out/NAME.
bench_publish() {
  out=$repo/.gatehouse/bench
  say "building (Release)…"
  local project name
  for project in "$@"; do
    name=$(basename "$project")
    dotnet publish "$project" -c Release -o "$out/$name" --nologo -v quiet >"$work/build-$name.log" 2>&1 \
      || { cat "$work/build-$name.log" >&2; exit 1; }
  done
}

# bench_portal: a portal on SQLite (portal_url, its CA in $work/portal/tls.crt), the CLI signed in
# as its owner (`gh`), and a user bench@bench.test.
bench_portal() {
  local portal_port owner_password
  portal_port=$(free_port)
  portal_url=https://127.0.0.1:$portal_port
  owner_password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  GATEHOUSE_Portal__DataDirectory=$work/portal \
  GATEHOUSE_Portal__OwnerEmail=owner@bench.test \
  GATEHOUSE_Portal__OwnerPassword=$owner_password \
  GATEHOUSE_Portal__Listen=$portal_url \
    "$out/gatehouse-portal/gatehouse-portal" >"$work/portal.log" 2>&1 &
  pids+=($!)
  wait_for portal curl -fsS --cacert "$work/portal/tls.crt" "$portal_url/healthz"

  export GATEHOUSE_CLI_CONFIG=$work/cli.json
  echo "$owner_password" | gh login --portal "$portal_url" --ca-file "$work/portal/tls.crt" --email owner@bench.test --password-stdin >/dev/null
  gh user create --email bench@bench.test >/dev/null
}

gh() { "$out/gatehouse/gatehouse" "$@"; }

# bench_device: a device of bench@bench.test whose key openssl makes, enrolled with a token through the public
# API: $work/device.key, $work/device.crt and the tenant CA in $work/tenant-ca.crt (gatehouse-bench-edge's
# --key, --cert and --ca).
bench_device() {
  local token csr
  token=$(gh enrollment-token create --user bench@bench.test --uses 1)
  openssl ecparam -name prime256v1 -genkey -noout -out "$work/device.key" 2>/dev/null
  openssl req -new -key "$work/device.key" -subj "/CN=bench-device" -out "$work/device.csr" 2>/dev/null
  csr=$(awk '{printf "%s\\n", $0}' "$work/device.csr")
  curl -fsS --cacert "$work/portal/tls.crt" -H 'content-type: application/json' \
    -d "{\"token\":\"$token\",\"csrPem\":\"$csr\",\"name\":\"bench-device\",\"os\":\"linux\",\"agentVersion\":\"bench\"}" \
    "$portal_url/api/v1/enroll/device" >"$work/enroll.json"
  sed -n 's/.*"certificatePem":"\([^"]*\)".*/\1/p' "$work/enroll.json" | sed 's/\\n/\n/g' >"$work/device.crt"
  sed -n 's/.*"caCertificatePem":"\([^"]*\)".*/\1/p' "$work/enroll.json" | sed 's/\\n/\n/g' >"$work/tenant-ca.crt"
}

# mbs CURL-ARGS...: MB/s of one download (curl -o /dev/null).
mbs() {
  curl -fsS -o /dev/null -w '%{speed_download}' "$@" | awk '{printf "%.0f", $1 / 1000000}'
}

# median_of NUMBERS...: their median, two decimals. range_of NUMBERS...: "LOW–HIGH".
median_of() {
  printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
range_of() {
  printf '%s\n' "$@" | sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f–%.2f", lo, hi}'
}

# larger A B: the larger of two whole numbers.
larger() {
  if [ "$1" -gt "$2" ]; then echo "$1"; else echo "$2"; fi
}

# ratio_of A B: A / B, three decimals.
ratio_of() {
  awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'
}
