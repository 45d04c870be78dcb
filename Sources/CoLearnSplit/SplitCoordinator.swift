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

  /// A coordinator training `network` from `parameters`, for batches of up to `capacity`.
  public init(network: Network, parameters: [Float], capacity: Int) {
    precondition(parameters.count == network.parameterCount, "back parameter count mismatch")
    self.network = network
    self.parameters = parameters
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
      let output = network.forward(
        features, batchSize: batchSize, parameters: UnsafePointer(w.baseAddress!))
      let result = negativeLogLikelihood(
        logProbabilities: output, labels: labels, batchSize: batchSize, classes: classes,
        gradient: lossGradient.pointer)
      network.backwardApplyingSGD(
        input: features, outputGradient: lossGradient.pointer, batchSize: batchSize,
        parameters: w.baseAddress!, rate: rate, inputGradient: featureGradient)
      return result
    }
    stepCount += 1
    return result
  }
}
