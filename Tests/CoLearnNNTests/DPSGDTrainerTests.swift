import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

/// DP-SGD (issue 21): per-example gradient norms against a per-sample backward pass for every
/// layer kind that has per-example gradients, σ = 0 with C = ∞ as exactly plain SGD, the
/// clipped sum against its definition and its bound, Poisson batch sizes, the noise's scale, and
/// batch normalisation refused.
@Suite struct DPSGDTrainerTests {
  /// Every layer kind except batch normalisation (which mixes samples), strided and padded.
  static let model = """
    input = [9, 9, 2]
    classes = 3
    layers = [
      { type = "conv2d", channels = 3, kernel = 3, stride = 2, padding = 2 },
      { type = "tanh" },
      { type = "subtractive-norm", kernel = 3 },
      { type = "maxpool", size = 2, stride = 1 },
      { type = "conv2d", channels = 4, kernel = 2, stride = 1, padding = 0 },
      { type = "l2pool", size = 2, stride = 2 },
      { type = "flatten" },
      { type = "linear", outputs = 5 },
      { type = "relu" },
      { type = "linear", outputs = 4 },
      { type = "sigmoid" },
      { type = "linear", outputs = 3 },
      { type = "log-softmax" },
    ]
    """

  /// An MLP, whose first layer's gradient scales with its input: the examples' norms differ by
  /// orders of magnitude.
  static let mlp = """
    input = [9, 9, 2]
    classes = 3
    layers = [
      { type = "linear", outputs = 7 },
      { type = "relu" },
      { type = "linear", outputs = 3 },
      { type = "log-softmax" },
    ]
    """

  static func network(_ text: String = model) throws -> (Network, [Float]) {
    let spec = try ModelFile.parse(text, file: "dp.toml", defaultName: "dp")
    let network = spec.makeNetwork()
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    var generator = SeededGenerator(seed: 21)
    network.initialize(&parameters, using: &generator)
    return (network, parameters)
  }

  /// n samples whose scales differ by orders of magnitude, labels 0, 1, 2, …
  static func samples(_ n: Int, size: Int, scales: [Float] = [1, 100, 0.01, 3, 0.3, 30]) -> LabeledSamples {
    var generator = SeededGenerator(seed: 5)
    var features: [Float] = []
    for b in 0..<n {
      let scale = scales[b % scales.count]
      features += (0..<size).map { _ in scale * Float.random(in: -1...1, using: &generator) }
    }
    return LabeledSamples(features: features, labels: (0..<n).map { Int32($0 % 3) }, sampleSize: size)
  }

  /// Example b's gradient of its own loss, from a backward pass over it alone.
  static func ownGradient(
    _ network: Network, _ parameters: [Float], _ samples: LabeledSamples, _ b: Int
  ) -> [Float] {
    let size = samples.sampleSize
    var gradient = [Float](repeating: 0, count: network.parameterCount)
    let x = Array(samples.features[(b * size)..<((b + 1) * size)])
    var dy = [Float](repeating: 0, count: network.outputShape.count)
    dy[Int(samples.labels[b])] = -1
    parameters.withUnsafeBufferPointer { w in
      x.withUnsafeBufferPointer { x in
        network.forward(x.baseAddress!, batchSize: 1, parameters: w.baseAddress!)
        network.backward(
          input: x.baseAddress!, outputGradient: dy, batchSize: 1, parameters: w.baseAddress!,
          gradients: &gradient)
      }
    }
    return gradient
  }

