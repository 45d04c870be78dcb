import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// A convolutional network's mini-batch of 8 or more runs as two halves, one per core, each on
/// its own network of the same architecture, and the halves' gradients are summed (issue 24).
@Suite(.serialized) struct DataParallelStepTests {
  /// TrainerTests' small CNN (convolution, tanh, pooling, a second convolution, dense layers),
  /// its first convolution a direct one, with a recipe so that it can make its twin.
  func smallCNN() -> Network {
    Network(
      layers: TrainerTests.smallCNNLayers(firstChannels: 16),
      makeLayers: { TrainerTests.smallCNNLayers(firstChannels: 16) })
  }

  func batch(_ network: Network, size: Int, seed: UInt64) -> (x: [Float], y: [Int32]) {
    var generator = SeededGenerator(seed: seed)
    let x = (0..<(size * network.inputShape.count)).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    return (x, (0..<size).map { _ in Int32(generator.next() % 3) })
  }

  func initial(_ network: Network) -> [Float] {
    var generator = SeededGenerator(seed: 5)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    return w
  }

  func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
    let saved = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(saved) }
    return try body()
  }

  /// One trainer step on a batch of 9 is, to the bit, w − α·(g₁ + g₂) (an axpy): g₁ the backward pass of
  /// samples 0..<5 and g₂ of 5..<9, each on its own network, with the loss gradient of the
  /// mean over all 9; the loss and the correct count are the whole batch's.
  @Test(arguments: [1, 2])
  func aStepIsTheSumOfItsHalvesBackwardPasses(threads: Int) throws {
    let size = 9
    let trainer = try Trainer(
      network: smallCNN(), configuration: SGDConfiguration(learningRate: 0.1, batchSize: size))
    #expect(trainer.runsHalves(batchSize: size))
    let w = initial(trainer.network)
    let (x, y) = batch(trainer.network, size: size, seed: 9)
    var model = LocalModel(parameters: w)
    let result = withThreads(threads) { trainer.step(&model, input: x, labels: y, batchSize: size) }

    var halves: [[Float]] = []
    var loss: Float = 0
    var correct = 0
    for (start, count) in [(0, 5), (5, 4)] {
      let network = smallCNN()
      network.reserve(batchSize: count)
      let input = Array(x[(start * 128)..<((start + count) * 128)])
      let labels = Array(y[start..<(start + count)])
      var lossGradient = [Float](repeating: 0, count: count * 3)
      let output = network.forward(input, batchSize: count, parameters: w)
      let half = negativeLogLikelihood(
        logProbabilities: output, labels: labels, batchSize: count, classes: 3,
        gradient: &lossGradient, meanOver: size)
      loss += half.loss * Float(count)
      correct += half.correct
      var gradient = [Float](repeating: .nan, count: network.parameterCount)
      network.backward(
        input: input, outputGradient: lossGradient, batchSize: count, parameters: w,
        gradients: &gradient)
      halves.append(gradient)
    }
    let gradient = zip(halves[0], halves[1]).map { $0 + $1 }
    var expected = w
    expected.withUnsafeMutableBufferPointer { p in
      BLAS.axpy(count: gradient.count, alpha: -0.1, x: gradient, y: p.baseAddress!)
    }
    let differing = zip(model.parameters, expected).filter { $0.bitPattern != $1.bitPattern }
    #expect(differing.isEmpty, "\(differing.count) of \(w.count) differ, e.g. \(differing.prefix(3))")
    #expect(result.correct == correct)
    #expect(abs(result.loss - loss / Float(size)) <= 1e-6 * abs(result.loss))
    #expect(model.stepCount == 1)
  }

  /// The halves give the whole batch's step up to rounding (the sums are regrouped).
  @Test func halvesAgreeWithTheWholeBatch() throws {
    let size = 16
    let network = smallCNN()
    let trainer = try Trainer(
      network: network, configuration: SGDConfiguration(learningRate: 0.1, batchSize: size))
    let w = initial(network)
    let (x, y) = batch(network, size: size, seed: 11)
    var model = LocalModel(parameters: w)
    trainer.step(&model, input: x, labels: y, batchSize: size)

    let whole = smallCNN()
    whole.reserve(batchSize: size)
    var lossGradient = [Float](repeating: 0, count: size * 3)
    var reference = w
    reference.withUnsafeMutableBufferPointer { p in
      let output = whole.forward(x, batchSize: size, parameters: p.baseAddress!)
      _ = negativeLogLikelihood(
        logProbabilities: output, labels: y, batchSize: size, classes: 3, gradient: &lossGradient)
      whole.backwardApplyingSGD(
        input: x, outputGradient: lossGradient, batchSize: size, parameters: p.baseAddress!,
        rate: 0.1)
    }
    #expect(maximumAbsoluteDifference(model.parameters, reference) < 1e-6)
    #expect(model.parameters != w)
  }

  /// A whole epoch of selective SGD (θ = 0.2, batches of 8 and a last one of 4) ends on the same
  /// bits on one core and on two.
  @Test func oneAndTwoCoresGiveTheSameBits() throws {
    let network = smallCNN()
    let (x, y) = batch(network, size: 20, seed: 13)
    let samples = LabeledSamples(features: x, labels: y, sampleSize: network.inputShape.count)
    func epoch(threads: Int) throws -> [Float] {
      let trainer = try Trainer(
        network: smallCNN(),
        configuration: SGDConfiguration(learningRate: 0.1, batchSize: 8, selectFraction: 0.2))
      var model = LocalModel(parameters: initial(trainer.network))
      var generator = SeededGenerator(seed: 2)
      withThreads(threads) { _ = trainer.trainEpoch(&model, on: samples, using: &generator) }
      return model.parameters
    }
    let one = try epoch(threads: 1)
    let two = try epoch(threads: 2)
    #expect(zip(one, two).allSatisfy { $0.bitPattern == $1.bitPattern })
    #expect(one != initial(network))
  }

  /// Not split: small batches, networks without a convolution (the MLPs' own sparse paths),
  /// networks that mix a batch's samples (batch normalisation), and networks made from layer
  /// objects alone (no recipe for a twin).
  @Test func onlyConvolutionalNetworksOfLargeEnoughBatchesAreSplit() throws {
    let sgd = { (batch: Int) in try SGDConfiguration(learningRate: 0.1, batchSize: batch) }
    #expect(try Trainer(network: smallCNN(), configuration: sgd(32)).runsHalves(batchSize: 32))
    #expect(try Trainer(network: smallCNN(), configuration: sgd(32)).runsHalves(batchSize: 8))
    #expect(try !Trainer(network: smallCNN(), configuration: sgd(32)).runsHalves(batchSize: 7))
    #expect(try !Trainer(network: smallCNN(), configuration: sgd(4)).runsHalves(batchSize: 4))
    #expect(try !Trainer(network: ModelSpec.mnistMLP.makeNetwork(), configuration: sgd(32))
      .runsHalves(batchSize: 32))
    #expect(try Trainer(network: ModelSpec.mnistCNN.makeNetwork(), configuration: sgd(32))
      .runsHalves(batchSize: 32))
    let layers = smallCNN().layers
    #expect(try !Trainer(network: Network(layers: layers), configuration: sgd(32))
      .runsHalves(batchSize: 32))
    let input = TensorShape.image(height: 6, width: 6, channels: 1)
    let normalised: () -> [any Layer] = {
      let conv = Conv2D(input: input, outputChannels: 16, kernelSize: 3)
      let norm = BatchNorm(input: conv.outputShape, perChannel: true)
      let out = Linear(input: norm.outputShape, outputs: 2)
      return [conv, norm, out, LogSoftmax(input: out.outputShape)]
    }
    let mixing = Network(layers: normalised(), makeLayers: normalised)
    #expect(mixing.mixesSamples)
    #expect(try !Trainer(network: mixing, configuration: sgd(32)).runsHalves(batchSize: 32))
  }
}
