import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// The layers split large loops across cores (by sample, element or weight rows); the results
/// must not depend on the thread count.
@Suite(.serialized) struct ParallelLayerTests {
  func run(threads: Int, _ body: () -> [Float]) -> [Float] {
    let saved = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(saved) }
    return body()
  }

  /// One fused SGD step of a model through every parallel path (svhn-mlp's first layer is split
  /// by rows at batch 1; the CNN's pooling, tanh and im2col split by sample at batch 32).
  func oneStep(_ spec: ModelSpec, batchSize: Int) -> [Float] {
    let network = spec.makeNetwork()
    network.reserve(batchSize: batchSize)
    var generator = SeededGenerator(seed: 17)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    let x = (0..<(batchSize * network.inputShape.count)).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    let labels = (0..<batchSize).map { Int32($0 % 10) }
    var lossGradient = [Float](repeating: 0, count: batchSize * 10)
    w.withUnsafeMutableBufferPointer { p in
      let output = network.forward(x, batchSize: batchSize, parameters: p.baseAddress!)
      _ = negativeLogLikelihood(
        logProbabilities: output, labels: labels, batchSize: batchSize, classes: 10,
        gradient: &lossGradient)
      network.backwardApplyingSGD(
        input: x, outputGradient: lossGradient, batchSize: batchSize, parameters: p.baseAddress!,
        rate: 0.05)
    }
    return w
  }

  @Test(arguments: [(ModelSpec.svhnMLP, 1), (.svhnCNN, 4), (.mnistCNN, 8)])
  func oneThreadAndTwoThreadsAgree(spec: ModelSpec, batchSize: Int) {
    let single = run(threads: 1) { oneStep(spec, batchSize: batchSize) }
    let double = run(threads: 2) { oneStep(spec, batchSize: batchSize) }
    #expect(maximumAbsoluteDifference(single, double) < 1e-6)
  }

  /// At batch 1 the CNNs' second convolutions run as two halves of their channels and svhn-cnn's
  /// Linear(1600→128) as two halves of its rows, whatever the thread count: one core and two
  /// give exactly the same bits.
  @Test(arguments: [ModelSpec.mnistCNN, .svhnCNN])
  func oneSampleGivesTheSameBitsOnOneAndTwoCores(spec: ModelSpec) {
    let single = run(threads: 1) { oneStep(spec, batchSize: 1) }
    let double = run(threads: 2) { oneStep(spec, batchSize: 1) }
    #expect(single == double)
  }

  /// The shares a step's layers split into, run one after the other on the caller (all of
  /// them, or all but the regions that own their data: ``StepWidthChooser``'s other ways), give
  /// exactly the bits of running them on two cores.
  @Test(arguments: [(ModelSpec.mnistCNN, 1), (.svhnCNN, 1), (.svhnMLP, 1), (.mnistCNN, 8)])
  func sharesOnTheCallerGiveTheSameBits(spec: ModelSpec, batchSize: Int) {
    let parallel = run(threads: 2) { oneStep(spec, batchSize: batchSize) }
    let onCaller = run(threads: 2) {
      WorkerPool.shared.withSharesOnCaller { oneStep(spec, batchSize: batchSize) }
    }
    let ownedRegions = run(threads: 2) {
      WorkerPool.shared.withSharesOnCaller(keepingOwnedRegions: true) {
        oneStep(spec, batchSize: batchSize)
      }
    }
    #expect(parallel == onCaller)
    #expect(parallel == ownedRegions)
  }

  /// At mini-batch 1 L2 pooling splits the sample's output rows between the cores (svhn-cnn's
  /// first pooling, 32×32×64); with a gap between windows (stride 3 > size 2) the rows no window
  /// reaches still get a zero gradient. Forward and backward give the bits of one core.
  @Test(arguments: [(32, 32, 64, 2, 2), (33, 35, 48, 2, 3)])
  func l2PoolingSplitsOneSampleByRows(
    height: Int, width: Int, channels: Int, size: Int, stride: Int
  ) {
    let layer = L2Pool2D(
      input: .image(height: height, width: width, channels: channels), size: size,
      stride: stride)
    #expect(2 * layer.inputShape.count >= 96_000, "large enough to split")
    var generator = SeededGenerator(seed: 41)
    let x = (0..<layer.inputShape.count).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<layer.outputShape.count).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    func pass() -> [Float] {
      var y = [Float](repeating: .nan, count: layer.outputShape.count)
      var dx = [Float](repeating: .nan, count: x.count)
      var unused: [Float] = [0]
      y.withUnsafeMutableBufferPointer { y in
        layer.forward(x, into: y.baseAddress!, batchSize: 1, parameters: x)
        dx.withUnsafeMutableBufferPointer { dx in
          unused.withUnsafeMutableBufferPointer { dw in
            layer.backward(
              input: x, output: UnsafePointer(y.baseAddress!), outputGradient: dy,
              inputGradient: dx.baseAddress!, batchSize: 1, parameters: x,
              parameterGradients: dw.baseAddress!)
          }
        }
      }
      return y + dx
    }
    let single = run(threads: 1) { pass() }
    let double = run(threads: 2) { pass() }
    #expect(!single.contains { $0.isNaN })
    #expect(single == double)
  }

  /// An epoch of the sparse first layer with listed rows: its transpose and write-back (with
  /// Δw) split by outputs over two cores, and give the same bits as on one. 300 × 120 weights:
  /// above the split's minimum, and 120 outputs are not a whole number of 16-output groups per
  /// core.
  @Test func sparseEpochIsTheSameOnTwoCores() throws {
    let fixture = SparseMLPFixture(
      inputs: 300, outputs: 120, background: -0.4, density: 0.15, backgroundFirstInputs: false,
      seed: 31)
    #expect(300 * 120 >= 32_768)
    let samples = fixture.samples.indexingSparseRows()
    let configuration = try SGDConfiguration(learningRate: 0.1, batchSize: 4)
    func epochs(threads: Int) -> (parameters: [Float], changes: [Float]) {
      var model = LocalModel(parameters: fixture.initial)
      var changes = [Float](repeating: .nan, count: model.parameters.count)
      _ = run(threads: threads) {
        let trainer = Trainer(network: fixture.network, configuration: configuration)
        var order = SeededGenerator(seed: 8)
        for _ in 0..<2 {
          changes.withUnsafeMutableBufferPointer {
            _ = trainer.trainEpoch(&model, on: samples, using: &order, changes: $0)
          }
        }
        return []
      }
      return (model.parameters, changes)
    }
    let single = epochs(threads: 1)
    let double = epochs(threads: 2)
    #expect(single.parameters == double.parameters)
    #expect(single.changes == double.changes)
    #expect(single.changes.contains { abs($0) > 1e-3 }, "the epoch changed the weights")
    #expect(!single.changes.contains { $0.isNaN }, "every change was written")
  }
}
