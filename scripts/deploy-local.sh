#!/usr/bin/env bash
# A real-network federation on this machine (issue 5): one `colearn serve` with TLS and N
# separate `colearn participate` processes on the real MNIST (participant I trains on the IID
# shard I/N, 600 samples, as `colearn simulate` would give it), then the same settings through
# `colearn simulate` for comparison. Writes runs/deploy-local/ and prints both accuracies.
#
#   scripts/deploy-local.sh [N] [ROUNDS] [LR]        # defaults 30, 50, 0.01
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30}
rounds=${2:-50}
lr=${3:-0.01}
export COLEARN_DATA_DIR=${COLEARN_DATA_DIR:-$(cd .. && pwd)/shared/data}
swift build -c release --product colearn >/dev/null
bin=$PWD/.build/release/colearn
out=runs/deploy-local
rm -rf "$out"
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

names=()
for ((i = 0; i < n; i++)); do names+=("participant-$i"); done
"$bin" token add "${names[@]}" --tokens "$out/tokens" --write-to "$out/tokens.d" >/dev/null
source scripts/lib/make-test-certs.sh
source scripts/lib/local-federation.sh
make_test_certs "$out"

"$bin" serve --listen 127.0.0.1:0 --tokens "$out/tokens" --state-dir "$out/state" \
  --tls-cert "$out/cert.pem" --tls-key "$out/key.pem" --participants "$n" \
  --upload-fraction 0.1 --download-fraction 1 --protocol round-robin \
  >"$out/serve.out" 2>"$out/serve.log" &
server=$!
port=$(server_port "$out/serve.out")
start=$(date +%s)
pids=()
for ((i = 0; i < n; i++)); do
  "$bin" participate --server "127.0.0.1:$port" --tls-ca "$out/ca.pem" --name "participant-$i" \
    --token-file "$out/tokens.d/participant-$i.token" --shard "$i/$n" --rounds "$rounds" \
    --lr "$lr" --threads 1 --eval-every "$rounds" --out "$out/participant-$i" \
    >"$out/participant-$i.out" 2>"$out/participant-$i.err" &
  pids+=($!)
done
finish_federation "$server" "${pids[@]}"
wall=$(($(date +%s) - start))
python3 - "$out" "$n" "$wall" <<'PY'
import json, sys
out, n, wall = sys.argv[1], int(sys.argv[2]), sys.argv[3]
acc = [json.load(open(f"{out}/participant-{i}/summary.json"))["finalAccuracy"] for i in range(n)]
print(f"deployment: {n} processes over TLS, mean accuracy {100*sum(acc)/n:.2f}% "
      f"(min {100*min(acc):.2f}, max {100*max(acc):.2f}), {wall} s wall")
json.dump({"participants": n, "meanAccuracy": sum(acc)/n, "minAccuracy": min(acc),
           "maxAccuracy": max(acc), "wallSeconds": int(wall)},
          open(f"{out}/deployment-summary.json", "w"), indent=2)
PY
"$bin" simulate --participants "$n" --upload-fraction 0.1 --download-fraction 1 \
  --protocol round-robin --rounds "$rounds" --lr "$lr" --eval-every "$rounds" --threads 1 \
  --out "$out/simulate" | tail -1
