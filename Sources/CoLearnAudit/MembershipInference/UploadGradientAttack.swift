import CoLearnNN

/// Membership inference from a participant's upload by gradient alignment (in the spirit of
/// Nasr, Shokri & Houmansadr, "Comprehensive privacy analysis of deep learning", S&P 2019, and
/// Melis et al., "Exploiting unintended feature leakage in collaborative learning", S&P 2019).
///
/// **What the attacker is assumed to know**: one participant's uploaded change Δw (the values
/// and their positions: an honest-but-curious server sees every upload with its sender), the
/// parameters the participant trained from (the server approximates them by the w_global it
/// sent; the test gives the exact ones), the architecture, and the candidate record with its
/// label. Nothing about the participant's other records.
///
/// Local SGD moves the parameters along the negative gradients of the participant's records, so
/// Δw ≈ −η Σ_{x ∈ shard} ∇ℓ(w; x). The score of a candidate is the cosine similarity between
/// −∇ℓ(w; x) and Δw over the uploaded positions: a member's own gradient is one of the summands
/// and aligns with the sum more than a non-member's. Sweeping the threshold gives
/// ``MembershipMetrics``.
///
/// Threading: uses `network`'s workspaces, so it belongs to the network's thread.
public struct UploadGradientAttack {
  /// The network the model runs on.
  public let network: Network
  /// The parameters the participant started its local training from.
  public let parameters: [Float]
  /// The uploaded change, |w| values (zero where nothing was uploaded).
  public let change: [Float]
  /// The uploaded positions (the nonzero entries of `change` when not given).
  public let positions: [Int]

  /// An attack on the upload `change` made from `parameters`.
  ///
  /// - Parameters:
  ///   - network: the architecture.
  ///   - parameters: the participant's starting parameters (or the attacker's stand-in).
  ///   - change: the uploaded change, |w| values.
  ///   - positions: the uploaded positions; nil takes the nonzero entries of `change`.
  /// - Throws: ``AuditError/lengthMismatch(what:count:expected:)`` when a vector does not fit the
  ///   network, ``AuditError/invalidParameter(name:value:requirement:)`` for a position outside
  ///   it.
  public init(network: Network, parameters: [Float], change: [Float], positions: [Int]? = nil)
    throws(AuditError)
  {
    guard parameters.count == network.parameterCount else {
      throw .lengthMismatch(
        what: "the parameters", count: parameters.count, expected: network.parameterCount)
    }
    guard change.count == network.parameterCount else {
      throw .lengthMismatch(
        what: "the uploaded change", count: change.count, expected: network.parameterCount)
    }
    let chosen = positions ?? change.indices.filter { change[$0] != 0 }
    if let bad = chosen.first(where: { $0 < 0 || $0 >= change.count }) {
      throw .invalidParameter(
        name: "upload position", value: Double(bad),
        requirement: "an index in 0..<\(change.count)")
    }
    self.network = network
    self.parameters = parameters
    self.change = change
    self.positions = chosen
  }

  /// The score of every record of `samples`: cos(−∇ℓ(w; x, y), Δw) over the uploaded positions
  /// (0 for a record whose gradient vanishes there).
  ///
  /// - Complexity: one forward and backward pass per record.
  public func scores(_ samples: LabeledSamples) -> [Double] {
    precondition(samples.sampleSize == network.inputShape.count, "sample size mismatch")
    network.reserve(batchSize: 1)
    let classes = network.outputShape.count
    var gradient = [Float](repeating: 0, count: network.parameterCount)
    var lossGradient = [Float](repeating: 0, count: classes)
    let uploaded = positions.map { change[$0] }
    var scores: [Double] = []
    scores.reserveCapacity(samples.count)
    parameters.withUnsafeBufferPointer { w in
      samples.features.withUnsafeBufferPointer { features in
        samples.labels.withUnsafeBufferPointer { labels in
          for index in 0..<samples.count {
            let input = features.baseAddress! + index * samples.sampleSize
            let output = network.forward(input, batchSize: 1, parameters: w.baseAddress!)
            lossGradient.withUnsafeMutableBufferPointer { g in
              _ = negativeLogLikelihood(
                logProbabilities: output, labels: labels.baseAddress! + index, batchSize: 1,
                classes: classes, gradient: g.baseAddress!)
            }
            gradient.withUnsafeMutableBufferPointer { g in
              lossGradient.withUnsafeBufferPointer { dy in
                network.backward(
                  input: input, outputGradient: dy.baseAddress!, batchSize: 1,
                  parameters: w.baseAddress!, gradients: g.baseAddress!)
              }
            }
            let descent = positions.lazy.map { -gradient[$0] }
            scores.append(cosineSimilarity(descent, uploaded))
          }
        }
      }
    }
    return scores
  }

  /// Members against non-members: the ROC of ``scores(_:)`` on each set.
  ///
  /// - Throws: ``AuditError`` when a set is empty or a score is not finite.
  public func run(members: LabeledSamples, nonMembers: LabeledSamples) throws(AuditError)
    -> MembershipMetrics
  {
    try MembershipMetrics(memberScores: scores(members), nonMemberScores: scores(nonMembers))
  }
}
