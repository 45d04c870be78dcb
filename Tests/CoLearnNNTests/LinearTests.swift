import CoLearnNN
import CoLearnTestSupport
import CoLearnTensor
import Testing

@Suite struct LinearTests {
  @Test(arguments: [1, 3])
  func gradientsMatchFiniteDifferences(batchSize: Int) {
    let report = checkGradients(of: Linear(inputs: 7, outputs: 5), batchSize: batchSize)
    #expect(report.passed, "\(report)")
  }

  @Test func forwardComputesAffineMap() {
    let layer = Linear(inputs: 2, outputs: 2)
    layer.reserve(batchSize: 1)
    // weight [[1, 2], [3, 4]], bias [10, 20]
    let parameters: [Float] = [1, 2, 3, 4, 10, 20]
    let input: [Float] = [1, -1]
    var output = [Float](repeating: 0, count: 2)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(input, into: out.baseAddress!, batchSize: 1, parameters: parameters)
    }
    #expect(output == [9, 19])
  }
}

/// The varying-columns path (``VaryingInputColumns``): batches whose columns are mostly constant
/// across the samples give the dense products' results.
@Suite struct LinearVaryingColumnsTests {
  /// A [batch, inputs] batch that holds `background` everywhere except in the `varying` columns
  /// (which also hold it in about 30% of the samples, as pixels of a digit do).
  static func backgroundBatch(
    batch: Int, inputs: Int, varying: [Int], background: Float, seed: UInt64
  ) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    var x = [Float](repeating: background, count: batch * inputs)
    for b in 0..<batch {
      for i in varying where Float.random(in: 0..<1, using: &generator) < 0.7 {
        x[b * inputs + i] = Float.random(in: -2...2, using: &generator)
      }
    }
    for i in varying { x[i] = background + 1 }  // every varying column really varies
    return x
  }

  /// y and ∂L/∂(W, b) from the definitions, in Double.
  static func reference(
    x: [Float], w: [Float], dy: [Float], batch: Int, inputs: Int, outputs: Int
  ) -> (y: [Double], gradient: [Double]) {
    var y = [Double](repeating: 0, count: batch * outputs)
    var gradient = [Double](repeating: 0, count: outputs * inputs + outputs)
    for b in 0..<batch {
      for o in 0..<outputs {
        var sum = Double(w[outputs * inputs + o])
        for i in 0..<inputs { sum += Double(w[o * inputs + i]) * Double(x[b * inputs + i]) }
        y[b * outputs + o] = sum
        for i in 0..<inputs {
          gradient[o * inputs + i] += Double(dy[b * outputs + o]) * Double(x[b * inputs + i])
        }
        gradient[outputs * inputs + o] += Double(dy[b * outputs + o])
      }
    }
    return (y, gradient)
  }

  /// Image-like varying columns of a `rows × 16` input: a 6-wide block in the middle rows, plus
  /// the first two and the last column (so that runs and gaps touch both ends).
  static func imageLikeColumns(rows: Int) -> [Int] {
    [0, 1] + (2..<(rows - 2)).flatMap { r in (4..<10).map { r * 16 + $0 } } + [rows * 16 - 1]
  }

  @Test(
    arguments: [(2, 5, 0), (32, 10, 0), (32, 10, -0.4242), (100, 10, 1.5), (8, 10, .infinity)]
      as [(Int, Int, Float)])
  func backgroundBatchesMatchTheDefinition(batch: Int, imageRows: Int, background: Float) {
    let outputs = 40
    let inputs = imageRows * 16
    let varying = Self.imageLikeColumns(rows: imageRows)
    let x = Self.backgroundBatch(
      batch: batch, inputs: inputs, varying: varying, background: background, seed: 3)
    let layer = Linear(inputs: inputs, outputs: outputs)
    layer.reserve(batchSize: batch)
    var generator = SeededGenerator(seed: 4)
    var w = [Float](repeating: 0, count: layer.parameterCount)
    w.withUnsafeMutableBufferPointer { layer.initialize($0, using: &generator) }
    let dy = (0..<batch * outputs).map { _ in Float.random(in: -1...1, using: &generator) }
    let expected = Self.reference(
      x: x, w: w, dy: dy, batch: batch, inputs: inputs, outputs: outputs)

    var y = [Float](repeating: .nan, count: batch * outputs)
    var gradient = [Float](repeating: .nan, count: layer.parameterCount)
    var dx = [Float](repeating: .nan, count: batch * inputs)
    y.withUnsafeMutableBufferPointer { out in
      layer.forward(x, into: out.baseAddress!, batchSize: batch, parameters: w)
    }
    // Only the varying columns went through the GEMM.
    #expect(layer.lastMultipliedColumns == varying.count)
    if !background.isFinite {
      // An infinite background makes every output infinite or NaN, as the dense sum would.
      #expect(y.allSatisfy { !$0.isFinite })
      return
    }
    gradient.withUnsafeMutableBufferPointer { g in
      dx.withUnsafeMutableBufferPointer { dxBuffer in
        layer.backward(
          input: x, output: y, outputGradient: dy, inputGradient: dxBuffer.baseAddress!,
          batchSize: batch, parameters: w, parameterGradients: g.baseAddress!)
      }
    }
    for i in y.indices { #expect(abs(Double(y[i]) - expected.y[i]) < 1e-4, "y[\(i)]") }
    for i in gradient.indices {
      #expect(abs(Double(gradient[i]) - expected.gradient[i]) < 1e-4, "∂w[\(i)]")
    }
    if background == 0 {
      // Constant-zero columns get exactly zero gradient (not the NaN of the initial fill).
      #expect(gradient[2] == 0 && gradient[inputs + 3] == 0)
    }
    // ∂x = ∂y·W over every column, constant ones included.
    for b in [0, batch - 1] {
      for i in [1, inputs - 2] {
        var sum = 0.0
        for o in 0..<outputs { sum += Double(dy[b * outputs + o]) * Double(w[o * inputs + i]) }
        #expect(abs(Double(dx[b * inputs + i]) - sum) < 1e-4)
      }
    }

    let rate: Float = 0.5
    var updated = w
    updated.withUnsafeMutableBufferPointer { p in
      layer.backwardApplyingSGD(
        input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: batch,
        parameters: p.baseAddress!, rate: rate)
    }
    for i in updated.indices {
      let want = Double(w[i]) - Double(rate) * expected.gradient[i]
      #expect(abs(Double(updated[i]) - want) < 1e-4, "w[\(i)]")
    }
    if background == 0 {
      // Weights of constant-zero columns are untouched, bit for bit.
      #expect(updated[2] == w[2] && updated[2 * inputs + 3] == w[2 * inputs + 3])
    }
  }

  @Test func backgroundGradientsMatchFiniteDifferences() {
    let inputs = 6 * 16
    let varying = Self.imageLikeColumns(rows: 6)
    let x = Self.backgroundBatch(
      batch: 4, inputs: inputs, varying: varying, background: -0.5, seed: 9)
    let report = checkGradients(of: Linear(inputs: inputs, outputs: 5), batchSize: 4, input: x)
    #expect(report.passed, "\(report)")
  }

  /// NaN and ∞ stay in the sums, whether their column varies or is constant.
  @Test func nonFiniteInputsStayVisible() {
    let inputs = 32
    var x = [Float](repeating: 0, count: 3 * inputs)
    x[3] = .nan  // varies (NaN, 0, 0)
    for b in 0..<3 { x[b * inputs + 9] = .infinity }  // a constant +∞ column
    x[inputs + 8] = -0.0
    let layer = Linear(inputs: inputs, outputs: 3)
    layer.reserve(batchSize: 3)
    let w = [Float](repeating: 0.25, count: layer.parameterCount)
    var y = [Float](repeating: 0, count: 9)
    y.withUnsafeMutableBufferPointer { out in
      layer.forward(x, into: out.baseAddress!, batchSize: 3, parameters: w)
    }
    #expect(y[0..<3].allSatisfy { $0.isNaN })
    #expect(y[3..<9].allSatisfy { $0 == .infinity })
  }
}

