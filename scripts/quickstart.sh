#!/usr/bin/env bash
# One command from a fresh clone to a federation: installs the system libraries, builds the
# release binary, makes sure MNIST is in the data directory, then simulates 30 institutions of
# 600 MNIST images each (mnist-mlp) three ways with the same shards — DSSGD (θ_u = 0.1),
# standalone (each alone) and centralized (data pooled) — and prints what each participant gained
# by collaborating, with SVG plots in runs/quickstart/plots.
#   bash scripts/quickstart.sh [extra colearn simulate flags, e.g. --rounds 100]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product colearn
bin=.build/release/colearn
# The workplace's copy of MNIST beside the clone, when there is one and nothing else is named.
if [[ -z "${COLEARN_DATA_DIR:-}" && -d ../shared/data/mnist ]]; then
  export COLEARN_DATA_DIR=$(cd ../shared/data && pwd)
fi
if ! "$bin" data verify mnist >/dev/null 2>&1; then
  echo "quickstart: MNIST not found in the data directory; fetching it"
  "$bin" data fetch mnist
fi
out=runs/quickstart
common=(--model mnist-mlp --participants 30 --rounds 30 --eval-every 10 --test-limit 5000 --seed 1)
for algorithm in dssgd standalone centralized; do
  echo "== $algorithm"
  "$bin" simulate "${common[@]}" --algorithm "$algorithm" --out "$out/$algorithm" "$@"
done
echo "== what each participant gained by collaborating"
"$bin" compare "$out/dssgd" "$out/standalone" "$out/centralized"
"$bin" plot "$out/dssgd" "$out/standalone" "$out/centralized" --out "$out/plots" \
  --title "30 participants, 600 MNIST images each"
echo "plots: $out/plots/accuracy-vs-round.svg, $out/plots/accuracy-vs-bytes.svg"
echo "the federation's model: $out/dssgd/model.safetensors (try: $bin evaluate --model-file $out/dssgd/model.safetensors --data mnist)"
