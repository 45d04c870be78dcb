import Foundation

#if canImport(Glibc)
  import Glibc
#endif

extension BLAS {
  /// The CPU kernel OpenBLAS uses (`openblas_get_corename`), such as "SkylakeX" or "Haswell".
  public static var coreName: String {
    BLAS.configuration.split(separator: "(core: ").last.map { String($0.dropLast()) } ?? "unknown"
  }

  /// Makes sure OpenBLAS runs kernels that match this CPU. Idempotent and thread-safe; called by
  /// ``setThreadCount(_:)`` and by every network, so no caller needs to remember it.
  ///
  /// Why: Debian 12's OpenBLAS 0.3.21 (a DYNAMIC_ARCH build) does not recognise recent CPUs —
  /// this workplace's Intel family 6 model 207 and AMD Zen 4 among them — and falls back to its
  /// generic "Prescott" SSE3 kernels: 6–9× slower SGEMM (17–22 instead of 150 GFLOP/s on one
  /// core here, docs/BLAS.md). When the library reports such a generic core, the user has not chosen one
  /// with `OPENBLAS_CORETYPE`, and /proc/cpuinfo shows AVX-512 (F, BW, DQ, VL) or AVX2 + FMA, this
  /// sets `OPENBLAS_CORETYPE` to "SkylakeX" or "Haswell" and re-runs OpenBLAS's own kernel
  /// dispatch (`gotoblas_dynamic_quit` / `gotoblas_dynamic_init`, looked up at run time so other
  /// BLAS builds are unaffected). Newer OpenBLAS releases pick these same kernels by themselves.
  ///
  /// It also settles ``gemmLibrary``, which has oneDNN generate its kernels.
  public static func ensureKernelsMatchCPU() {
    _ = kernelSelection
    _ = gemmLibrary
  }

  /// What ``ensureKernelsMatchCPU()`` did, for reports.
  public static var kernelSelectionNote: String { kernelSelection }

  private static let kernelSelection: String = selectKernels()

  private static func selectKernels() -> String {
    let genericCores: Set<String> = ["Prescott", "Core2", "Nehalem", "Sandybridge", "Unknown"]
    let current = coreName
    guard genericCores.contains(current) else { return "OpenBLAS chose \(current)" }
    if let chosen = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
      return "OPENBLAS_CORETYPE=\(chosen) set by the user"
    }
    guard let flags = KernelInstructions.cpuFlags() else {
      return "OpenBLAS chose \(current); CPU flags unreadable"
    }
    let target: String
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) {
      target = "SkylakeX"
    } else if flags.contains("avx2") && flags.contains("fma") {
      target = "Haswell"
    } else {
      return "OpenBLAS chose \(current) (no AVX2 on this CPU)"
    }
    guard
      let handle = dlopen(nil, RTLD_NOW),
      let quit = dlsym(handle, "gotoblas_dynamic_quit"),
      let initialize = dlsym(handle, "gotoblas_dynamic_init")
    else { return "OpenBLAS chose \(current); kernel re-selection unavailable in this build" }
    typealias Function = @convention(c) () -> Void
    setenv("OPENBLAS_CORETYPE", target, 0)
    unsafeBitCast(quit, to: Function.self)()
    unsafeBitCast(initialize, to: Function.self)()
    return "OpenBLAS chose \(current) for this CPU; switched to \(coreName) kernels"
  }
}
