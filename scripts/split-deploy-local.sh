#!/usr/bin/env bash
# Split learning over a real network on this machine (issue 7): one `colearn split serve` with
# TLS and tokens and N separate `colearn split participate` processes on the real MNIST
# (participant I trains on the IID shard I/N of the full training set and evaluates front +
# downloaded back on the full test set), then `colearn split simulate` with the same settings
# for comparison. Writes runs/split-deploy-local/ and prints both accuracies and whether the
# participants' fronts ended bit-identical.
#
#   scripts/split-deploy-local.sh [N] [EPOCHS] [EPSILON] [BATCH] [LR]   # defaults 3, 2, 5, 64, 0.1
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
epochs=${2:-2}
epsilon=${3:-5}
batch=${4:-64}
lr=${5:-0.1}
export COLEARN_DATA_DIR=${COLEARN_DATA_DIR:-$(cd .. && pwd)/shared/data}
swift build -c release --product colearn >/dev/null
bin=$PWD/.build/release/colearn
out=runs/split-deploy-local
rm -rf "$out"
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

names=()
for ((i = 0; i < n; i++)); do names+=("edge-$i"); done
"$bin" token add "${names[@]}" --tokens "$out/tokens" --write-to "$out/tokens.d" >/dev/null
"$bin" split keygen --out "$out/federation.key" >/dev/null
source scripts/lib/make-test-certs.sh
source scripts/lib/local-federation.sh
make_test_certs "$out"

"$bin" split serve --listen 127.0.0.1:0 --tokens "$out/tokens" \
  --tls-cert "$out/cert.pem" --tls-key "$out/key.pem" --participants "$n" \
  --batch-size "$batch" --lr "$lr" --threads 1 >"$out/serve.out" 2>"$out/serve.log" &
server=$!
port=$(server_port "$out/serve.out")
start=$(date +%s)
pids=()
for ((i = 0; i < n; i++)); do
  "$bin" split participate --server "127.0.0.1:$port" --tls-ca "$out/ca.pem" \
    --name "edge-$i" --token-file "$out/tokens.d/edge-$i.token" --key "$out/federation.key" \
    --shard "$i/$n" --epsilon "$epsilon" --batch-size "$batch" --epochs "$epochs" \
    --threads 1 --out "$out/edge-$i" >"$out/edge-$i.out" 2>"$out/edge-$i.err" &
  pids+=($!)
done
finish_federation "$server" "${pids[@]}"
wall=$(($(date +%s) - start))
python3 - "$out" "$n" "$wall" <<'PY'
import json, sys
out, n, wall = sys.argv[1], int(sys.argv[2]), sys.argv[3]
records = [json.load(open(f"{out}/edge-{i}/summary.json")) for i in range(n)]
acc = [r["finalTestAccuracy"] for r in records]
identical = len({r["frontHash"] for r in records}) == 1
print(f"network: {n} participant processes over TLS, test accuracy {100*sum(acc)/n:.2f}% "
      f"(min {100*min(acc):.2f}, max {100*max(acc):.2f}), fronts identical: {identical}, "
      f"{wall} s wall")
json.dump({"participants": n, "meanTestAccuracy": sum(acc)/n, "minTestAccuracy": min(acc),
           "maxTestAccuracy": max(acc), "frontsIdentical": identical, "wallSeconds": int(wall)},
          open(f"{out}/deployment-summary.json", "w"), indent=2)
PY
"$bin" split simulate --participants "$n" --epochs "$epochs" --epsilon "$epsilon" \
  --batch-size "$batch" --lr "$lr" --threads 1 --out "$out/simulate" | tail -2
