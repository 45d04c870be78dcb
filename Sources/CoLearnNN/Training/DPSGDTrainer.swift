import CoLearnTensor
import Foundation

/// How DP-SGD forms its batches (issue 21).
public enum DPSGDSampling: String, Sendable, Hashable, Codable, CaseIterable {
  /// Every sample joins each step's batch independently with probability q = B/n (Abadi et al.'s
  /// "lot" sampling, the one the Poisson-subsampled Gaussian accountant analyses): batch sizes
  /// vary around B, and the clipped sum is divided by the expected size B, never the drawn one
  /// (dividing by the drawn size would make the scale depend on the data). A batch larger than
  /// the workspace is processed in chunks; nothing is dropped.
  case poisson
  /// A fresh random permutation per epoch, cut into batches of B (the last one smaller): what
  /// plain SGD does. Each sample is used exactly once per epoch; the Poisson accountant does
  /// not describe it, so a run using it must state that its ε is not that accountant's.
  case shuffle
}

/// DP-SGD's settings (Abadi et al., CCS'16; issue 21): per-example clipping to L2 norm C and
/// Gaussian noise of standard deviation σ·C on the clipped sum.
public struct DPSGDConfiguration: Sendable, Hashable, Codable {
  /// C, the per-example gradient norm bound (> 0; `.infinity` clips nothing, for tests).
  public var maxGradientNorm: Float
  /// σ, the noise multiplier (≥ 0): the noise on the clipped sum has standard deviation σ·C.
  public var noiseMultiplier: Double
  /// How batches are formed.
  public var sampling: DPSGDSampling

  /// Validates C > 0 and σ = 0 or σ ≥ 0.01 (finite; below 0.01 the noise is meaningless and
  /// would fall under the noise grid's resolution).
  /// - Throws: ``ConfigurationError`` naming the flag.
  public init(maxGradientNorm: Float, noiseMultiplier: Double, sampling: DPSGDSampling = .poisson)
    throws(ConfigurationError)
  {
    guard maxGradientNorm > 0, !maxGradientNorm.isNaN else {
      throw .outOfRange(
        setting: "max-grad-norm", value: "\(maxGradientNorm)", expected: "a positive number")
    }
    guard noiseMultiplier == 0 || (noiseMultiplier >= 0.01 && noiseMultiplier.isFinite) else {
      throw .outOfRange(
        setting: "noise-multiplier", value: "\(noiseMultiplier)",
        expected: "0 (no noise, no privacy) or a number ≥ 0.01")
    }
    guard maxGradientNorm.isFinite || noiseMultiplier == 0 else {
      throw .outOfRange(
        setting: "max-grad-norm", value: "\(maxGradientNorm)",
        expected: "a finite bound when --noise-multiplier is positive (the noise is σ·C)")
    }
    self.maxGradientNorm = maxGradientNorm
    self.noiseMultiplier = noiseMultiplier
    self.sampling = sampling
  }
}

/// The noise DP-SGD adds to a clipped gradient sum: independent noise of the given standard
/// deviation on every value. colearn's private implementation draws a discrete Gaussian from
/// the secure generator (CoLearnPrivacy); tests may add none.
public protocol GradientNoise {
  /// Adds noise of standard deviation `standardDeviation` to each of `values`.
  ///
  /// - Throws: when no noise can be drawn (the secure generator failed); the values must then
  ///   be discarded, and the step is not taken.
  mutating func addNoise(standardDeviation: Double, to values: UnsafeMutableBufferPointer<Float>)
    throws
}

