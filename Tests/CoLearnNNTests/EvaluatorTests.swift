import CoLearnNN
import CoLearnTestSupport
import CoLearnTensor
import Testing

/// ``Evaluator``: evaluation on every core, and a first dense layer that multiplies only the
/// listed entries of sparse samples (issue 24: evaluation ran behind PyTorch, and `simulate`
/// spent most of its wall time evaluating).
@Suite(.serialized) struct EvaluatorTests {
  /// A network Linear(inputs→outputs) → ReLU → Linear(outputs→5) → LogSoftmax.
  static func mlp(inputs: Int, outputs: Int) -> Network {
    Network(layers: [
      Linear(inputs: inputs, outputs: outputs), ReLU(input: TensorShape(outputs)),
      Linear(inputs: outputs, outputs: 5), LogSoftmax(input: TensorShape(5)),
    ])
  }

  /// `count` samples of `inputs` values, mostly `background`, with labels in 0..<5.
  static func sparseSamples(count: Int, inputs: Int, background: Float, seed: UInt64)
    -> LabeledSamples
  {
    let features = LinearSparseEpochTests.sparseBatch(
      batch: count, inputs: inputs, background: background, density: 0.15, seed: seed)
    var generator = SeededGenerator(seed: seed ^ 0xF00D)
    let labels = (0..<count).map { _ in Int32(generator.next() % 5) }
    return LabeledSamples(features: features, labels: labels, sampleSize: inputs)
  }

  static func parameters(of network: Network, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    return parameters
  }

