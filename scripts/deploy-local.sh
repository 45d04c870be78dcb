#!/usr/bin/env bash
# A real-network federation on this machine, by docs/DEPLOYMENT.md's flow (issue 20): `colearn
# provision` for N participants, `colearn serve --config` from the server's kit with TLS and
# --rounds, and N separate `colearn participate --config` processes from their kits on the real
# MNIST (participant I trains on the IID shard I/N, 600 samples, as `colearn simulate` would
# give it); the server evaluates w_global on MNIST's test set and stops by itself. Then the same
# settings through `colearn simulate` for comparison. Writes runs/deploy-local/ and prints the
# participants' mean accuracy, the server's global accuracy and simulate's, and records all three
# in deployment-summary.json (CI runs it at N = 5: DeploymentGuideTests).
#
#   scripts/deploy-local.sh [N] [ROUNDS] [LR]        # defaults 30, 50, 0.01
#   COLEARN=path/to/colearn OUT=dir scripts/deploy-local.sh …   # a built binary, another directory
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-30}
rounds=${2:-50}
lr=${3:-0.01}
export COLEARN_DATA_DIR=${COLEARN_DATA_DIR:-$(cd .. && pwd)/shared/data}
if [[ -z ${COLEARN:-} ]]; then
  swift build -c release --product colearn >/dev/null
fi
bin=${COLEARN:-$PWD/.build/release/colearn}
out=${OUT:-runs/deploy-local}
rm -rf "$out"
mkdir -p "$out"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

# docs/DEPLOYMENT.md's flow: provision -> start the server -> hand out kits -> participants run
# -> the server finishes after its rounds -> collect the model and the run record.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
names=$(for ((i = 0; i < n; i++)); do printf 'participant-%d, ' "$i"; done)
cat >"$out/federation.yaml" <<YAML
federation: deploy-local
server: localhost:$port
listen: 127.0.0.1:$port
participants: ${names%, }
serve.model: mnist-mlp
serve.participants: $n
serve.rounds: $rounds
serve.upload-fraction: 0.1
serve.download-fraction: 1
serve.protocol: round-robin
serve.eval-data: mnist
serve.eval-every: $rounds
participate.lr: $lr
participate.threads: 1
participate.eval-every: $rounds
YAML
"$bin" provision --project "$out/federation.yaml" --out "$out/fed" >/dev/null
source scripts/lib/local-federation.sh

"$bin" serve --config "$out/fed/server/serve.yaml" >"$out/serve.out" 2>"$out/serve.log" &
server=$!
server_port "$out/serve.out" >/dev/null
start=$(date +%s)
pids=()
for ((i = 0; i < n; i++)); do
  # Each institution adds only what names its data: here the IID shard I/N of MNIST.
  "$bin" participate --config "$out/fed/kits/participant-$i/participate.yaml" --shard "$i/$n" \
    >"$out/participant-$i.out" 2>"$out/participant-$i.err" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
wait "$server"  # it stops by itself once the last round is done and everyone has left
wall=$(($(date +%s) - start))
for ((i = 0; i < n; i++)); do
  mkdir -p "$out/participant-$i" && cp "$out/fed/kits/participant-$i/run/summary.json" "$out/participant-$i/"
done
"$bin" simulate --participants "$n" --upload-fraction 0.1 --download-fraction 1 \
  --protocol round-robin --rounds "$rounds" --lr "$lr" --eval-every "$rounds" --threads 1 \
  --out "$out/simulate" >"$out/simulate.out"
python3 - "$out" "$n" "$wall" <<'PY'
import json, sys
out, n, wall = sys.argv[1], int(sys.argv[2]), sys.argv[3]
acc = [json.load(open(f"{out}/participant-{i}/summary.json"))["finalAccuracy"] for i in range(n)]
server = json.load(open(f"{out}/fed/server/state/run/summary.json"))
simulated = json.load(open(f"{out}/simulate/summary.json"))
mean, glob = sum(acc) / n, server["finalGlobalAccuracy"]
print(f"deployment: {n} processes over TLS, mean accuracy {100*mean:.2f}% "
      f"(min {100*min(acc):.2f}, max {100*max(acc):.2f}), global model "
      f"{100*glob:.2f}% on MNIST's test set, {wall} s wall")
print(f"simulate, same settings: mean accuracy {100*simulated['finalMeanAccuracy']:.2f}%, "
      f"global model {100*simulated['finalGlobalAccuracy']:.2f}%; the deployment's global model "
      f"is {100*(glob - simulated['finalGlobalAccuracy']):+.2f} points from the simulation's")
json.dump({"participants": n, "meanAccuracy": mean, "minAccuracy": min(acc),
           "maxAccuracy": max(acc), "globalAccuracy": glob, "wallSeconds": int(wall),
           "simulatedMeanAccuracy": simulated["finalMeanAccuracy"],
           "simulatedGlobalAccuracy": simulated["finalGlobalAccuracy"]},
          open(f"{out}/deployment-summary.json", "w"), indent=2)
PY
