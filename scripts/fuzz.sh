#!/usr/bin/env bash
# Fuzz one of colearn's readers of untrusted bytes for SECONDS (docs/FUZZING.md):
#
#   scripts/fuzz.sh TARGET [SECONDS]      # sparse | wal | snapshot | tokens | checkpoint; 600 s
#
# With libFuzzer (`swiftc -sanitize=fuzzer`, in the Linux toolchains) it builds colearn-fuzz
# instrumented in a build directory of its own (FUZZ_BUILD_PATH, default /tmp/colearn-fuzz-build:
# never .build, whose cache a sanitizer build would throw away; the first build compiles every
# dependency once, about 15 minutes on 2 cores), seeds a corpus with valid encodings from the
# real encoders and runs libFuzzer. Crash, timeout and out-of-memory inputs go to
# FUZZ_WORK/TARGET/findings (FUZZ_WORK defaults to /tmp/colearn-fuzz); replay one with
#   COLEARN_FUZZ_TARGET=TARGET FUZZ_BUILD_PATH/release/colearn-fuzz FILE
# FUZZ_ENGINE=mutation (chosen by itself where the toolchain has no libFuzzer) runs the
# deterministic mutation fuzzer the tests run, from seed FUZZ_SEED (default 1), instead; it is
# built in .build (after `swift test` that is a rebuild: SwiftPM builds tests with other flags).
set -euo pipefail
cd "$(dirname "$0")/.."
targets="sparse wal snapshot tokens checkpoint"
target=${1:-}
seconds=${2:-600}
if [[ -z "$target" || " $targets " != *" $target "* ]]; then
  echo "usage: scripts/fuzz.sh TARGET [SECONDS]   (TARGET: ${targets// /, })" >&2
  exit 2
fi
build=${FUZZ_BUILD_PATH:-/tmp/colearn-fuzz-build}
work=${FUZZ_WORK:-/tmp/colearn-fuzz}/$target
engine=${FUZZ_ENGINE:-libfuzzer}
if [[ "$engine" == libfuzzer ]]; then
  probe=$(mktemp -d)
  printf '@_cdecl("LLVMFuzzerTestOneInput")\npublic func f(_ d: UnsafePointer<UInt8>?, _ n: Int) -> CInt { 0 }\n' \
    >"$probe/probe.swift"
  if ! swiftc -sanitize=fuzzer -parse-as-library "$probe/probe.swift" -o "$probe/probe" 2>/dev/null; then
    echo "fuzz.sh: no libFuzzer in this toolchain (swiftc -sanitize=fuzzer): mutation fuzzer" >&2
    engine=mutation
  fi
  rm -rf "$probe"
fi

mkdir -p "$work/corpus" "$work/findings"

if [[ "$engine" == mutation ]]; then
  swift build -c release --product colearn-fuzz >/dev/null
  plain=$PWD/.build/release/colearn-fuzz
  cd "$work/findings"  # where a trapping input is left (crash-TARGET-input)
  exec "$plain" "$target" --seconds "$seconds" --seed "${FUZZ_SEED:-1}"
fi

swift build -c release --build-path "$build" --product colearn-fuzz \
  -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library -Xswiftc -DCOLEARN_LIBFUZZER >/dev/null
COLEARN_FUZZ_TARGET=$target "$build/release/colearn-fuzz" --write-seeds "$work/seeds" >/dev/null
# SWIFT_BACKTRACE=enable=no: libFuzzer's own signal handler must see a trap, to save its input.
# -rss_limit_mb: a few KB of input must not make a reader allocate a GB.
COLEARN_FUZZ_TARGET=$target SWIFT_BACKTRACE=enable=no \
  "$build/release/colearn-fuzz" "$work/corpus" "$work/seeds" \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -malloc_limit_mb=1024 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/findings/"