  static func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }

  /// The paper's mnist-cnn as `colearn train --privacy dp-sgd` runs it: 5×5 convolutions over
  /// 32×32 inputs, 32 and 64 channels, ten classes.
  static let mnistCNN = ModelSpec.presetText(named: "mnist-cnn")!

  @Test(arguments: [model, mlp, mnistCNN])
  func perExampleNormsMatchAPerSampleBackwardForEveryLayerKind(_ text: String) throws {
    let (network, parameters) = try Self.network(text)
    let n = 6
    let classes = network.outputShape.count
    let samples = Self.samples(n, size: network.inputShape.count)
    network.reserve(batchSize: n)
    var squared = [Float](repeating: -1, count: n)
    var gradient = [Float](repeating: 0, count: network.parameterCount)
    var dy = [Float](repeating: 0, count: n * classes)
    for b in 0..<n { dy[b * classes + Int(samples.labels[b])] = -1 }
    parameters.withUnsafeBufferPointer { w in
      samples.features.withUnsafeBufferPointer { x in
        network.forward(x.baseAddress!, batchSize: n, parameters: w.baseAddress!)
        network.backward(
          input: x.baseAddress!, outputGradient: dy, batchSize: n, parameters: w.baseAddress!,
          gradients: &gradient, perSampleSquaredNorms: &squared)
      }
    }
    var norms: [Double] = []
    for b in 0..<n {
      let expected = Self.norm(Self.ownGradient(network, parameters, samples, b))
      norms.append(expected)
      #expect(abs(Double(squared[b]).squareRoot() - expected) <= 1e-4 * expected + 1e-6, "example \(b)")
    }
    // The examples really differ (tanh and sigmoid squash the convolutional model's).
    let spread: Double = text == Self.mlp ? 100 : text == Self.model ? 1.4 : 1
    #expect(norms.max()! > spread * norms.min()!, "\(norms)")
  }

  @Test func sigmaZeroWithNoBoundIsExactlyPlainSGD() throws {
    let (network, initial) = try Self.network()
    let samples = Self.samples(32, size: network.inputShape.count, scales: [1, 2, 0.5])
    let sgd = try SGDConfiguration(learningRate: 0.05, learningRateDecay: 1e-3, batchSize: 8)
    let trainer = try DPSGDTrainer(
      network: network, configuration: sgd,
      privacy: DPSGDConfiguration(maxGradientNorm: .infinity, noiseMultiplier: 0, sampling: .shuffle))
    var model = LocalModel(parameters: initial)
    var generator = SeededGenerator(seed: 9)
    var noise = RecordingNoise()
    let statistics = try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &noise)
    #expect(statistics.steps == 4 && statistics.samples == 32)
    #expect(noise.calls.isEmpty)

    // Plain SGD on the same batches, as the trainer runs this convolutional network: each
    // batch as two halves of 4 on two networks, the mean loss's gradient g = g₁ + g₂,
    // w −= α_t · g.
    #expect(trainer.runsHalves(batchSize: 8))
    var reference = initial
    var order: [Int] = []
    var replay = SeededGenerator(seed: 9)
    shufflePermutation(&order, count: 32, using: &replay)
    let twin = try #require(network.twin())
    twin.reserve(batchSize: 4)
    var halves = [[Float]](repeating: [Float](repeating: 0, count: network.parameterCount), count: 2)
    var dy = [Float](repeating: 0, count: 4 * 3)
    for step in 0..<4 {
      for (half, net) in [network, twin].enumerated() {
        let indices = Array(order[(step * 8 + half * 4)..<(step * 8 + half * 4 + 4)])
        let x = indices.flatMap { samples.features[($0 * samples.sampleSize)..<(($0 + 1) * samples.sampleSize)] }
        let labels = indices.map { samples.labels[$0] }
        let output = net.forward(x, batchSize: 4, parameters: reference)
        _ = negativeLogLikelihood(
          logProbabilities: output, labels: labels, batchSize: 4, classes: 3, gradient: &dy,
          meanOver: 8)
        net.backward(
          input: x, outputGradient: dy, batchSize: 4, parameters: reference, gradients: &halves[half])
      }
      let gradient = zip(halves[0], halves[1]).map { $0 + $1 }
      reference.withUnsafeMutableBufferPointer { w in
        BLAS.axpy(
          count: gradient.count, alpha: -sgd.learningRate(atStep: step), x: gradient,
          y: w.baseAddress!)
      }
    }
    #expect(model.parameters.map(\.bitPattern) == reference.map(\.bitPattern))
    #expect(model.stepCount == 4)

    // colearn's plain-SGD trainer, on the same shuffle, takes the same steps to the bit.
    let plain = try Trainer(network: Self.network().0, configuration: sgd)
    var plainModel = LocalModel(parameters: initial)
    var plainGenerator = SeededGenerator(seed: 9)
    _ = plain.trainEpoch(&plainModel, on: samples, using: &plainGenerator)
    #expect(plainModel.parameters.map(\.bitPattern) == reference.map(\.bitPattern))
  }

  /// A convolutional network's Poisson batches run as two halves, one per core: an epoch with
  /// clipping and noise ends on the same bits on one core and on two. An MLP's batches are not
  /// split.
  @Test func halvesGiveTheSameBitsOnOneAndTwoCores() throws {
    let samples = Self.samples(96, size: 162)
    func epoch(threads: Int) throws -> [Float] {
      let (network, initial) = try Self.network()
      let trainer = try DPSGDTrainer(
        network: network,
        configuration: SGDConfiguration(learningRate: 0.1, learningRateDecay: 0, batchSize: 16),
        privacy: DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: 0.5))
      #expect(trainer.runsHalves(batchSize: 16) && !trainer.runsHalves(batchSize: 7))
      var model = LocalModel(parameters: initial)
      var generator = SeededGenerator(seed: 4)
      var noise = SeededNoise(seed: 8)
      let saved = BLAS.threadCount
      BLAS.setThreadCount(threads)
      defer { BLAS.setThreadCount(saved) }
      _ = try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &noise)
      return model.parameters
    }
    let one = try epoch(threads: 1)
    let two = try epoch(threads: 2)
    #expect(zip(one, two).allSatisfy { $0.bitPattern == $1.bitPattern })
    #expect(one != (try Self.network().1))
    let (mlp, _) = try Self.network(Self.mlp)
    let plain = try DPSGDTrainer(
      network: mlp, configuration: SGDConfiguration(learningRate: 0.1, batchSize: 16),
      privacy: DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: 0.5))
    #expect(!plain.runsHalves(batchSize: 16))
  }

  @Test func theClippedSumIsTheSumOfClippedExampleGradientsAndWithinBC() throws {
    let (network, initial) = try Self.network()
    let n = 12
    let samples = Self.samples(n, size: network.inputShape.count)
    let bound: Float = 1.2  // between the examples' norms, 0.95 … 1.48
    let rate: Float = 0.25
    // One step over all n examples (shuffle, B = n), no noise: Δw = −(α/n) · Σ clip(g_b).
    let trainer = try DPSGDTrainer(
      network: network,
      configuration: SGDConfiguration(learningRate: rate, learningRateDecay: 0, batchSize: n),
      privacy: DPSGDConfiguration(maxGradientNorm: bound, noiseMultiplier: 0, sampling: .shuffle))
    var model = LocalModel(parameters: initial)
    var generator = SeededGenerator(seed: 1)
    var noise = RecordingNoise()
    _ = try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &noise)
    let clippedSum = zip(model.parameters, initial).map { -Double($0 - $1) * Double(n) / Double(rate) }

    var expected = [Double](repeating: 0, count: initial.count)
    var clippedCount = 0
    for b in 0..<n {
      let g = Self.ownGradient(network, initial, samples, b)
      let factor = min(1, Double(bound) / (Self.norm(g) + 1e-6))
      if factor < 1 { clippedCount += 1 }
      for j in g.indices { expected[j] += factor * Double(g[j]) }
    }
    #expect(clippedCount > 0 && clippedCount < n, "some examples clipped, some not: \(clippedCount)")
    let difference = zip(clippedSum, expected).map { $0 - $1 }
    let size = expected.map { $0 * $0 }.reduce(0, +).squareRoot()
    #expect(difference.map { $0 * $0 }.reduce(0, +).squareRoot() <= 1e-3 * size)
    #expect(clippedSum.map { $0 * $0 }.reduce(0, +).squareRoot() <= Double(n) * Double(bound) * 1.001)
  }

  @Test func poissonBatchesAverageBAndTheNoiseIsSigmaC() throws {
    let (network, initial) = try Self.network()
    let n = 2000
    let samples = Self.samples(n, size: network.inputShape.count, scales: [1])
    let trainer = try DPSGDTrainer(
      network: network,
      configuration: SGDConfiguration(learningRate: 0.01, learningRateDecay: 0, batchSize: 20),
      privacy: DPSGDConfiguration(maxGradientNorm: 2, noiseMultiplier: 1.5))
    #expect(trainer.samplingRate(sampleCount: n) == 0.01)
    #expect(trainer.stepsPerEpoch(sampleCount: n) == 100)
    var model = LocalModel(parameters: initial)
    var generator = SeededGenerator(seed: 2)
    var noise = RecordingNoise()
    let statistics = try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &noise)
    // 100 steps with q = 0.01 of 2,000: 2,000 expected visits, standard deviation √(2000·0.99) ≈ 44.5.
    #expect(abs(statistics.samples - 2000) < 5 * 45, "\(statistics.samples)")
    #expect(noise.calls == [Double](repeating: 3, count: 100))
    #expect(noise.sizes.allSatisfy { $0 == network.parameterCount })
  }

  @Test func batchNormalisationAndBadSettingsAreRefused() throws {
    let spec = try ModelFile.parse(everyLayerKindModelFile, file: "every.toml", defaultName: "every")
    let sgd = try SGDConfiguration(learningRate: 0.1, batchSize: 4)
    #expect {
      _ = try DPSGDTrainer(
        network: spec.makeNetwork(), configuration: sgd,
        privacy: DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: 1))
    } throws: { error in
      "\(error)".contains("BatchNorm(per channel) normalises over the batch")
    }
    #expect(throws: ConfigurationError.self) {
      try DPSGDConfiguration(maxGradientNorm: 0, noiseMultiplier: 1)
    }
    #expect(throws: ConfigurationError.self) {
      try DPSGDConfiguration(maxGradientNorm: .infinity, noiseMultiplier: 1)
    }
    #expect(throws: ConfigurationError.self) {
      try DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: -1)
    }
  }
}

/// Records the standard deviation of every call and adds nothing.
struct RecordingNoise: GradientNoise {
  var calls: [Double] = []
  var sizes: [Int] = []
  mutating func addNoise(standardDeviation: Double, to values: UnsafeMutableBufferPointer<Float>) {
    calls.append(standardDeviation)
    sizes.append(values.count)
  }
}

/// Reproducible noise for tests: uniform in ±σ·√3 (standard deviation σ) from a seeded stream.
struct SeededNoise: GradientNoise {
  var generator: SeededGenerator
  init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
  mutating func addNoise(standardDeviation: Double, to values: UnsafeMutableBufferPointer<Float>) {
    let width = Float(standardDeviation * 3.0.squareRoot())
    for j in values.indices { values[j] += width * Float.random(in: -1...1, using: &generator) }
  }
}
