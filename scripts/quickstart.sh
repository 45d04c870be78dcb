#!/usr/bin/env bash
# One command from a fresh clone to a trained model: installs the system libraries, builds the
# release binary, makes sure MNIST is in the data directory, and trains mnist-mlp.
#   bash scripts/quickstart.sh [extra colearn train flags]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product colearn
bin=.build/release/colearn
if ! "$bin" data verify mnist >/dev/null 2>&1; then
  echo "quickstart: MNIST not found in the data directory; fetching it"
  "$bin" data fetch mnist
fi
"$bin" train --model mnist-mlp --batch-size 32 --lr 0.1 --epochs 10 --out runs/quickstart "$@"
