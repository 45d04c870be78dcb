#!/usr/bin/env bash
# Load benchmark of `colearn serve` (issue 5): N concurrent participants (one load-generator
# process, one connection and token each) against a server on 127.0.0.1, with TLS and without,
# in four phases of SECONDS each:
#   uploads-max   mnist-mlp-sized sparse updates (θ_u = 0.1) as fast as acknowledged (durable):
#                 the saturation throughput (closed loop: latency = clients / throughput)
#   uploads-RATE  the same at RATE uploads/s in all (open loop, default 1000): the latency at
#                 that load, counted from when each upload was due
#   downloads     θ_d = 1 (every parameter) as fast as served
#   turns         download θ_d = 1 then upload, the DSSGD participant's loop, as fast as served
# Prints uploads/s, download throughput, p50/p99 latencies and the server's peak memory, and
# writes docs/results/server/loadgen-{tls,plaintext}-PHASE.json.
#
#   scripts/bench-server.sh [CLIENTS] [SECONDS] [RATE]     # defaults 150, 15 and 1000
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-150}
seconds=${2:-15}
rate=${3:-1000}
swift build -c release --product colearn >/dev/null
bin=.build/release/colearn
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
out=docs/results/server
mkdir -p "$out"

names=()
for ((i = 0; i < clients; i++)); do names+=("client-$i"); done
"$bin" token add "${names[@]}" --tokens "$work/tokens" --write-to "$work/tokens.d" >/dev/null

source scripts/lib/make-test-certs.sh
make_test_certs "$work"

run() { # $1 = tls|plaintext
  local mode=$1 security client_security
  if [[ $mode == tls ]]; then
    security=(--tls-cert "$work/cert.pem" --tls-key "$work/key.pem")
    client_security=(--tls-ca "$work/ca.pem")
  else
    security=(--insecure)
    client_security=(--insecure)
  fi
  rm -rf "$work/state-$mode"
  "$bin" serve --listen 127.0.0.1:0 --tokens "$work/tokens" --state-dir "$work/state-$mode" \
    "${security[@]}" --participants "$clients" --protocol async --model mnist-mlp \
    --metrics-every 3600 >"$work/serve-$mode.out" 2>"$work/serve-$mode.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q "listening on" "$work/serve-$mode.out" && break; sleep 0.1; done
  local port
  port=$(sed -nE 's/listening on 127\.0\.0\.1:([0-9]+)/\1/p' "$work/serve-$mode.out")
  echo "== $mode: $clients clients, $seconds s (server pid $pid, port $port)"
  local phase flags rss
  for phase in uploads-max "uploads-$rate" downloads turns; do
    case $phase in
      uploads-max) flags=(--download-fraction 0) ;;
      uploads-*) flags=(--download-fraction 0 --rate "$rate") ;;
      downloads) flags=(--download-fraction 1 --no-uploads) ;;
      turns) flags=(--download-fraction 1) ;;
    esac
    echo "-- $phase"
    "$bin" loadgen --server "127.0.0.1:$port" --tokens-dir "$work/tokens.d" --clients "$clients" \
      --seconds "$seconds" "${client_security[@]}" "${flags[@]}" \
      --json "$out/loadgen-$mode-$phase.json"
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    echo "server peak memory so far (VmHWM): $((rss / 1024)) MiB"
    python3 - "$out/loadgen-$mode-$phase.json" "$rss" <<'PY'
import json, sys
path, rss = sys.argv[1], int(sys.argv[2])
data = json.load(open(path))
data["serverPeakMemoryMiB"] = round(rss / 1024, 1)
json.dump(data, open(path, "w"), indent=2, sort_keys=True)
PY
  done
  kill -TERM "$pid"
  wait "$pid"
}
run tls
run plaintext