  /// Runs `body` with BLAS (and so the evaluator) on `threads` threads.
  static func on<T>(threads: Int, _ body: () -> T) -> T {
    let saved = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(saved) }
    return body()
  }

  /// The listed path (the samples' entries off the background, sorted chunk by chunk) gives the
  /// dense network's outputs to rounding, for output widths that exercise its 64-wide, 16-wide
  /// and scalar loops and batches that end mid-chunk (150 = 64 + 64 + 22, and a remainder).
  @Test(arguments: [(128, Float(-0.4242)), (70, 0), (7, 1.5)] as [(Int, Float)])
  func listedOutputsMatchTheDenseNetwork(outputs: Int, background: Float) {
    let inputs = 12 * 16 + 5
    let network = Self.mlp(inputs: inputs, outputs: outputs)
    let parameters = Self.parameters(of: network, seed: 3)
    let samples = Self.sparseSamples(count: 340, inputs: inputs, background: background, seed: 5)
    let evaluator = Evaluator { Self.mlp(inputs: inputs, outputs: outputs) }
    let listed = evaluator.prepared(samples)
    #expect(listed.sparseRows != nil, "15% dense samples are listed")
    let fast = Self.on(threads: 2) {
      evaluator.outputs(parameters: parameters, on: listed, batchSize: 150)
    }
    network.reserve(batchSize: samples.count)
    let dense = parameters.withUnsafeBufferPointer { w in
      samples.features.withUnsafeBufferPointer { x in
        Array(
          UnsafeBufferPointer(
            start: network.forward(x.baseAddress!, batchSize: samples.count, parameters: w.baseAddress!),
            count: samples.count * 5))
      }
    }
    #expect(fast.count == dense.count)
    var worst: Float = 0
    for (a, b) in zip(fast, dense) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
    #expect(worst < 1e-4, "largest relative difference \(worst)")
  }

  /// Evaluation gives the same bits on one core and on two, on the listed path, the dense path
  /// and a convolutional network, and the listed test set's sort is reused from model to model.
  @Test func resultsDoNotDependOnTheThreadCount() {
    let inputs = 12 * 16 + 5
    let samples = Self.sparseSamples(count: 1_234, inputs: inputs, background: -0.42, seed: 9)
    let evaluator = Evaluator { Self.mlp(inputs: inputs, outputs: 128) }
    let listed = evaluator.prepared(samples)
    let models = (0..<3).map { Self.parameters(of: Self.mlp(inputs: inputs, outputs: 128), seed: UInt64($0)) }
    for data in [listed, samples] {
      let one = Self.on(threads: 1) {
        models.map { evaluator.evaluate(parameters: $0, on: data, batchSize: 500) }
      }
      let two = Self.on(threads: 2) {
        models.map { evaluator.evaluate(parameters: $0, on: data, batchSize: 500) }
      }
      #expect(one == two)
      #expect(one.allSatisfy { $0.samples == samples.count && $0.meanLoss.isFinite })
    }
    let spec = ModelSpec.mnistCNN
    let cnn = Evaluator(spec)
    var generator = SeededGenerator(seed: 4)
    let images = LabeledSamples(
      features: (0..<(45 * 1024)).map { _ in Float.random(in: -1...1, using: &generator) },
      labels: (0..<45).map { Int32($0 % 10) }, sampleSize: 1024)
    let weights = Self.parameters(of: spec.makeNetwork(), seed: 6)
    let cnnOne = Self.on(threads: 1) { cnn.evaluate(parameters: weights, on: images, batchSize: 20) }
    let cnnTwo = Self.on(threads: 2) { cnn.evaluate(parameters: weights, on: images, batchSize: 20) }
    #expect(cnnOne == cnnTwo)
  }

  /// On samples that are not listed, the evaluator's result is the bits of ``evaluate(_:parameters:on:batchSize:)``,
  /// which runs the same batches on one network.
  @Test func denseResultsAreTheSequentialOnes() {
    let inputs = 12 * 16 + 5
    let samples = Self.sparseSamples(count: 777, inputs: inputs, background: 0, seed: 12)
    let network = Self.mlp(inputs: inputs, outputs: 70)
    let parameters = Self.parameters(of: network, seed: 13)
    let sequential = evaluate(network, parameters: parameters, on: samples, batchSize: 100)
    let parallel = Self.on(threads: 2) {
      Evaluator { Self.mlp(inputs: inputs, outputs: 70) }
        .evaluate(parameters: parameters, on: samples, batchSize: 100)
    }
    #expect(parallel == sequential)
  }

  /// One pass (`onePass`, the path of `colearn predict` and `evaluate`): samples that are not
  /// listed give the listed path's outputs bit for bit — the entries are found as each batch is
  /// read, in the listing's order — on one core and on two, for output widths that exercise
  /// the product's 64-wide, 16-wide and scalar loops, inputs that end in a partial block of 16,
  /// batches that end mid-chunk, a sample whose entries fill a whole group of 64 inputs (all 64
  /// bits of a group's mask), and a NaN entry, which does not reach the other samples.
  @Test(arguments: [(128, Float(-0.4242)), (70, 0), (7, 1.5)] as [(Int, Float)])
  func onePassOutputsAreTheListedOnes(outputs: Int, background: Float) {
    let inputs = 12 * 16 + 5
    let base = Self.sparseSamples(count: 340, inputs: inputs, background: background, seed: 21)
    var features = base.features
    features[7 * inputs + inputs - 2] = .nan
    for i in 64..<128 { features[3 * inputs + i] = Float(i % 7) * 0.25 - 0.8 }
    let samples = LabeledSamples(features: features, labels: base.labels, sampleSize: inputs)
    let parameters = Self.parameters(of: Self.mlp(inputs: inputs, outputs: outputs), seed: 22)
    let evaluator = Evaluator { Self.mlp(inputs: inputs, outputs: outputs) }
    let listed = evaluator.prepared(samples)
    #expect(listed.sparseRows != nil)
    let expected = Self.on(threads: 2) {
      evaluator.outputs(parameters: parameters, on: listed, batchSize: 150)
    }
    for threads in [1, 2] {
      let onePass = Self.on(threads: threads) {
        Evaluator { Self.mlp(inputs: inputs, outputs: outputs) }
          .outputs(parameters: parameters, on: samples, batchSize: 150, onePass: true)
      }
      #expect(onePass.map(\.bitPattern) == expected.map(\.bitPattern), "\(threads) threads")
      #expect(onePass[..<(7 * 5)].allSatisfy(\.isFinite) && onePass[(8 * 5)...].allSatisfy(\.isFinite))
    }
    // Without `onePass`, samples that are not listed take the dense products (other bits).
    let dense = Self.on(threads: 2) {
      evaluator.outputs(parameters: parameters, on: samples, batchSize: 150)
    }
    #expect(dense.map(\.bitPattern) != expected.map(\.bitPattern))
  }

  /// One pass on dense samples (more than ``SparseRows/maximumDensity`` of their values off the
  /// background) runs the dense products: the bits of the evaluator without `onePass`.
  @Test func onePassRunsDenseBatchesDense() {
    let inputs = 12 * 16 + 5
    let samples = Self.sparseSamples(count: 300, inputs: inputs, background: 0.25, seed: 23)
    var features = samples.features
    // The first 64-sample chunk of the second batch is half entries.
    for index in (100 * inputs)..<(164 * inputs) where index % 2 == 0 { features[index] = 3 }
    let mixed = LabeledSamples(features: features, labels: samples.labels, sampleSize: inputs)
    let parameters = Self.parameters(of: Self.mlp(inputs: inputs, outputs: 70), seed: 24)
    let evaluator = Evaluator { Self.mlp(inputs: inputs, outputs: 70) }
    let onePass = Self.on(threads: 2) {
      evaluator.outputs(parameters: parameters, on: mixed, batchSize: 100, onePass: true)
    }
    let dense = Self.on(threads: 2) {
      evaluator.outputs(parameters: parameters, on: mixed, batchSize: 100)
    }
    let batch = 100 * 5
    // The dense batch has the dense bits; the sparse ones agree with them to rounding only.
    #expect(onePass[batch..<(2 * batch)].map(\.bitPattern) == dense[batch..<(2 * batch)].map(\.bitPattern))
    #expect(onePass[..<batch].map(\.bitPattern) != dense[..<batch].map(\.bitPattern))
    var worst: Float = 0
    for (a, b) in zip(onePass, dense) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
    #expect(worst < 1e-4, "largest relative difference \(worst)")
  }

  /// With `mergeSingletonRemainder` the batches are those of ``evaluateBatches(of:batchSize:classes:mergeSingletonRemainder:forward:)``:
  /// 10 samples in batches of 3 are 3, 3 and 4.
  @Test func batchesMergeALoneLastSample() {
    let merged = Evaluator.batches(count: 10, batchSize: 3, mergeSingletonRemainder: true)
    #expect(merged.map(\.size) == [3, 3, 4])
    #expect(merged.map(\.start) == [0, 3, 6])
    let plain = Evaluator.batches(count: 10, batchSize: 3, mergeSingletonRemainder: false)
    #expect(plain.map(\.size) == [3, 3, 3, 1])
  }
}
