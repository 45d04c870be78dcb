import Foundation

#if canImport(CDNNL)
  import CDNNL
#endif

extension BLAS {
  /// The library that computes ``gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
  public enum GEMMLibrary: String, Sendable {
    /// oneDNN's `dnnl_sgemm`: kernels generated at run time for the CPU's widest vectors.
    case oneDNN
    /// The CBLAS library colearn links (OpenBLAS), which also does every other BLAS call.
    case openBLAS = "OpenBLAS"
  }

  /// oneDNN when it is linked and its threads can be held to one per call, else OpenBLAS;
  /// `COLEARN_GEMM=openblas` in the environment keeps them on OpenBLAS, for comparisons.
  ///
  /// Why oneDNN: on this workplace's AMD EPYC (family 26) VMs, Debian 12's OpenBLAS 0.3.21 runs
  /// its AVX2 kernels — the workplace sets `OPENBLAS_CORETYPE=Haswell` there, as older OpenBLAS
  /// builds are not trusted on that CPU — while oneDNN generates AVX-512 kernels for the CPU it
  /// finds: 1.7–2× the GFLOP/s on one core on the shapes colearn runs (docs/BLAS.md, "oneDNN").
  /// Vendor-neutral and checked against the definition in the tests.
  public static let gemmLibrary: GEMMLibrary = chooseGEMMLibrary()

  /// Which GEMM library runs and why, for reports (`colearn bench`).
  public static var gemmDescription: String {
    switch gemmLibrary {
    case .openBLAS:
      let reason =
        openBLASRequested
        ? "COLEARN_GEMM=openblas" : oneDNNUnavailableReason ?? "oneDNN refused its first product"
      return "GEMM: OpenBLAS (\(reason))"
    case .oneDNN:
      return "GEMM: oneDNN \(oneDNNVersion) with \(oneDNNInstructionSet) kernels"
    }
  }

  /// Whether the environment asks for OpenBLAS's products (`COLEARN_GEMM=openblas`).
  private static let openBLASRequested =
    ProcessInfo.processInfo.environment["COLEARN_GEMM"]?.lowercased() == "openblas"

  private static func chooseGEMMLibrary() -> GEMMLibrary {
    if openBLASRequested || oneDNNUnavailableReason != nil { return .openBLAS }
    // oneDNN generates its sgemm kernels in its first call (about 20 ms here): done now, when
    // the first network is built, rather than inside the first training step or evaluation,
    // where it would delay a federation's first round.
    var a = [Float](repeating: 0, count: 16 * 16)
    var c = a
    let generated = a.withUnsafeMutableBufferPointer { a in
      c.withUnsafeMutableBufferPointer { c in
        oneDNNGEMM(
          .none, .none, m: 16, n: 16, k: 16, alpha: 1, a: a.baseAddress!, lda: 16,
          b: a.baseAddress!, ldb: 16, beta: 0, c: c.baseAddress!, ldc: 16)
      }
    }
    return generated ? .oneDNN : .openBLAS
  }

  /// Why oneDNN cannot be used here, or nil when it can.
  private static var oneDNNUnavailableReason: String? {
    #if canImport(CDNNL)
      guard let version = dnnl_version() else { return "oneDNN reports no version" }
      // DNNL_RUNTIME_SEQ (1) is single-threaded; DNNL_RUNTIME_OMP (2) is held to one thread per
      // call with omp_set_num_threads, which must be there.
      switch version.pointee.cpu_runtime {
      case 1: return nil
      case 2: return OpenMP.setThreads == nil ? "oneDNN's OpenMP runtime not found" : nil
      default: return "oneDNN built with a threading runtime colearn cannot hold to one thread"
      }
    #else
      return "oneDNN not linked on this platform"
    #endif
  }

  private static var oneDNNVersion: String {
    #if canImport(CDNNL)
      guard let version = dnnl_version()?.pointee else { return "" }
      return "\(version.major).\(version.minor).\(version.patch)"
    #else
      return ""
    #endif
  }

  private static var oneDNNInstructionSet: String {
    #if canImport(CDNNL)
      let names: [Int32: String] = [
        0x1: "SSE4.1", 0x3: "AVX", 0x7: "AVX2", 0x407: "AVX2-VNNI", 0x27: "AVX-512",
        0x67: "AVX-512 VNNI", 0xe7: "AVX-512 BF16", 0x3e7: "AVX-512 AMX",
      ]
      let isa = dnnl_get_effective_cpu_isa()
      return names[isa] ?? "ISA 0x\(String(isa, radix: 16))"
    #else
      return ""
    #endif
  }

  /// `omp_set_num_threads` of the OpenMP runtime oneDNN loaded (looked up at run time, as no
  /// link-time OpenMP library is needed otherwise).
  private enum OpenMP {
    typealias SetThreads = @convention(c) (Int32) -> Void
    nonisolated(unsafe) static let setThreads: SetThreads? = {
      guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "omp_set_num_threads")
      else { return nil }
      return unsafeBitCast(symbol, to: SetThreads.self)
    }()
  }

  /// C = alpha · op(A) · op(B) + beta · C by oneDNN on the calling thread alone; false if oneDNN
  /// refused the call (it then has not written C).
  static func oneDNNGEMM(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) -> Bool {
    #if canImport(CDNNL)
      // The OpenMP thread count is per calling thread: a WorkerPool core or the caller's thread
      // must not start a team of its own.
      OpenMP.setThreads?(1)
      let no = CChar(UInt8(ascii: "N"))
      let yes = CChar(UInt8(ascii: "T"))
      return dnnl_sgemm(
        transA == .none ? no : yes, transB == .none ? no : yes, Int64(m), Int64(n), Int64(k),
        alpha, a, Int64(lda), b, Int64(ldb), beta, c, Int64(ldc)) == 0
    #else
      return false
    #endif
  }
}