/// Runs DP-SGD on a model (issue 21): for each batch, every example's gradient is clipped to L2
/// norm C, the clipped gradients are summed, Gaussian noise N(0, σ²C²) is added to every
/// coordinate, and w −= α_t · (sum + noise) / B (B the expected batch size).
///
/// Per-example norms come from the batched backward pass (``Network/backward(input:outputGradient:batchSize:parameters:gradients:inputGradient:perSampleSquaredNorms:)``):
/// linear layers by ‖∂y_b‖²·(‖x_b‖² + 1), convolutions from each sample's own weight-gradient
/// GEMM or the direct kernel's per-sample partials. The clipped sum is then a second backward
/// pass with each example's loss gradient scaled by its clip factor min(1, C / (‖g_b‖ + 10⁻⁶))
/// (Opacus's), skipped when no example was clipped: the sum of the first pass is then already
/// the clipped sum. So a step costs one forward and one or two backward passes, and allocates
/// nothing. A convolutional network's batches of 8 or more run as two halves, one per core, on
/// the network and its ``Network/twin()`` (`ClippedGradientSum`), and the halves' sums are
/// added first half first — on one core too, so the bits do not depend on the thread count.
///
/// Networks whose layers mix the samples of a batch (``BatchNorm``) have no per-example
/// gradients and are refused at construction.
///
/// Threading: a trainer belongs to one thread at a time.
public final class DPSGDTrainer {
  /// The network whose workspaces this trainer uses.
  public let network: Network
  /// The learning rate, its decay and the batch size B (selective SGD's θ is not used).
  public let configuration: SGDConfiguration
  /// C, σ and the sampling.
  public let privacy: DPSGDConfiguration

  /// The clipped sums: the network's, and its twin's for the second half of a convolutional
  /// network's batch.
  private let shares: [ClippedGradientSum]
  private var batch: [Int] = []
  private var order: [Int] = []

  /// A network that mixes samples (batch normalisation) has no per-example gradients.
  public struct MixedSamplesError: Error, CustomStringConvertible {
    public var layer: String
    public init(layer: String) {
      self.layer = layer
    }
    public var description: String {
      "DP-SGD needs each example's own gradient, but \(layer) normalises over the batch (its "
        + "output for one example depends on the others, so clipping bounds nothing); remove "
        + "batch normalisation from the model, as Opacus also requires"
    }
  }

  /// A trainer for `network`.
  ///
  /// - Throws: ``MixedSamplesError`` if a layer mixes samples.
  public init(network: Network, configuration: SGDConfiguration, privacy: DPSGDConfiguration)
    throws(MixedSamplesError)
  {
    if let layer = network.layers.first(where: { $0.mixesSamples }) {
      throw MixedSamplesError(layer: layer.description)
    }
    self.network = network
    self.configuration = configuration
    self.privacy = privacy
    // Room for a Poisson batch a few deviations above B before chunking.
    let b = configuration.batchSize
    let chunk = b + 4 * Int(Double(b).squareRoot().rounded(.up)) + 4
    var shares = [ClippedGradientSum(network: network, chunk: chunk)]
    if let twin = DataParallelStep.twin(of: network, batchSize: b) {
      shares.append(ClippedGradientSum(network: twin, chunk: (chunk + 1) / 2))
    }
    self.shares = shares
  }

  /// Whether a drawn batch of `count` samples runs as two halves, one per core: on a
  /// convolutional network whose expected batch B, and this batch, hold at least 8 samples (as
  /// for plain SGD: `DataParallelStep`).
  public func runsHalves(batchSize count: Int) -> Bool {
    shares.count > 1 && count >= DataParallelStep.minimumBatch
  }

  /// q: the probability that a sample joins a step's batch under Poisson sampling, B/n (1 when
  /// B ≥ n).
  public func samplingRate(sampleCount n: Int) -> Double {
    Self.samplingRate(batchSize: configuration.batchSize, sampleCount: n)
  }

  /// The steps of one epoch over n samples: ⌈n/B⌉ (the accountant composes exactly these).
  public func stepsPerEpoch(sampleCount n: Int) -> Int {
    Self.stepsPerEpoch(batchSize: configuration.batchSize, sampleCount: n)
  }

  /// q = B/n (1 when B ≥ n), for callers that calibrate σ before building a trainer.
  public static func samplingRate(batchSize: Int, sampleCount n: Int) -> Double {
    min(1, Double(batchSize) / Double(max(n, 1)))
  }

  /// ⌈n/B⌉, for callers that calibrate σ before building a trainer.
  public static func stepsPerEpoch(batchSize: Int, sampleCount n: Int) -> Int {
    (max(n, 1) + batchSize - 1) / batchSize
  }

