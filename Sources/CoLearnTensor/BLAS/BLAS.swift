import COpenBLAS
import Foundation
import Synchronization

/// Whether a matrix operand of ``BLAS/gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)`` is read as
/// stored or transposed. All matrices are row-major.
public enum Transpose: Sendable {
  case none
  case transposed

  var cblas: CBLAS_TRANSPOSE {
    switch self {
    case .none: return CblasNoTrans
    case .transposed: return CblasTrans
    }
  }
}

/// The typed face of the CBLAS library: the only place in colearn that calls into C for
/// linear algebra. Every function is row-major single precision.
///
/// Threading: the BLAS library keeps one global thread pool; ``setThreadCount(_:)`` changes it
/// for the whole process. Calls may come from any thread, but colearn issues them from one
/// training thread at a time.
public enum BLAS {
  /// Sets the largest number of threads one BLAS call may use (`--threads`).
  ///
  /// Calls do not all use that many: see ``parallelGEMMThreshold``.
  ///
  /// - Parameter count: at least 1.
  public static func setThreadCount(_ count: Int) {
    precondition(count >= 1, "BLAS thread count must be at least 1, got \(count)")
    ensureKernelsMatchCPU()
    maximumThreads.store(count, ordering: .relaxed)
    openblas_set_num_threads(Int32(count))
  }

  /// The largest number of threads one call may use.
  public static var threadCount: Int { maximumThreads.load(ordering: .relaxed) }

  /// GEMMs of at least this many floating-point operations (2·m·n·k) run on ``threadCount``
  /// BLAS threads; smaller ones down to ``splitGEMMThreshold`` are split by colearn, and every
  /// smaller GEMM, GEMV, GER and vector operation runs on one thread.
  ///
  /// Why: waking a second thread costs more than it saves on the small calls of mini-batch 1
  /// and of the MLPs at mini-batch 32, and OpenBLAS's own threshold does not keep GEMV, GER or
  /// AXPY of our sizes single-threaded (docs/BLAS.md). The large convolution and evaluation
  /// GEMMs do gain from two cores. Between 8 and 24 MFLOP (the MLPs' first layer at mini-batch
  /// 32, svhn-cnn's convolutions at mini-batch 1) two threads were as fast or faster in our
  /// runs, within this machine's ±20% drift; below that they lose.
  public static let parallelGEMMThreshold = 32_000_000

  private static let maximumThreads = Atomic<Int>(
    max(1, ProcessInfo.processInfo.activeProcessorCount))

  /// Sets OpenBLAS to `count` threads if it is not already there (a cheap global write).
  private static func use(threads count: Int) {
    if openblas_get_num_threads() != Int32(count) {
      openblas_set_num_threads(Int32(count))
    }
  }

  private static func useThreads(forOperations operations: Int) {
    use(threads: operations >= parallelGEMMThreshold ? maximumThreads.load(ordering: .relaxed) : 1)
  }

  /// A description of the BLAS build and the CPU kernel it picked, for reports.
  public static var configuration: String {
    let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
    let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    return "\(config) (core: \(core))"
  }

