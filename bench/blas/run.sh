#!/bin/bash
# Build gemm_shapes and time every candidate BLAS on every colearn shape, interleaved:
# for each pass, for each shape, one fresh process per candidate (candidate order rotates every
# shape/pass), each measuring 1 thread and then 2 threads. Candidates are loaded by full path
# (dlopen), never via /usr/lib/x86_64-linux-gnu/libopenblas.so.0 (the alternatives link).
#
#   bench/blas/run.sh [PASSES] [OUT.csv]        (default 3 passes, results/raw.csv)
#   ONLY=ob-pth-skx,blis-pth bench/blas/run.sh 3 results/extra.csv   subset of candidates
#   CHECK=1 bench/blas/run.sh                   correctness check of every candidate, no timing
#   python3 bench/blas/summarize.py results/raw.csv > results/summary.md
#
# Needs: apt-get install libopenblas0-openmp libblis4-pthread libblis4-openmp (runtime libs only).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
PASSES=${1:-3}
OUT=${2:-$HERE/results/raw.csv}
L=/usr/lib/x86_64-linux-gnu
mkdir -p "$HERE/results" "$(dirname "$OUT")"
BIN=$HERE/results/gemm_shapes
gcc -O2 -Wall -o "$BIN" "$HERE/gemm_shapes.c" -ldl -lm

# numpy's bundled OpenBLAS (0.3.31, ILP64, symbol prefix scipy_) if numpy is installed
NP=$(python3 -c "import numpy,os,glob;print(os.path.realpath(glob.glob(os.path.join(os.path.dirname(numpy.__file__),'..','numpy.libs','libscipy_openblas*'))[0]))" 2>/dev/null || true)

# name | env | path | type
CANDS=(
  "ob-pth||$L/openblas-pthread/libopenblas.so.0|ob"
  "ob-pth-skx|OPENBLAS_CORETYPE=SKYLAKEX|$L/openblas-pthread/libopenblas.so.0|ob"
  "ob-pth-hsw|OPENBLAS_CORETYPE=HASWELL|$L/openblas-pthread/libopenblas.so.0|ob"
  "ob-omp-skx|OPENBLAS_CORETYPE=SKYLAKEX|$L/openblas-openmp/libopenblas.so.0|ob"
  "blis-pth||$L/blis-pthread/libblis.so.4|blis"
  "blis-omp||$L/blis-openmp/libblis.so.4|blis"
)
[ -n "$NP" ] && CANDS+=("np-ob0.3.31||$NP|scipy")
# keep only candidates whose library exists (and, if ONLY="a,b" is set, only those names)
C2=(); for c in "${CANDS[@]}"; do IFS='|' read -r n e p t <<<"$c"
  [ -e "$p" ] && { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$n,"* ]]; } && C2+=("$c"); done; CANDS=("${C2[@]}")
NC=${#CANDS[@]}

run1() {  # candidate-spec shapes pass
  IFS='|' read -r n e p t <<<"$1"
  env -u OPENBLAS_NUM_THREADS -u OMP_NUM_THREADS -u BLIS_NUM_THREADS -u OPENBLAS_CORETYPE \
    ${e:+"$e"} "$BIN" "$n" "$p" "$t" "$2" "$3"
}

if [ "${CHECK:-0}" = 1 ]; then
  for c in "${CANDS[@]}"; do echo "== ${c%%|*}"; CHECK=1 run1 "$c" all 0 | grep -v ',OK,' || true; done
  echo "(only failures are listed above)"; exit 0
fi

SHAPES=$("$BIN" list | cut -f1)
[ -s "$OUT" ] || echo "pass,lib,core,shape,thr,flops,best_us,median_us,gf_best,gf_median,calls_per_batch,batches,cpu_per_wall,foreign" >"$OUT"
echo "candidates: $NC, passes: $PASSES, output: $OUT" >&2
k=0
P0=${PASS0:-0}   # pass numbers start at PASS0+1 (to append more passes to an existing file)
for pass in $(seq $((P0 + 1)) $((P0 + PASSES))); do
  echo "pass $pass start $(date -u +%T)" >&2
  for s in $SHAPES; do
    for i in $(seq 0 $((NC - 1))); do
      run1 "${CANDS[$(((i + k) % NC))]}" "$s" "$pass" >>"$OUT"
    done
    k=$((k + 1))
  done
done
echo "done $(date -u +%T)" >&2