  /// One epoch of ``stepsPerEpoch(sampleCount:)`` steps on `samples`; the batches and the
  /// noise are drawn from `generator` and `noise`.
  ///
  /// - Throws: what `noise` throws; the model then holds the steps taken before the failed one.
  public func trainEpoch<G: RandomNumberGenerator, N: GradientNoise>(
    _ model: inout LocalModel, on samples: LabeledSamples, using generator: inout G,
    noise: inout N
  ) throws -> EpochStatistics {
    precondition(
      samples.sampleSize == network.inputShape.count,
      "samples have \(samples.sampleSize) values, the model expects \(network.inputShape.count)")
    precondition(model.parameters.count == network.parameterCount, "wrong parameter count")
    let n = samples.count
    let steps = stepsPerEpoch(sampleCount: n)
    var totalLoss = 0.0
    var correct = 0
    var visited = 0
    if privacy.sampling == .shuffle { shufflePermutation(&order, count: n, using: &generator) }
    for step in 0..<steps {
      switch privacy.sampling {
      case .poisson:
        drawPoissonBatch(sampleCount: n, using: &generator)
      case .shuffle:
        let start = step * configuration.batchSize
        batch.removeAll(keepingCapacity: true)
        batch.append(contentsOf: order[start..<min(n, start + configuration.batchSize)])
      }
      let divisor = privacy.sampling == .poisson ? configuration.batchSize : max(batch.count, 1)
      let result = try self.step(&model, samples: samples, divisor: divisor, noise: &noise)
      totalLoss += result.loss
      correct += result.correct
      visited += batch.count
    }
    return EpochStatistics(
      meanLoss: totalLoss / Double(max(visited, 1)),
      trainingAccuracy: Double(correct) / Double(max(visited, 1)), samples: visited, steps: steps)
  }

  /// The current batch's indices, each of 0..<n independently with probability q, in
  /// increasing order: geometric gaps, O(batch) draws instead of n.
  private func drawPoissonBatch<G: RandomNumberGenerator>(sampleCount n: Int, using generator: inout G) {
    batch.removeAll(keepingCapacity: true)
    let q = samplingRate(sampleCount: n)
    guard q < 1 else {
      batch.append(contentsOf: 0..<n)
      return
    }
    let logMiss = log1p(-q)
    var index = -1
    while true {
      // U in (0, 1]: the gap is ⌊ln U / ln(1 − q)⌋ failures before the next success.
      let u = 1 - Double.random(in: 0..<1, using: &generator)
      let gap = (log(u) / logMiss).rounded(.down)
      guard gap < Double(n) else { return }
      index += Int(gap) + 1
      guard index < n else { return }
      batch.append(index)
    }
  }

  /// One DP-SGD step on the samples listed in `batch` (possibly none).
  ///
  /// - Returns: the summed loss and the correct predictions of the batch (before the update).
  private func step<N: GradientNoise>(
    _ model: inout LocalModel, samples: LabeledSamples, divisor: Int, noise: inout N
  ) throws -> (loss: Double, correct: Int) {
    let size = network.parameterCount
    let bound = privacy.maxGradientNorm
    let rate = configuration.learningRate(atStep: model.stepCount)
    let sum = shares[0].sum
    var totalLoss = 0.0
    var correct = 0
    try model.parameters.withUnsafeMutableBufferPointer { w in
      let parameters = UnsafePointer(w.baseAddress!)
      batch.withUnsafeBufferPointer { batch in
        guard runsHalves(batchSize: batch.count) else {
          shares[0].accumulate(batch, samples: samples, parameters: parameters, bound: bound)
          return
        }
        let first = (batch.count + 1) / 2
        let lower = UnsafeBufferPointer(rebasing: batch[..<first])
        let upper = UnsafeBufferPointer(rebasing: batch[first...])
        DataParallelStep.runHalves { share in
          shares[share].accumulate(
            share == 0 ? lower : upper, samples: samples, parameters: parameters, bound: bound)
        }
        BLAS.axpy(count: size, alpha: 1, x: shares[1].sum.pointer, y: sum.pointer)
      }
      for share in shares.prefix(runsHalves(batchSize: batch.count) ? 2 : 1) {
        totalLoss += share.loss
        correct += share.correct
      }
      if privacy.noiseMultiplier > 0 {
        try noise.addNoise(
          standardDeviation: privacy.noiseMultiplier * Double(bound), to: sum.buffer)
      }
      BLAS.axpy(count: size, alpha: -rate / Float(divisor), x: sum.pointer, y: w.baseAddress!)
    }
    model.stepCount += 1
    return (totalLoss, correct)
  }
}
