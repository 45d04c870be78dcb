import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

@Suite struct TrainerTests {
  /// A small CNN with every parameterised layer kind, fast in a debug build.
  func smallNetwork() -> Network {
    Network(layers: Self.smallCNNLayers())
  }

  /// The layers of ``smallNetwork()``, with `firstChannels` channels out of its first
  /// convolution (a multiple of 16 makes it a direct-kernel convolution).
  static func smallCNNLayers(firstChannels: Int = 3) -> [any Layer] {
    let input = TensorShape.image(height: 8, width: 8, channels: 2)
    let conv = Conv2D(input: input, outputChannels: firstChannels, kernelSize: 3)
    let tanh = Tanh(input: conv.outputShape)
    let pool = MaxPool2D(input: tanh.outputShape, size: 2, stride: 2)
    let conv2 = Conv2D(input: pool.outputShape, outputChannels: 4, kernelSize: 2)
    let linear = Linear(input: conv2.outputShape, outputs: 5)
    let relu = ReLU(input: linear.outputShape)
    let out = Linear(input: relu.outputShape, outputs: 3)
    return [conv, tanh, pool, conv2, linear, relu, out, LogSoftmax(input: out.outputShape)]
  }

  func randomBatch(_ network: Network, batchSize: Int, seed: UInt64) -> ([Float], [Int32]) {
    var generator = SeededGenerator(seed: seed)
    let x = (0..<(batchSize * network.inputShape.count)).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    let y = (0..<batchSize).map { _ in Int32(generator.next() % 3) }
    return (x, y)
  }

  /// The fused update (folded into the weight-gradient GEMMs) must equal backward + w −= α·g.
  @Test(arguments: [1, 4])
  func fusedSGDEqualsGradientThenUpdate(batchSize: Int) throws {
    let network = smallNetwork()
    network.reserve(batchSize: batchSize)
    var generator = SeededGenerator(seed: 3)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    let (x, y) = randomBatch(network, batchSize: batchSize, seed: 9)
    let rate: Float = 0.1

    var lossGradient = [Float](repeating: 0, count: batchSize * 3)
    var gradient = [Float](repeating: .nan, count: network.parameterCount)
    let output = network.forward(x, batchSize: batchSize, parameters: w)
    _ = negativeLogLikelihood(
      logProbabilities: output, labels: y, batchSize: batchSize, classes: 3,
      gradient: &lossGradient)
    network.backward(
      input: x, outputGradient: lossGradient, batchSize: batchSize, parameters: w,
      gradients: &gradient)
    #expect(gradient.allSatisfy { $0.isFinite }, "backward must write every position")
    let expected = zip(w, gradient).map { $0 - rate * $1 }

    var fused = w
    fused.withUnsafeMutableBufferPointer { p in
      network.forward(x, batchSize: batchSize, parameters: p.baseAddress!)
      network.backwardApplyingSGD(
        input: x, outputGradient: lossGradient, batchSize: batchSize,
        parameters: p.baseAddress!, rate: rate)
    }
    #expect(maximumAbsoluteDifference(fused, expected) < 1e-6)
  }

  @Test func selectiveSGDUpdatesExactlyTheLargestGradients() throws {
    let network = smallNetwork()
    let fraction = 0.05
    let configuration = try SGDConfiguration(
      learningRate: 0.5, learningRateDecay: 0, batchSize: 2, selectFraction: fraction)
    let trainer = Trainer(network: network, configuration: configuration)
    var generator = SeededGenerator(seed: 5)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    let (x, y) = randomBatch(network, batchSize: 2, seed: 11)

    // The full gradient, for reference.
    var lossGradient = [Float](repeating: 0, count: 6)
    var gradient = [Float](repeating: 0, count: network.parameterCount)
    let output = network.forward(x, batchSize: 2, parameters: w)
    _ = negativeLogLikelihood(
      logProbabilities: output, labels: y, batchSize: 2, classes: 3, gradient: &lossGradient)
    network.backward(input: x, outputGradient: lossGradient, batchSize: 2, parameters: w, gradients: &gradient)

    var model = LocalModel(parameters: w)
    trainer.step(&model, input: x, labels: y, batchSize: 2)
    let k = fractionCount(fraction, of: network.parameterCount)
    let changed = w.indices.filter { model.parameters[$0] != w[$0] }
    #expect(changed.count == k)
    let smallestChosen = changed.map { abs(gradient[$0]) }.min() ?? 0
    let largestLeft = w.indices.filter { model.parameters[$0] == w[$0] }.map { abs(gradient[$0]) }.max() ?? 0
    #expect(smallestChosen >= largestLeft)
    for j in changed {
      #expect(abs(model.parameters[j] - (w[j] - 0.5 * gradient[j])) < 1e-6)
    }
    #expect(model.stepCount == 1)
  }

