import CoLearnNN
import CoLearnTensor

/// The coordinator of split learning (the paper's honest-but-curious cloud): it holds the dense
/// back of the network, trains it on the (noisy) features and labels participants send, and
/// returns ∂L/∂features to the sender (SPEC §9).
///
/// It never sees raw data, front weights or front gradients — only what
/// ``train(on:labels:batchSize:rate:featureGradient:)`` is given, which is exactly what a run's
/// audit records.
///
/// Threading: one thread at a time (the simulation's).
public final class SplitCoordinator {
  /// The back's layers and workspaces.
  public let network: Network
  /// The back's flat parameter vector.
  public internal(set) var parameters: [Float]
  /// t: steps taken, for the Torch7 learning-rate decay.
  public internal(set) var stepCount = 0

  private let lossGradient: FloatBuffer
  private let classes: Int
  /// Where ``trainCheckingFiniteness(on:labels:batchSize:rate:featureGradient:)`` updates a copy
  /// of the parameters before it adopts them.
  private var staging: [Float] = []

  /// A coordinator training `network` from `parameters`, for batches of up to `capacity`;
  /// `stepCount` continues a restarted coordinator's count (the learning-rate decay's t).
  public init(network: Network, parameters: [Float], capacity: Int, stepCount: Int = 0) {
    precondition(parameters.count == network.parameterCount, "back parameter count mismatch")
    self.network = network
    self.parameters = parameters
    self.stepCount = stepCount
    network.reserve(batchSize: capacity)
    classes = network.outputShape.count
    lossGradient = FloatBuffer(count: capacity * classes)
  }

  /// One step of the back: forward on the received values, NLL loss, backward with the fused
  /// SGD update w −= rate·∂L/∂w, and ∂L/∂(received values) written to `featureGradient` (computed
  /// with the weights before the update).
  ///
  /// - Parameters:
  ///   - features: batchSize × network.inputShape.count received values.
  ///   - labels: the batchSize received labels.
  ///   - rate: α_t.
  ///   - featureGradient: batchSize × network.inputShape.count values, overwritten: what goes
  ///     back to the sender.
  /// - Returns: the batch's mean loss and number of correct predictions.
  @discardableResult
  public func train(
    on features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int,
    rate: Float, featureGradient: UnsafeMutablePointer<Float>
  ) -> (loss: Float, correct: Int) {
    let result = parameters.withUnsafeMutableBufferPointer { w in
      step(
        on: features, labels: labels, batchSize: batchSize, rate: rate,
        featureGradient: featureGradient, parameters: w.baseAddress!)
    }
    stepCount += 1
    return result
  }

  /// ``train(on:labels:batchSize:rate:featureGradient:)`` for input nobody vouches for (the
  /// networked coordinator's): the same arithmetic, bit for bit, but on a copy of the
  /// parameters, adopted (and the step counted) only if the loss, every value of ∂L/∂features
  /// and every updated parameter are finite. A step that yields NaN or ±∞ anywhere leaves the
  /// back and ``stepCount`` exactly as they were.
  ///
  /// - Throws: ``SplitStepError`` naming the first non-finite value; `featureGradient` then
  ///   holds garbage and must not be sent.
  /// - Complexity: one copy and one scan of the parameters on top of the step.
  @discardableResult
  public func trainCheckingFiniteness(
    on features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int,
    rate: Float, featureGradient: UnsafeMutablePointer<Float>
  ) throws(SplitStepError) -> (loss: Float, correct: Int) {
    if staging.count != parameters.count {
      staging = parameters
    } else {
      staging.withUnsafeMutableBufferPointer { s in
        parameters.withUnsafeBufferPointer { w in
          s.baseAddress!.update(from: w.baseAddress!, count: w.count)
        }
      }
    }
    let result = staging.withUnsafeMutableBufferPointer { w in
      step(
        on: features, labels: labels, batchSize: batchSize, rate: rate,
        featureGradient: featureGradient, parameters: w.baseAddress!)
    }
    guard result.loss.isFinite else { throw .nonFiniteLoss(result.loss) }
    let inputs = batchSize * network.inputShape.count
    if let bad = (0..<inputs).first(where: { !featureGradient[$0].isFinite }) {
      throw .nonFiniteFeatureGradient(index: bad, value: featureGradient[bad])
    }
    let firstBad = staging.withUnsafeBufferPointer { w -> Int? in
      // value·0 is 0 for a finite value and NaN otherwise: one vectorisable pass, and a scan
      // for the culprit only when there is one.
      var sum: Float = 0
      for value in w { sum += value * 0 }
      return sum.isNaN ? w.firstIndex(where: { !$0.isFinite }) : nil
    }
    if let bad = firstBad {
      throw .nonFiniteParameter(
        index: bad, value: staging[bad], count: staging.count(where: { !$0.isFinite }))
    }
    swap(&parameters, &staging)
    stepCount += 1
    return result
  }

  /// Forward, loss and the fused backward-with-SGD on `parameters`.
  private func step(
    on features: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int,
    rate: Float, featureGradient: UnsafeMutablePointer<Float>,
    parameters w: UnsafeMutablePointer<Float>
  ) -> (loss: Float, correct: Int) {
    let output = network.forward(features, batchSize: batchSize, parameters: UnsafePointer(w))
    let result = negativeLogLikelihood(
      logProbabilities: output, labels: labels, batchSize: batchSize, classes: classes,
      gradient: lossGradient.pointer)
    network.backwardApplyingSGD(
      input: features, outputGradient: lossGradient.pointer, batchSize: batchSize,
      parameters: w, rate: rate, inputGradient: featureGradient)
    return result
  }
}
