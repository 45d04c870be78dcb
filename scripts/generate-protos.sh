#!/usr/bin/env bash
# Regenerates the Swift code for Protos/colearn/v1/{colearn,split}.proto into
# Sources/CoLearnRPC/Generated/ (messages from protoc-gen-swift, gRPC client and server stubs from
# protoc-gen-grpc-swift-2), and the ONNX message types for `colearn export` from the public
# onnx.proto (the one shipped in the `onnx` PyPI package, version $ONNX_VERSION below) into
# Sources/CoLearnModelIO/Generated/onnx.pb.swift. The generated files are committed, so neither a
# build nor CI runs this: run it after editing a .proto (or moving to another ONNX version) and
# commit its output with the change.
#
#   scripts/generate-protos.sh            # PLUGIN_BUILD_DIR defaults to /tmp/build-plugins
#   PLUGIN_BUILD_DIR=/somewhere scripts/generate-protos.sh
#
# What it does:
#   1. installs protoc from Debian's protobuf-compiler if `protoc` is missing (apt-get, as root or
#      through sudo);
#   2. builds the two plugins at the versions colearn's Package.swift uses (swift-protobuf 1.39.0,
#      grpc-swift-protobuf 2.4.1 with grpc-swift-2 2.4.3) in a throwaway package under
#      PLUGIN_BUILD_DIR: a first build takes several minutes, later runs reuse it;
#   3. runs protoc with both plugins (public visibility, file names without the proto path);
#   4. installs onnx==$ONNX_VERSION with pip if that version is not importable, and runs protoc
#      on its onnx.proto (internal visibility: the types are CoLearnModelIO's own business).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

proto_root="$root/Protos"
protos=(colearn/v1/colearn.proto colearn/v1/split.proto)
out="$root/Sources/CoLearnRPC/Generated"
plugin_dir="${PLUGIN_BUILD_DIR:-/tmp/build-plugins}"
onnx_out="$root/Sources/CoLearnModelIO/Generated"
ONNX_VERSION=1.23.2

# MARK: - 1. protoc
if ! command -v protoc >/dev/null; then
  echo "generate-protos: installing protobuf-compiler (protoc)"
  if [[ $(id -u) -eq 0 ]]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq protobuf-compiler >/dev/null
fi
echo "generate-protos: $(protoc --version)"

# MARK: - 2. the plugins
# A package with no targets of its own whose dependencies pin the plugin versions; `swift build
# --product` builds an executable product of a dependency.
mkdir -p "$plugin_dir"
manifest=$(
  cat <<'EOF'
// swift-tools-version: 6.1
// Written by colearn's scripts/generate-protos.sh: builds the protoc plugins at pinned versions.
import PackageDescription

let package = Package(
  name: "colearn-protoc-plugins",
  dependencies: [
    .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
    .package(url: "https://github.com/grpc/grpc-swift-2.git", exact: "2.4.3"),
  ],
  targets: []
)
EOF
)
# Rewritten only when it changes: a new manifest makes SwiftPM rebuild the plugins.
if [[ "$(cat "$plugin_dir/Package.swift" 2>/dev/null)" != "$manifest" ]]; then
  printf '%s\n' "$manifest" >"$plugin_dir/Package.swift"
fi
echo "generate-protos: building protoc-gen-swift and protoc-gen-grpc-swift-2 in $plugin_dir"
(
  cd "$plugin_dir"
  nice -n 10 swift build -c debug --scratch-path "$plugin_dir/.build" \
    --product protoc-gen-swift
  nice -n 10 swift build -c debug --scratch-path "$plugin_dir/.build" \
    --product protoc-gen-grpc-swift-2
)
bin=$(cd "$plugin_dir" && swift build -c debug --scratch-path "$plugin_dir/.build" --show-bin-path)

# MARK: - 3. generate
mkdir -p "$out"
rm -f "$out"/*.pb.swift "$out"/*.grpc.swift
protoc \
  --proto_path="$proto_root" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --swift_opt=Visibility=Public \
  --swift_opt=FileNaming=DropPath \
  --swift_out="$out" \
  --grpc-swift-2_opt=Visibility=Public \
  --grpc-swift-2_opt=FileNaming=DropPath \
  --grpc-swift-2_opt=Server=True \
  --grpc-swift-2_opt=Client=True \
  --grpc-swift-2_out="$out" \
  "${protos[@]}"
echo "generate-protos: wrote $(cd "$out" && ls | tr '\n' ' ')to ${out#"$root"/}"

# MARK: - 4. ONNX
onnx_dir() {
  python3 -c "import onnx, os, sys; sys.exit(0 if onnx.__version__ == '$ONNX_VERSION' else 1); " \
    2>/dev/null && python3 -c "import onnx, os; print(os.path.dirname(onnx.__file__))"
}
if ! onnx_dir >/dev/null; then
  echo "generate-protos: installing onnx==$ONNX_VERSION (for its onnx.proto)"
  python3 -m pip install -q "onnx==$ONNX_VERSION"
fi
onnx_proto_root=$(onnx_dir)
mkdir -p "$onnx_out"
rm -f "$onnx_out"/*.pb.swift
protoc \
  --proto_path="$onnx_proto_root" \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --swift_opt=Visibility=Internal \
  --swift_opt=FileNaming=DropPath \
  --swift_out="$onnx_out" \
  onnx.proto
echo "generate-protos: wrote $(cd "$onnx_out" && ls | tr '\n' ' ')to ${onnx_out#"$root"/} (onnx $ONNX_VERSION)"
