#!/usr/bin/env bash
# Seconds per DSSGD round against the PyTorch peer (issue 3's speed bars, issue 24's for the
# CNN): N = 30, mnist-mlp (or --model mnist-cnn), θ_u = 0.1, θ_d = 1, M = 32, α = 0.01,
# round-robin, on the real MNIST; each run's figure is the
# median of rounds 3–12 (the first two warm caches and the pool). This VM's speed drifts by up
# to 2× within minutes, so the runs are interleaved in passes and only figures of one pass
# compare: each pass runs the peer with 1 and 2 threads, then every colearn binary given with
# 1 and 2 threads, and prints one row with the ratio peer best / colearn best per binary, and
# the share of local training in colearn's rounds.
#
# Usage: scripts/bench-dssgd-round.sh [--model mnist-mlp|mnist-cnn] [PASSES] [LABEL=BINARY ...]
#   default: mnist-mlp, 3 passes of .build/release/colearn (build it first: swift build -c release).
#   (A mnist-cnn round is ~40 times a mnist-mlp round: 3 passes take ~15 minutes.)
# Needs: python3 with torch and threadpoolctl (python3 -m pip install torch threadpoolctl),
# ../shared/peers/dssgd_torch.py, and MNIST in $COLEARN_DATA_DIR (default ../shared/data).
# Stop other work on the machine first (kill -STOP): two cores are all there is.
set -euo pipefail
cd "$(dirname "$0")/.."
model=mnist-mlp
if [[ ${1:-} == --model ]]; then
  model=${2:?--model needs mnist-mlp or mnist-cnn}
  shift 2
fi
case $model in
  mnist-mlp | mnist-cnn) ;;
  *) echo "bench: --model takes mnist-mlp or mnist-cnn (the MNIST models both sides have), not $model" >&2; exit 1 ;;
esac
passes=${1:-3}
shift || true
binaries=("$@")
((${#binaries[@]})) || binaries=("colearn=.build/release/colearn")
data=${COLEARN_DATA_DIR:-$(cd .. && pwd)/shared/data}
peer=../shared/peers/dssgd_torch.py
[[ -f $peer ]] || { echo "bench: $peer not found (the peers directory sits beside the project)" >&2; exit 1; }
python3 -c "import torch, threadpoolctl" 2>/dev/null ||
  { echo "bench: the peer needs torch: python3 -m pip install torch threadpoolctl" >&2; exit 1; }
for entry in "${binaries[@]}"; do
  [[ -x ${entry#*=} ]] || { echo "bench: ${entry#*=} is not an executable (LABEL=BINARY)" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The median of column $2 (1-based) of CSV file $1 over data rows whose round (column 1 or 2,
# see $3) is at least 3.
median() {
  awk -F, -v col="$2" -v rcol="$3" 'NR > 1 && $rcol >= 3 { print $col }' "$1" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

header="pass | peer 1 thr | peer 2 thr"
for entry in "${binaries[@]}"; do
  label=${entry%%=*}
  header+=" | $label 1 thr | $label 2 thr | peer best / $label best | $label training share"
done
echo "$model: s/round, median of rounds 3-12"
echo "$header"
for ((pass = 1; pass <= passes; pass++)); do
  row="$pass"
  peerBest=""
  for t in 1 2; do
    python3 "$peer" --data-dir "$data/mnist" --model "$model" --participants 30 --batch 32 \
      --theta-u 0.1 --theta-d 1 --lr 0.01 --rounds 12 --eval-every 1000 --threads "$t" \
      --csv "$work/peer-$t.csv" >/dev/null 2>&1
    # columns: mode, round, round_s
    s=$(median "$work/peer-$t.csv" 3 2)
    row+=" | $s"
    peerBest=$(awk -v a="$s" -v b="$peerBest" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }')
  done
  for entry in "${binaries[@]}"; do
    binary=${entry#*=}
    best=""
    share=""
    for t in 1 2; do
      out="$work/colearn-$t"
      rm -rf "$out"
      COLEARN_DATA_DIR="$data" "$binary" simulate --model "$model" --participants 30 --upload-fraction 0.1 \
        --rounds 12 --eval-every 1000 --test-limit 100 --threads "$t" --out "$out" >/dev/null 2>&1
      # columns: round, seconds, train_seconds
      s=$(median "$out/metrics.csv" 2 1)
      f=$(awk -F, 'NR > 1 && $1 >= 3 { t += $2; tr += $3 } END { printf "%.1f%%", 100 * tr / t }' "$out/metrics.csv")
      row+=" | $s"
      if [[ -z $best ]] || awk -v a="$s" -v b="$best" 'BEGIN { exit !(a + 0 < b + 0) }'; then
        best=$s
        share=$f
      fi
    done
    row+=" | $(awk -v p="$peerBest" -v c="$best" 'BEGIN { printf "%.2fx", p / c }') | $share"
  done
  echo "$row"
done
