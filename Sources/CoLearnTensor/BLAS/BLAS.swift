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
  /// Runs on ``gemmLibrary``: oneDNN's sgemm where it is linked, else OpenBLAS's. With oneDNN a
  /// product of at least ``splitGEMMThreshold`` operations is always computed as the same two
  /// blocks of C, on two cores or one after the other on one, because oneDNN's sums for an entry
  /// can depend on the shape of the call (a block of C split off by columns or a 1-row block
  /// differs in its last bits from the whole); so the result does not depend on the thread
  /// count. OpenBLAS's do not, and it keeps its own threads for products of at least
  /// ``parallelGEMMThreshold`` operations and colearn's split (one block per core) between.
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
    let product = Product(
      transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b,
      ldb: ldb, beta: beta, c: c, ldc: ldc)
    if gemmLibrary == .oneDNN {
      if operations >= splitGEMMThreshold {
        product.split(blocks: 2, threads: threads)
      } else {
        product.compute()
      }
      return
    }
    if threads > 1, operations >= splitGEMMThreshold, operations < parallelGEMMThreshold {
      use(threads: 1)
      product.split(blocks: threads, threads: threads)
      return
    }
    useThreads(forOperations: operations)
    product.computeWithOpenBLAS()
  }

  /// Products of at least this many operations are computed as blocks of C on colearn's
  /// ``WorkerPool``, each a single-threaded library call: always two with oneDNN (see
  /// ``gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``), with OpenBLAS one per core below
  /// ``parallelGEMMThreshold``, where OpenBLAS's own threading gains nothing on the flat products
  /// of the MLPs at mini-batch 32 (32×1024 by 1024×128, and the weight gradient 1024×32 by
  /// 32×128), whereas halving C does (docs/BLAS.md).
  public static let splitGEMMThreshold = 2_000_000

  /// One call's operands.
  private struct Product {
    let transA: Transpose, transB: Transpose
    let m: Int, n: Int, k: Int
    let alpha: Float
    let a: UnsafePointer<Float>, lda: Int
    let b: UnsafePointer<Float>, ldb: Int
    let beta: Float
    let c: UnsafeMutablePointer<Float>, ldc: Int

    /// The whole product in one single-threaded call of ``gemmLibrary``.
    func compute() {
      if gemmLibrary == .oneDNN, oneDNNGEMM(
        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
        beta: beta, c: c, ldc: ldc)
      {
        return
      }
      use(threads: 1)
      computeWithOpenBLAS()
    }

    /// The whole product in one OpenBLAS call, on the threads OpenBLAS is set to.
    func computeWithOpenBLAS() {
      cblas_sgemm(
        CblasRowMajor, transA.cblas, transB.cblas, Int32(m), Int32(n), Int32(k), alpha,
        a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Rows `start..<end` of C (of op(A)).
    func rows(_ start: Int, _ end: Int) -> Product {
      Product(
        transA: transA, transB: transB, m: end - start, n: n, k: k, alpha: alpha,
        a: transA == .none ? a + start * lda : a + start, lda: lda, b: b, ldb: ldb, beta: beta,
        c: c + start * ldc, ldc: ldc)
    }

    /// Columns `start..<end` of C (of op(B)).
    func columns(_ start: Int, _ end: Int) -> Product {
      Product(
        transA: transA, transB: transB, m: m, n: end - start, k: k, alpha: alpha, a: a, lda: lda,
        b: transB == .none ? b + start : b + start * ldb, ldb: ldb, beta: beta, c: c + start,
        ldc: ldc)
    }

    /// C as `blocks` blocks of rows (when m ≥ n) or of columns, each one single-threaded call,
    /// on up to `threads` cores. Block boundaries fall on multiples of 16 (the kernels' register
    /// tile), so no block gets a ragged edge it would not have had anyway; the blocks depend only
    /// on the shape and `blocks`.
    func split(blocks requested: Int, threads: Int) {
      let splitRows = m >= n
      let extent = splitRows ? m : n
      let blocks = max(1, min(requested, extent / 16))
      let width = min(blocks, threads, WorkerPool.shared.maximumWidth)
      func block(_ index: Int) {
        let start = (extent * index / blocks) & ~15
        let end = index == blocks - 1 ? extent : (extent * (index + 1) / blocks) & ~15
        guard start < end else { return }
        (splitRows ? rows(start, end) : columns(start, end)).compute()
      }
      WorkerPool.shared.run(width: width) { share in
        for index in stride(from: share, to: blocks, by: width) { block(index) }
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

