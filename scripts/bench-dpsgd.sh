#!/usr/bin/env bash
# DP-SGD training throughput against Opacus 1.6 (issue 21's speed bar), side by side in passes:
# mnist-mlp and mnist-cnn, one epoch over the first SAMPLES MNIST training images, Poisson batches
# of expected size 64, C = 1, σ = 1.0, lr 0.1, with 1 and 2 threads each; prints samples/s and the
# ratio colearn / Opacus (best thread count of each) per pass. This VM drifts up to 2x within
# minutes: compare figures of one pass only.
#
# Usage: scripts/bench-dpsgd.sh [PASSES] [SAMPLES]     (defaults 2 and 12800; $COLEARN: another binary)
# Needs: a release build (swift build -c release), python3 with torch and opacus
# (python3 -m pip install torch --index-url https://download.pytorch.org/whl/cpu; pip install opacus),
# ../shared/peers/models.py, and MNIST in $COLEARN_DATA_DIR (default ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
passes=${1:-2}
samples=${2:-12800}
data=${COLEARN_DATA_DIR:-$(cd .. && pwd)/shared/data}
python3 -c "import torch, opacus" 2>/dev/null ||
  { echo "bench-dpsgd: needs torch and opacus (see the header of this script)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
colearn() {  # model threads → samples/s
  COLEARN_DATA_DIR=$data "${COLEARN:-.build/release/colearn}" train --model "$1" --privacy dp-sgd \
    --noise-multiplier 1.0 --max-grad-norm 1 --batch-size 64 --lr 0.1 --epochs 1 \
    --train-limit "$samples" --test-limit 100 --threads "$2" --out "$work/run" |
    sed -nE 's/.* ([0-9]+) training samples\/s.*/\1/p'
}
opacus() {
  python3 scripts/bench/opacus_dpsgd.py "$1" "$samples" 64 "$2" "$data/mnist" |
    sed -nE 's/.*samples\/s ([0-9]+).*/\1/p'
}
best() { if (($1 > $2)); then echo "$1"; else echo "$2"; fi; }
echo "pass | model | colearn 1 thr | colearn 2 thr | Opacus 1 thr | Opacus 2 thr | colearn / Opacus"
for pass in $(seq 1 "$passes"); do
  for model in mnist-mlp mnist-cnn; do
    o1=$(opacus "$model" 1); o2=$(opacus "$model" 2)
    c1=$(colearn "$model" 1); c2=$(colearn "$model" 2)
    ratio=$(awk -v c="$(best "$c1" "$c2")" -v o="$(best "$o1" "$o2")" 'BEGIN { printf "%.2f", c / o }')
    echo "$pass | $model | $c1 | $c2 | $o1 | $o2 | $ratio×"
  done
done
