#!/usr/bin/env bash
# Evaluation throughput against PyTorch, side by side (issue 24: "evaluation never behind"):
# each pass runs the PyTorch peer's evaluation (no_grad forward at batch 1000 on random data,
# ../shared/peers/train_bench.py's protocol, with 2 and 1 threads, best kept) and then
# `colearn bench --no-training` (the same random dense samples through colearn's evaluator on
# both cores), and prints per model the two rates and their ratio. With MNIST in
# $COLEARN_DATA_DIR it also prints `colearn predict`'s forward-pass rate on the 10,000 real
# test images (mnist-mlp and mnist-cnn trained one epoch on 1,000 samples for the purpose).
# This VM's speed drifts by up to 2x within minutes, so only figures of one pass compare.
#
# Usage: scripts/bench-eval.sh [PASSES] [MODELS]
#   default: 3 passes, all four presets, .build/release/colearn (swift build -c release first).
# Needs: python3 with torch (python3 -m pip install torch) and ../shared/peers.
set -euo pipefail
cd "$(dirname "$0")/.."
passes=${1:-3}
models=${2:-mnist-mlp,svhn-mlp,mnist-cnn,svhn-cnn}
binary=${COLEARN:-.build/release/colearn}
data=${COLEARN_DATA_DIR:-$(cd .. && pwd)/shared/data}
[[ -x $binary ]] || { echo "bench: $binary is not an executable (build it first)" >&2; exit 1; }
[[ -f ../shared/peers/train_bench.py ]] || { echo "bench: ../shared/peers/train_bench.py not found" >&2; exit 1; }
python3 -c "import torch" 2>/dev/null || { echo "bench: the peer needs torch: python3 -m pip install torch" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "samples/s; pass | model | PyTorch (best of 1/2 thr) | colearn | colearn / PyTorch"
for ((pass = 1; pass <= passes; pass++)); do
  python3 scripts/bench/torch_eval.py --models "$models" >"$work/torch.txt"
  "$binary" bench --model "$models" --no-training --passes 1 --seconds 1 >"$work/colearn.txt"
  IFS=, read -ra names <<<"$models"
  for name in "${names[@]}"; do
    t=$(awk -v m="$name" '$3 == m && $4 > best { best = $4 } END { print best + 0 }' "$work/torch.txt")
    c=$(awk -v m="$name" '$1 == m && $2 ~ /^[0-9]+$/ { print $3 }' "$work/colearn.txt")
    echo "$pass | $name | $t | $c | $(awk -v a="$c" -v b="$t" 'BEGIN { printf "%.2fx", a / b }')"
  done
  if [[ -d $data/mnist ]]; then
    for name in mnist-mlp mnist-cnn; do
      [[ -f $work/$name/model.safetensors ]] ||
        COLEARN_DATA_DIR="$data" "$binary" train --model "$name" --epochs 1 --train-limit 1000 \
          --test-limit 100 --out "$work/$name" >/dev/null
      line=$(COLEARN_DATA_DIR="$data" "$binary" predict --model-file "$work/$name/model.safetensors" \
        --data mnist --out "$work/p.csv")
      # "... (W s; the forward passes F s, R samples/s)"
      rate=$(sed -E 's/.* ([0-9]+) samples\/s\)$/\1/' <<<"$line")
      echo "$pass | predict $name on the 10,000 MNIST test images | | $rate |"
    done
  fi
done