extension LinearTests {
  /// At batch 1 a layer of at least `Linear.rowSplitWeights` weights runs as two halves of its
  /// rows (svhn-cnn's Linear(1600→128)): y, ∂W, ∂x and the update agree with plain sums in
  /// Double to rounding, `backward` and `backwardApplyingSGD` give the same ∂x, and one core,
  /// two cores and the shares on the caller give the same bits.
  @Test func oneSampleSplitsTheRows() {
    let (inputs, outputs) = (1600, 128)
    let layer = Linear(inputs: inputs, outputs: outputs)
    #expect(layer.splitsRows && !Linear(inputs: 1000, outputs: 128).splitsRows)
    var generator = SeededGenerator(seed: 5)
    let x = (0..<inputs).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<outputs).map { _ in Float.random(in: -1...1, using: &generator) }
    let w = (0..<layer.parameterCount).map { _ in Float.random(in: -0.05...0.05, using: &generator) }
    struct Result: Equatable { var y, dw, dx, updated, updateDx: [Float] }
    func run(threads: Int, onCaller: Bool = false) -> Result {
      let saved = BLAS.threadCount
      BLAS.setThreadCount(threads)
      defer { BLAS.setThreadCount(saved) }
      func body() -> Result {
        layer.reserve(batchSize: 1)
        var r = Result(
          y: [Float](repeating: .nan, count: outputs), dw: [Float](repeating: .nan, count: w.count),
          dx: [Float](repeating: .nan, count: inputs), updated: w,
          updateDx: [Float](repeating: .nan, count: inputs))
        r.y.withUnsafeMutableBufferPointer {
          layer.forward(x, into: $0.baseAddress!, batchSize: 1, parameters: w)
        }
        let y = r.y
        r.dw.withUnsafeMutableBufferPointer { g in
          r.dx.withUnsafeMutableBufferPointer { d in
            layer.backward(
              input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
              batchSize: 1, parameters: w, parameterGradients: g.baseAddress!)
          }
        }
        r.updated.withUnsafeMutableBufferPointer { p in
          r.updateDx.withUnsafeMutableBufferPointer { d in
            layer.backwardApplyingSGD(
              input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
              batchSize: 1, parameters: p.baseAddress!, rate: 0.5)
          }
        }
        return r
      }
      return onCaller ? WorkerPool.shared.withSharesOnCaller(body) : body()
    }
    let one = run(threads: 1)
    let bias = inputs * outputs
    var (y, dx) = ([Double](repeating: 0, count: outputs), [Double](repeating: 0, count: inputs))
    for o in 0..<outputs {
      y[o] = Double(w[bias + o])
      for j in 0..<inputs {
        y[o] += Double(w[o * inputs + j]) * Double(x[j])
        dx[j] += Double(w[o * inputs + j]) * Double(dy[o])
      }
    }
    #expect(maximumAbsoluteDifference(one.y, y.map(Float.init)) < 1e-5)
    #expect(maximumAbsoluteDifference(one.dx, dx.map(Float.init)) < 1e-5)
    #expect(one.dw[5 * inputs + 7] == dy[5] * x[7] && one.dw[bias + 100] == dy[100])
    #expect(abs(one.updated[100 * inputs + 3] - (w[100 * inputs + 3] - 0.5 * dy[100] * x[3])) < 1e-6)
    #expect(one.updateDx == one.dx)
    #expect(run(threads: 2) == one)
    #expect(run(threads: 2, onCaller: true) == one)
  }
}
