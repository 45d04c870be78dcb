// swift-tools-version: 6.1
import PackageDescription

/// The CPU the numeric Swift loops (tanh, pooling, normalisation, im2col) are compiled for on
/// x86-64: "haswell" (AVX2 + FMA, every x86-64 server CPU since 2013) lets them vectorise 8
/// floats wide instead of SSE2's 4. Set COLEARN_TARGET_CPU=x86-64 when building for an older
/// CPU, or e.g. =skylake-avx512 for a specific newer one. BLAS kernels are chosen at run time
/// regardless (docs/BLAS.md).
#if arch(x86_64)
  let targetCPU = Context.environment["COLEARN_TARGET_CPU"] ?? "haswell"
#else
  let targetCPU = Context.environment["COLEARN_TARGET_CPU"] ?? ""
#endif

/// Numeric targets are compiled with exclusivity checks off in release builds: their hot loops
/// work on unsafe buffers owned by one layer at a time, and the dynamic checks cost measurable
/// time at mini-batch 1 (see docs/ARCHITECTURE.md).
let numericSettings: [SwiftSetting] = [
  .unsafeFlags(
    ["-enforce-exclusivity=unchecked"] + (targetCPU.isEmpty ? [] : ["-target-cpu", targetCPU]),
    .when(configuration: .release))
]

/// The AVX-512 twins of the direct convolution kernels (Sources/CoLearnAVX512), compiled for
/// AMD Zen 4, whose code generator keeps 512-bit vectors (Intel targets prefer 256 bits); called
/// only on CPUs that have every vector extension it may use (`KernelInstructions`).
#if arch(x86_64)
  let avx512Flags = ["-target-cpu", "znver4"]
#else
  let avx512Flags: [String] = []
#endif

