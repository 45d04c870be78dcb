import CoLearnNN

/// Membership inference on a final model by its loss (Yeom, Giacomelli, Fredrikson & Jha,
/// "Privacy risk in machine learning: analyzing the connection to overfitting", CSF 2018).
///
/// **What the attacker is assumed to know**: black-box access to the final model's output
/// probabilities (a model user: the released parameters, no uploads, no training history), and
/// the candidate record with its true label. Nothing about the other training data. The score
/// of a record is −ℓ(x, y) = log p_model(y | x): a model fits its training records better than
/// unseen records of the same distribution, so members score higher. Sweeping the threshold
/// gives ``MembershipMetrics`` (Yeom et al. fix one threshold, the mean training loss; the ROC
/// reports every threshold at once).
///
/// Threading: uses `network`'s workspaces, so it belongs to the network's thread.
public struct LossThresholdAttack {
  /// The network the model runs on (its workspaces are used for the forward passes).
  public let network: Network
  /// The final model's flat parameter vector.
  public let parameters: [Float]
  /// The batch size of the forward passes (workspace size only; for networks that do not mix
  /// samples, scores depend on it only through floating-point rounding).
  public let batchSize: Int

  /// An attack on the model `parameters` of `network`.
  public init(network: Network, parameters: [Float], batchSize: Int = 256) {
    precondition(parameters.count == network.parameterCount, "parameters do not fit the network")
    precondition(batchSize >= 1, "batch size must be at least 1")
    self.network = network
    self.parameters = parameters
    self.batchSize = batchSize
  }

  /// The membership score of every record of `samples`: log p(y | x), the negated
  /// per-record loss (higher means more likely a member).
  ///
  /// - Complexity: one forward pass over `samples`.
  public func scores(_ samples: LabeledSamples) -> [Double] {
    precondition(samples.sampleSize == network.inputShape.count, "sample size mismatch")
    guard samples.count > 0 else { return [] }
    let batch = min(batchSize, samples.count)
    network.reserve(batchSize: batch)
    let classes = network.outputShape.count
    var scores = [Double]()
    scores.reserveCapacity(samples.count)
    parameters.withUnsafeBufferPointer { w in
      samples.features.withUnsafeBufferPointer { features in
        var start = 0
        while start < samples.count {
          let size = min(batch, samples.count - start)
          let output = network.forward(
            features.baseAddress! + start * samples.sampleSize, batchSize: size,
            parameters: w.baseAddress!)
          for b in 0..<size {
            let label = Int(samples.labels[start + b])
            precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
            scores.append(Double(output[b * classes + label]))
          }
          start += size
        }
      }
    }
    return scores
  }

  /// Members against non-members: the ROC of ``scores(_:)`` on each set.
  ///
  /// - Throws: ``AuditError`` when a set is empty or a score is not finite (a diverged model).
  public func run(members: LabeledSamples, nonMembers: LabeledSamples) throws(AuditError)
    -> MembershipMetrics
  {
    try MembershipMetrics(memberScores: scores(members), nonMemberScores: scores(nonMembers))
  }
}
