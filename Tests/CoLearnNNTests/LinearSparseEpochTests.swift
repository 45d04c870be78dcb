import CoLearnNN
import CoLearnTestSupport
import CoLearnTensor
import Testing

/// The first layer's sparse path for an epoch of plain SGD (``Linear/beginSGDEpoch(parameters:rows:)``,
/// `SparseInputEpoch`): batches of mostly-background inputs give the dense layer's outputs and
/// SGD updates, step after step, and the flat vector holds the right weights when the epoch ends.
@Suite struct LinearSparseEpochTests {
  /// A [batch, inputs] batch of `background` with about `density` of each sample's inputs set to
  /// other values (the first input of the first sample stays background, as a padded image's
  /// corner does).
  static func sparseBatch(
    batch: Int, inputs: Int, background: Float, density: Double, seed: UInt64
  ) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    var x = [Float](repeating: background, count: batch * inputs)
    for index in 1..<x.count where Double.random(in: 0..<1, using: &generator) < density {
      x[index] = Float.random(in: -2...2, using: &generator)
    }
    return x
  }

  /// One SGD step from the definitions in Double: y = W·x + b, then W −= α·∂yᵀ·x, b −= α·Σ∂y.
  static func referenceStep(
    w: inout [Double], x: [Float], dy: [Float], batch: Int, inputs: Int, outputs: Int,
    rate: Double
  ) -> [Double] {
    var y = [Double](repeating: 0, count: batch * outputs)
    for b in 0..<batch {
      for o in 0..<outputs {
        var sum = w[outputs * inputs + o]
        for i in 0..<inputs { sum += w[o * inputs + i] * Double(x[b * inputs + i]) }
        y[b * outputs + o] = sum
      }
    }
    for b in 0..<batch {
      for o in 0..<outputs {
        let g = Double(dy[b * outputs + o])
        for i in 0..<inputs { w[o * inputs + i] -= rate * g * Double(x[b * inputs + i]) }
        w[outputs * inputs + o] -= rate * g
      }
    }
    return y
  }

  /// Several steps inside one epoch, with batches of different sizes (the last one smaller, as
  /// an epoch's last batch is) and outputs that exercise the 64-wide, 16-wide and scalar loops.
  @Test(
    arguments: [(128, Float(-0.4242)), (70, 0), (7, 1.5), (16, -0.4242)] as [(Int, Float)])
  func stepsMatchTheDefinition(outputs: Int, background: Float) {
    let inputs = 12 * 16 + 5  // a scalar tail after the 16-input blocks
    let batches = [32, 32, 9, 1]
    let layer = Linear(inputs: inputs, outputs: outputs)
    layer.reserve(batchSize: 32)
    var generator = SeededGenerator(seed: 11)
    var w = [Float](repeating: 0, count: layer.parameterCount)
    w.withUnsafeMutableBufferPointer { layer.initialize($0, using: &generator) }
    var reference = w.map(Double.init)
    let rate: Float = 0.05

    w.withUnsafeMutableBufferPointer { p in
      let parameters = p.baseAddress!
      layer.beginSGDEpoch(parameters: parameters, rows: nil)
      for (step, batch) in batches.enumerated() {
        let x = Self.sparseBatch(
          batch: batch, inputs: inputs, background: background, density: 0.15,
          seed: 20 + UInt64(step))
        let dy = (0..<batch * outputs).map { _ in Float.random(in: -1...1, using: &generator) }
        let expected = Self.referenceStep(
          w: &reference, x: x, dy: dy, batch: batch, inputs: inputs, outputs: outputs,
          rate: Double(rate))
        var y = [Float](repeating: .nan, count: batch * outputs)
        y.withUnsafeMutableBufferPointer { out in
          layer.forward(x, into: out.baseAddress!, batchSize: batch, parameters: parameters)
        }
        let entries = x.filter { $0.bitPattern != background.bitPattern }.count
        #expect(layer.lastSparseEntries == entries, "step \(step) took the sparse path")
        for i in y.indices {
          #expect(
            abs(Double(y[i]) - expected[i]) < 1e-5 * max(10, abs(expected[i])),
            "step \(step): y[\(i)] = \(y[i]), expected \(expected[i])")
        }
        layer.backwardApplyingSGD(
          input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: batch,
          parameters: parameters, rate: rate)
      }
      layer.endSGDEpoch(changes: nil)
    }
    for i in w.indices {
      #expect(
        abs(Double(w[i]) - reference[i]) < 1e-5 * max(10, abs(reference[i])),
        "w[\(i)] = \(w[i]) after the epoch, expected \(reference[i])")
    }
  }

  /// After an epoch the layer is back to the dense paths, and a second epoch on another model
  /// (another parameter vector) starts from that model's weights.
  @Test func epochsOnSeveralModelsStayApart() {
    let inputs = 64
    let outputs = 16
    let layer = Linear(inputs: inputs, outputs: outputs)
    layer.reserve(batchSize: 4)
    let x = Self.sparseBatch(batch: 4, inputs: inputs, background: 0, density: 0.2, seed: 5)
    let dy = [Float](repeating: 0.5, count: 4 * outputs)
    let count = layer.parameterCount
    var models: [[Float]] = (0..<2).map { (m: Int) -> [Float] in
      (0..<count).map { (j: Int) -> Float in Float((j * 7 + m * 3) % 11) / 11 - 0.5 }
    }
    var expected = models.map { $0.map(Double.init) }
    for m in 0..<2 {
      _ = Self.referenceStep(
        w: &expected[m], x: x, dy: dy, batch: 4, inputs: inputs, outputs: outputs, rate: 0.1)
      models[m].withUnsafeMutableBufferPointer { p in
        var y = [Float](repeating: 0, count: 4 * outputs)
        layer.beginSGDEpoch(parameters: p.baseAddress!, rows: nil)
        y.withUnsafeMutableBufferPointer { out in
          layer.forward(x, into: out.baseAddress!, batchSize: 4, parameters: p.baseAddress!)
        }
        #expect(layer.lastSparseEntries != nil)
        layer.backwardApplyingSGD(
          input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: 4,
          parameters: p.baseAddress!, rate: 0.1)
        layer.endSGDEpoch(changes: nil)
      }
      #expect(maximumAbsoluteDifference(models[m], expected[m].map(Float.init)) < 1e-5)
    }
    // Outside an epoch the same batch runs dense.
    var y = [Float](repeating: 0, count: 4 * outputs)
    y.withUnsafeMutableBufferPointer { out in
      layer.forward(x, into: out.baseAddress!, batchSize: 4, parameters: models[0])
    }
    #expect(layer.lastSparseEntries == nil)
  }

  /// Dense inputs (random values everywhere) are declined on the first batch: the dense path
  /// runs and the flat vector stays current throughout.
  @Test func denseBatchesDecline() {
    let inputs = 48
    let outputs = 8
    let layer = Linear(inputs: inputs, outputs: outputs)
    layer.reserve(batchSize: 4)
    let x = Self.sparseBatch(batch: 4, inputs: inputs, background: 0, density: 0.9, seed: 6)
    let dy = [Float](repeating: -0.25, count: 4 * outputs)
    var w = (0..<layer.parameterCount).map { Float($0 % 5) / 5 }
    var expected = w.map(Double.init)
    _ = Self.referenceStep(
      w: &expected, x: x, dy: dy, batch: 4, inputs: inputs, outputs: outputs, rate: 0.2)
    w.withUnsafeMutableBufferPointer { p in
      layer.beginSGDEpoch(parameters: p.baseAddress!, rows: nil)
      var y = [Float](repeating: 0, count: 4 * outputs)
      y.withUnsafeMutableBufferPointer { out in
        layer.forward(x, into: out.baseAddress!, batchSize: 4, parameters: p.baseAddress!)
      }
      #expect(layer.lastSparseEntries == nil)
      layer.backwardApplyingSGD(
        input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: 4,
        parameters: p.baseAddress!, rate: 0.2)
      // Current before the epoch ends: the dense update went straight into the vector.
      #expect(abs(Double(p[3]) - expected[3]) < 1e-5)
      layer.endSGDEpoch(changes: nil)
    }
    #expect(maximumAbsoluteDifference(w, expected.map(Float.init)) < 1e-5)
  }

  /// NaN and ±∞ entries stay in the outputs of their own sample only (an ∞ may come out as NaN:
  /// the regrouped sums can meet ∞ − ∞ where the dense sum does not), and a non-finite first
  /// input does not become the background.
  @Test func nonFiniteEntriesStayVisible() {
    let inputs = 40
    let layer = Linear(inputs: inputs, outputs: 4)
    layer.reserve(batchSize: 3)
    var x = [Float](repeating: 0, count: 3 * inputs)
    x[0] = .infinity  // sample 0: +∞ in the first input (not taken as the background)
    x[inputs + 7] = .nan  // sample 1
    x[2 * inputs + 39] = 2  // sample 2: finite
    var w = [Float](repeating: 0.25, count: layer.parameterCount)
    var y = [Float](repeating: 0, count: 12)
    w.withUnsafeMutableBufferPointer { p in
      layer.beginSGDEpoch(parameters: p.baseAddress!, rows: nil)
      y.withUnsafeMutableBufferPointer { out in
        layer.forward(x, into: out.baseAddress!, batchSize: 3, parameters: p.baseAddress!)
      }
      layer.endSGDEpoch(changes: nil)
    }
    #expect(layer.lastSparseEntries == 3)
    #expect(y[0..<4].allSatisfy { !$0.isFinite })
    #expect(y[4..<8].allSatisfy { $0.isNaN })
    #expect(y[8..<12].allSatisfy { $0 == 0.25 + 0.5 })
  }
}