let package = Package(
  name: "colearn",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "colearn", targets: ["colearn"]),
    .library(name: "CoLearnNN", targets: ["CoLearnNN"]),
    .library(name: "CoLearnData", targets: ["CoLearnData"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
    // X.509 for `colearn provision` (a federation's CA and server certificate, no openssl).
    .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    // Already in the graph through grpc-swift-nio-transport; named for the server's stream
    // handler in front of gRPC's (the request memory bound, CoLearnRPC/Server/RequestAdmission).
    .package(url: "https://github.com/apple/swift-nio", from: "2.96.0"),
    .package(url: "https://github.com/apple/swift-nio-http2", from: "1.42.0"),
    // Also in the graph through grpc-swift-nio-transport: a TLS handshake of its own lets a
    // participant say why a connection failed, and the server log failed handshakes.
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    // No default traits: they pull in all of Foundation for streams colearn does not use.
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0", traits: []),
  ],
  targets: [
    // MARK: - C boundary
    .systemLibrary(
      name: "COpenBLAS",
      pkgConfig: "openblas",
      providers: [.apt(["libopenblas-dev"])]
    ),
    // oneDNN's sgemm (Debian's libdnnl-dev): AVX-512 kernels generated for the CPU it runs on,
    // 1.7–2× OpenBLAS 0.3.21's on the AVX-512 machines here (docs/BLAS.md, "oneDNN").
    .systemLibrary(
      name: "CDNNL",
      providers: [.apt(["libdnnl-dev"])]
    ),
    .systemLibrary(
      name: "CZlib",
      pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"])]
    ),

    // MARK: - Libraries
    .target(
      name: "CoLearnTensor",
      dependencies: ["COpenBLAS", .target(name: "CDNNL", condition: .when(platforms: [.linux]))],
      exclude: ["README.md"], swiftSettings: numericSettings),
    .target(
      name: "CoLearnAVX512", dependencies: ["CoLearnTensor"], exclude: ["README.md"],
      swiftSettings: [
        .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
        .unsafeFlags(avx512Flags),
      ]),
    .target(
      name: "CoLearnNN", dependencies: ["CoLearnTensor", "CoLearnAVX512"], exclude: ["README.md"],
      swiftSettings: numericSettings),
    .target(
      name: "CoLearnData", dependencies: ["CoLearnTensor", "CZlib"], exclude: ["README.md"],
      swiftSettings: numericSettings),
    .target(name: "CoLearnWire", dependencies: ["CoLearnTensor"]),
    .target(
      name: "CoLearnModelIO",
      dependencies: [
        "CoLearnNN", "CoLearnData", "CZlib",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["README.md"]),
    .target(
      name: "CoLearnPrivacy", dependencies: ["CoLearnTensor"], exclude: ["README.md"],
      swiftSettings: numericSettings),
    .target(
      name: "CoLearnRPC",
      dependencies: [
        "CoLearnTensor", "CoLearnNN", "CoLearnWire", "CoLearnDSSGD", "CoLearnSplit",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOTLS", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
      ],
      exclude: ["README.md"]
    ),
    .target(
      name: "CoLearnDSSGD",
      dependencies: [
        "CoLearnTensor", "CoLearnNN", "CoLearnData", "CoLearnWire", "CoLearnPrivacy", "CZlib",
      ],
      exclude: ["README.md"], swiftSettings: numericSettings),
    .target(
      name: "CoLearnSplit",
      dependencies: [
        "CoLearnTensor", "CoLearnNN", "CoLearnData", "CoLearnPrivacy",
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      exclude: ["README.md"], swiftSettings: numericSettings),
    .target(
      name: "CoLearnAudit", dependencies: ["CoLearnTensor", "CoLearnNN"], exclude: ["README.md"],
      swiftSettings: numericSettings),
    .target(
      name: "CoLearnCLI",
      dependencies: [
        "CoLearnTensor", "CoLearnNN", "CoLearnData", "CoLearnDSSGD", "CoLearnPrivacy",
        "CoLearnWire", "CoLearnRPC", "CoLearnSplit", "CoLearnModelIO", "CoLearnAudit",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
      ],
      exclude: ["README.md"],
      // Unit tests of the suite parser, the runner and the chart writer import it @testable;
      // the tests run release builds (numeric kernels), so testing is enabled there too. It
      // costs the CLI nothing measurable (its hot paths are in the numeric targets).
      swiftSettings: [.unsafeFlags(["-enable-testing"], .when(configuration: .release))]
    ),
    .executableTarget(name: "colearn", dependencies: ["CoLearnCLI"]),
    .target(
      name: "CoLearnTestSupport", dependencies: ["CoLearnTensor", "CoLearnNN", "CoLearnData"]),

    // MARK: - Fuzzing (docs/FUZZING.md; not part of the product)
    .target(
      name: "CoLearnFuzz",
      dependencies: [
        "CoLearnTensor", "CoLearnNN", "CoLearnWire", "CoLearnPrivacy", "CoLearnDSSGD", "CoLearnRPC",
        "CZlib", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["README.md"]),
    .executableTarget(name: "colearn-fuzz", dependencies: ["CoLearnFuzz"]),

    // MARK: - Tests
    .testTarget(name: "CoLearnTensorTests", dependencies: ["CoLearnTensor", "CoLearnTestSupport"]),
    .testTarget(name: "CoLearnAVX512Tests", dependencies: ["CoLearnAVX512", "CoLearnTestSupport"]),
    .testTarget(name: "CoLearnNNTests", dependencies: ["CoLearnNN", "CoLearnTestSupport"]),
    .testTarget(name: "CoLearnDataTests", dependencies: ["CoLearnData", "CoLearnTestSupport"]),
    .testTarget(
      name: "CoLearnDSSGDTests",
      dependencies: ["CoLearnDSSGD", "CoLearnPrivacy", "CoLearnTestSupport"]),
    .testTarget(name: "CoLearnWireTests", dependencies: ["CoLearnWire", "CoLearnTensor"]),
    .testTarget(
      name: "CoLearnModelIOTests", dependencies: ["CoLearnModelIO", "CoLearnTestSupport"]),
    .testTarget(
      name: "CoLearnPrivacyTests", dependencies: ["CoLearnPrivacy", "CoLearnTestSupport"]),
    .testTarget(
      name: "CoLearnRPCTests",
      dependencies: [
        "CoLearnRPC", "CoLearnWire", "CoLearnTensor", "CoLearnNN", "CoLearnDSSGD",
        "CoLearnSplit", "CoLearnTestSupport",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ]
    ),
    .testTarget(
      name: "CoLearnSplitTests",
      dependencies: ["CoLearnSplit", "CoLearnPrivacy", "CoLearnTestSupport"]),
    .testTarget(
      name: "CoLearnCLITests",
      dependencies: ["CoLearnCLI", "CoLearnModelIO", "CoLearnPrivacy", "CoLearnTestSupport"]),
    .testTarget(name: "CoLearnFuzzTests", dependencies: ["CoLearnFuzz"]),
    .testTarget(
      name: "CoLearnAuditTests", dependencies: ["CoLearnAudit", "CoLearnTestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
