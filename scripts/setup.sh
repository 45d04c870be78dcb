#!/usr/bin/env bash
# Installs what colearn needs on a fresh Debian/Ubuntu machine (Swift itself must already be on
# PATH): a CBLAS (OpenBLAS), oneDNN (its sgemm runs colearn's matrix products, docs/BLAS.md),
# zlib and pkg-config, openssl (the deployment tests and scripts/bench-server.sh make test
# certificates with it) and binutils (AVX512ConfinementTests reads the built machine code with
# objdump and nm). Safe to run again: installs only what is missing.
set -euo pipefail

packages=(libopenblas-dev libdnnl-dev zlib1g-dev pkg-config openssl binutils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v swift >/dev/null || { echo "setup: swift not found on PATH (install Swift 6.1 or newer)" >&2; exit 1; }
echo "setup: ok ($(swift --version 2>/dev/null | head -1))"