  @Test func torchLearningRateDecay() throws {
    let configuration = try SGDConfiguration(learningRate: 0.01, learningRateDecay: 1e-7, batchSize: 1)
    #expect(configuration.learningRate(atStep: 0) == 0.01)
    #expect(isApproximatelyEqual(Double(configuration.learningRate(atStep: 1_000_000)), 0.01 / 1.1))
  }

  @Test func invalidConfigurationsNameTheValue() {
    #expect(throws: ConfigurationError.outOfRange(
      setting: "select-fraction", value: "1.5", expected: "a fraction in (0, 1]")
    ) {
      try SGDConfiguration(learningRate: 0.1, batchSize: 1, selectFraction: 1.5)
    }
    #expect(throws: ConfigurationError.self) { try SGDConfiguration(learningRate: -1, batchSize: 1) }
    #expect(throws: ConfigurationError.self) { try SGDConfiguration(learningRate: 0.1, batchSize: 0) }
  }

  /// A linearly separable three-class problem: an epoch-loop over it must learn it.
  @Test(arguments: [1.0, 0.2])
  func trainingLearnsASeparableProblem(selectFraction: Double) throws {
    let network = smallNetwork()
    var generator = SeededGenerator(seed: 21)
    let count = 240
    let size = network.inputShape.count
    var features = [Float](repeating: 0, count: count * size)
    var labels = [Int32](repeating: 0, count: count)
    for i in 0..<count {
      let label = i % 3
      labels[i] = Int32(label)
      for j in 0..<size {
        let signal: Float = ((j / 16) % 3 == label) ? 1 : -0.5  // label-specific rows of the image
        features[i * size + j] = signal + Float.random(in: -0.5...0.5, using: &generator)
      }
    }
    let samples = LabeledSamples(features: features, labels: labels, sampleSize: size)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    var model = LocalModel(parameters: w)
    let trainer = Trainer(
      network: network,
      configuration: try SGDConfiguration(learningRate: 0.1, batchSize: 8, selectFraction: selectFraction))
    let before = evaluate(network, parameters: model.parameters, on: samples, batchSize: 64)
    var last: EpochStatistics?
    for _ in 0..<12 {
      last = trainer.trainEpoch(&model, on: samples, using: &generator)
    }
    let after = evaluate(network, parameters: model.parameters, on: samples, batchSize: 64)
    #expect(last?.steps == 30)
    #expect(after.meanLoss < before.meanLoss)
    #expect(after.accuracy > 0.95, "accuracy \(after.accuracy)")
  }
}

/// `trainEpoch` opens an SGD epoch on the first layer (the sparse path of ``Linear`` for
/// mostly-background inputs): epochs of one full batch must equal the same steps taken one by
/// one with ``Trainer/step(_:input:labels:batchSize:)``, which opens no epoch.
@Suite struct TrainerSparseEpochTests {
  @Test func epochsOnSparseInputsEqualPlainSteps() throws {
    let fixture = SparseMLPFixture(
      outputs: 24, background: -0.4242, density: 0.15, backgroundFirstInputs: false, seed: 17)
    let (first, network, samples, w) = (fixture.first, fixture.network, fixture.samples, fixture.initial)
    let (features, labels, count) = (samples.features, samples.labels, samples.count)
    let configuration = try SGDConfiguration(learningRate: 0.2, batchSize: count)

    var epochs = LocalModel(parameters: w)
    let epochTrainer = Trainer(network: network, configuration: configuration)
    var order = SeededGenerator(seed: 1)
    var stepped = LocalModel(parameters: w)
    for _ in 0..<4 {
      _ = epochTrainer.trainEpoch(&epochs, on: samples, using: &order)
      #expect(first.lastSparseEntries != nil, "the epoch took the sparse path")
      Trainer(network: network, configuration: configuration).step(
        &stepped, input: features, labels: labels, batchSize: count)
      #expect(first.lastSparseEntries == nil, "a lone step runs dense")
    }
    #expect(epochs.stepCount == 4 && stepped.stepCount == 4)
    #expect(maximumAbsoluteDifference(epochs.parameters, stepped.parameters) < 1e-5)
    #expect(maximumAbsoluteDifference(epochs.parameters, w) > 1e-2, "training moved the weights")
  }
}