  /// C = alpha · op(A) · op(B) + beta · C, with op(A) of shape m×k and op(B) of shape k×n.
  ///
  /// - Complexity: 2·m·n·k floating-point operations.
  public static func gemm(
    _ transA: Transpose, _ transB: Transpose,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    let operations = 2 * m * n * k
    let threads = maximumThreads.load(ordering: .relaxed)
    if threads > 1, operations >= splitGEMMThreshold, operations < parallelGEMMThreshold {
      splitGEMM(
        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
        beta: beta, c: c, ldc: ldc, shares: threads)
      return
    }
    useThreads(forOperations: operations)
    cblas_sgemm(
      CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k), alpha,
      a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// GEMMs of at least this many operations and below ``parallelGEMMThreshold`` are split by
  /// colearn itself into one block of C per core, each computed by a single-threaded BLAS call
  /// on the ``WorkerPool``: OpenBLAS's own threading gains nothing on the flat products of the
  /// MLPs at mini-batch 32 (32×1024 by 1024×128, and the weight gradient 1024×32 by 32×128),
  /// whereas halving C does (docs/BLAS.md).
  public static let splitGEMMThreshold = 2_000_000

  /// C split into `shares` blocks of rows (when m ≥ n) or of columns, computed in parallel.
  private static func splitGEMM(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float,
    c: UnsafeMutablePointer<Float>, ldc: Int, shares: Int
  ) {
    use(threads: 1)
    let splitRows = m >= n
    let extent = splitRows ? m : n
    // Block boundaries on multiples of 16 (the kernels' register tile), so no share gets a
    // ragged edge it would not have had anyway.
    let shares = max(1, min(shares, extent / 16))
    WorkerPool.shared.run(width: shares) { share in
      let start = (extent * share / shares) & ~15
      let end = share == shares - 1 ? extent : (extent * (share + 1) / shares) & ~15
      guard start < end else { return }
      let count = Int32(end - start)
      if splitRows {
        let aBlock = transA == .none ? a + start * lda : a + start
        cblas_sgemm(
          CblasRowMajor, transA.cblas, transB.cblas, count, Int32(n), Int32(k), alpha,
          aBlock, Int32(lda), b, Int32(ldb), beta, c + start * ldc, Int32(ldc))
      } else {
        let bBlock = transB == .none ? b + start : b + start * ldb
        cblas_sgemm(
          CblasRowMajor, transA.cblas, transB.cblas, Int32(m), count, Int32(k), alpha,
          a, Int32(lda), bBlock, Int32(ldb), beta, c + start, Int32(ldc))
      }
    }
  }

  /// y = alpha · op(A) · x + beta · y, where A is stored m×n (row-major).
  public static func gemv(
    _ trans: Transpose, m: Int, n: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    x: UnsafePointer<Float>, incX: Int = 1,
    beta: Float = 0,
    y: UnsafeMutablePointer<Float>, incY: Int = 1
  ) {
    use(threads: 1)
    cblas_sgemv(
      CblasRowMajor, trans.cblas, Int32(m), Int32(n), alpha, a, Int32(lda), x, Int32(incX), beta,
      y, Int32(incY))
  }

  /// A += alpha · x · yᵀ, where A is m×n (row-major), x has m entries and y has n.
  public static func ger(
    m: Int, n: Int, alpha: Float,
    x: UnsafePointer<Float>, incX: Int = 1,
    y: UnsafePointer<Float>, incY: Int = 1,
    a: UnsafeMutablePointer<Float>, lda: Int
  ) {
    use(threads: 1)
    cblas_sger(
      CblasRowMajor, Int32(m), Int32(n), alpha, x, Int32(incX), y, Int32(incY), a, Int32(lda))
  }

  /// y += alpha · x over `count` entries.
  public static func axpy(
    count: Int, alpha: Float, x: UnsafePointer<Float>, incX: Int = 1,
    y: UnsafeMutablePointer<Float>, incY: Int = 1
  ) {
    use(threads: 1)
    cblas_saxpy(Int32(count), alpha, x, Int32(incX), y, Int32(incY))
  }

  /// x *= alpha over `count` entries.
  public static func scal(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>, incX: Int = 1) {
    use(threads: 1)
    cblas_sscal(Int32(count), alpha, x, Int32(incX))
  }

  /// The dot product xᵀy over `count` entries.
  public static func dot(
    count: Int, x: UnsafePointer<Float>, incX: Int = 1, y: UnsafePointer<Float>, incY: Int = 1
  ) -> Float {
    use(threads: 1)
    return cblas_sdot(Int32(count), x, Int32(incX), y, Int32(incY))
  }

  /// The Euclidean norm ‖x‖₂ over `count` entries.
  public static func nrm2(count: Int, x: UnsafePointer<Float>, incX: Int = 1) -> Float {
    use(threads: 1)
    return cblas_snrm2(Int32(count), x, Int32(incX))
  }
}

