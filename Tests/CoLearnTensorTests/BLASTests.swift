import CoLearnTensor
import Foundation
import Testing

@Suite(.serialized) struct BLASTests {
  /// C = alpha·op(A)·op(B) + beta·C by the definition, in Double.
  func reference(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, alpha: Float,
    a: [Float], b: [Float], beta: Float, c: [Float]
  ) -> [Float] {
    var out = c
    for i in 0..<m {
      for j in 0..<n {
        var sum = 0.0
        for p in 0..<k {
          let x = transA == .none ? a[i * k + p] : a[p * m + i]
          let y = transB == .none ? b[p * n + j] : b[j * k + p]
          sum += Double(x) * Double(y)
        }
        out[i * n + j] = Float(Double(alpha) * sum + Double(beta) * Double(c[i * n + j]))
      }
    }
    return out
  }

  /// op(A)·op(B)·alpha + beta·C through ``BLAS/gemm(_:_:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``.
  func product(
    _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, a: [Float], b: [Float],
    c c0: [Float]
  ) -> [Float] {
    var c = c0
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { c in
          BLAS.gemm(
            transA, transB, m: m, n: n, k: k, alpha: -0.5, a: a.baseAddress!,
            lda: transA == .none ? k : m, b: b.baseAddress!, ldb: transB == .none ? n : k,
            beta: 1, c: c.baseAddress!, ldc: n)
        }
      }
    }
    return c
  }

  /// A, B and C of a product's shape, uniform in [-1, 1].
  func operands(m: Int, n: Int, k: Int, seed: UInt64) -> (a: [Float], b: [Float], c: [Float]) {
    var generator = SeededGenerator(seed: seed)
    let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &generator) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &generator) }
    let c = (0..<(m * n)).map { _ in Float.random(in: -1...1, using: &generator) }
    return (a, b, c)
  }

  /// The shapes colearn's layers run, from a batch-1 row to a convolution's im2col products,
  /// below and above the split threshold — with sizes that are not multiples of the 16-wide
  /// blocks — with every transposition, on 1 and 2 threads, on whichever library
  /// ``BLAS/gemmLibrary`` chose.
  @Test(arguments: [
    (1, 128, 1024), (3, 64, 128), (7, 5, 3), (36, 64, 800), (100, 64, 1600), (1600, 64, 100),
    (100, 1600, 64), (784, 32, 25), (32, 128, 1024), (1000, 130, 32), (37, 300, 200),
    (24, 1024, 100),
  ])
  func productsEqualTheDefinition(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    let saved = BLAS.threadCount
    defer { BLAS.setThreadCount(saved) }
    let (a, b, c0) = operands(m: m, n: n, k: k, seed: 3)
    for threads in [1, 2] {
      BLAS.setThreadCount(threads)
      for transA in [Transpose.none, .transposed] {
        for transB in [Transpose.none, .transposed] {
          let c = product(transA, transB, m: m, n: n, k: k, a: a, b: b, c: c0)
          let expected = reference(
            transA, transB, m: m, n: n, k: k, alpha: -0.5, a: a, b: b, beta: 1, c: c0)
          let error = zip(c, expected).map { abs($0 - $1) }.max() ?? 0
          #expect(error < 1e-3, "\(shape) \(transA) \(transB) threads \(threads): \(error)")
        }
      }
    }
  }

  /// The same bits on one thread and on two, for products colearn splits: (32, 128, 1024) with B
  /// transposed is a shape whose entries oneDNN sums differently when C is split by columns.
  @Test(arguments: [(32, 128, 1024), (1000, 130, 32), (100, 64, 1600), (200, 800, 64)])
  func productsDoNotDependOnTheThreadCount(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    #expect(2 * m * n * k >= BLAS.splitGEMMThreshold)
    let saved = BLAS.threadCount
    defer { BLAS.setThreadCount(saved) }
    let (a, b, c0) = operands(m: m, n: n, k: k, seed: 6)
    for transA in [Transpose.none, .transposed] {
      for transB in [Transpose.none, .transposed] {
        BLAS.setThreadCount(1)
        let one = product(transA, transB, m: m, n: n, k: k, a: a, b: b, c: c0)
        BLAS.setThreadCount(2)
        let two = product(transA, transB, m: m, n: n, k: k, a: a, b: b, c: c0)
        let differing = zip(one, two).filter { $0.bitPattern != $1.bitPattern }.count
        #expect(differing == 0, "\(shape) \(transA) \(transB): \(differing) entries differ")
      }
    }
  }

  /// Where oneDNN is linked (Linux), it runs the products unless `COLEARN_GEMM=openblas`.
  @Test func oneDNNRunsTheProductsWhereItIsLinked() {
    #if os(Linux)
      guard ProcessInfo.processInfo.environment["COLEARN_GEMM"]?.lowercased() != "openblas" else {
        #expect(BLAS.gemmLibrary == .openBLAS)
        return
      }
      #expect(BLAS.gemmLibrary == .oneDNN, "\(BLAS.gemmDescription)")
      #expect(BLAS.gemmDescription.hasPrefix("GEMM: oneDNN 2."), "\(BLAS.gemmDescription)")
    #endif
  }
}
