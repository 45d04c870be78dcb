#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import CoLearnNN

/// Membership inference with reference models: the offline likelihood-ratio attack (LiRA,
/// Carlini, Chien, Nasr, Song, Terzis & Tramèr, "Membership inference attacks from first
/// principles", IEEE S&P 2022, §VI-C "offline").
///
/// **What the attacker is assumed to know**: black-box access to the final model's output
/// probabilities; the candidate record with its true label; the training recipe (architecture,
/// optimiser, epochs — to train look-alike models); and records from the same distribution,
/// disjoint from every candidate, to train K reference models on. It never needs a model trained
/// *with* the candidate (that is the online variant). Nothing about the target's other training
/// data.
///
/// Per record (x, y) the statistic is the logit-scaled confidence φ = log p(y|x) − log(1 − p(y|x)),
/// which is close to Gaussian across models. The reference models give φ's distribution when x
/// was not trained on, N(μ_out(x), σ²_out); the score is the one-sided z = (φ_target − μ_out)/σ_out,
/// a monotone transform of the likelihood ratio test's p-value, so its ROC is the attack's. With
/// few reference models the per-record variance is noisy, so σ²_out is pooled over all scored
/// records unless `perRecordVariance` is set (Carlini et al. use the global variance below 64
/// models). Compared with the loss threshold (``LossThresholdAttack``) it calibrates each record's
/// difficulty: an easy record has a high confidence whether or not it was trained on.
///
/// Threading: uses `network`'s workspaces, so it belongs to the network's thread.
public struct ReferenceModelAttack {
  /// The network every model runs on.
  public let network: Network
  /// The final model's flat parameter vector.
  public let target: [Float]
  /// The reference models, trained without any candidate record.
  public let references: [[Float]]
  /// Use each record's own variance over the reference models instead of the pooled one (needs
  /// at least 2 references; sound with many).
  public let perRecordVariance: Bool

  /// An attack on `target` of `network` with `references` (at least one).
  ///
  /// - Throws: ``AuditError/invalidParameter(name:value:requirement:)`` with no reference model,
  ///   or with `perRecordVariance` and fewer than 2.
  public init(
    network: Network, target: [Float], references: [[Float]], perRecordVariance: Bool = false
  ) throws(AuditError) {
    precondition(target.count == network.parameterCount, "target does not fit the network")
    precondition(
      references.allSatisfy { $0.count == network.parameterCount },
      "a reference model does not fit the network")
    guard !references.isEmpty else {
      throw .invalidParameter(
        name: "reference models", value: 0, requirement: "at least 1 (trained on disjoint data)")
    }
    guard !perRecordVariance || references.count >= 2 else {
      throw .invalidParameter(
        name: "reference models", value: Double(references.count),
        requirement: "at least 2 for a per-record variance")
    }
    self.network = network
    self.target = target
    self.references = references
    self.perRecordVariance = perRecordVariance
  }

  /// φ = log p − log(1 − p) of every record under `parameters`, from the network's log
  /// probabilities (computed in log space: log(1 − p) = log1p(−p) or log(−expm1(log p))).
  public func logitConfidences(_ parameters: [Float], on samples: LabeledSamples) -> [Double] {
    LossThresholdAttack(network: network, parameters: parameters).scores(samples).map { logP in
      let logP = min(logP, 0)
      let logNotP = logP < -0.6931471805599453 ? log1p(-exp(logP)) : log(-expm1(logP))
      // p = 1 to the last bit: cap at the largest finite gap rather than +∞.
      return logP - max(logNotP, -745)
    }
  }

  /// The membership score of every record of `samples` (higher means more likely a member).
  ///
  /// - Complexity: one forward pass over `samples` per model.
  public func scores(_ samples: LabeledSamples) -> [Double] {
    let count = samples.count
    guard count > 0 else { return [] }
    let observed = logitConfidences(target, on: samples)
    let out = references.map { logitConfidences($0, on: samples) }
    let k = Double(out.count)
    var means = [Double](repeating: 0, count: count)
    var variances = [Double](repeating: 0, count: count)
    for record in 0..<count {
      let mean = out.reduce(0) { $0 + $1[record] } / k
      means[record] = mean
      variances[record] = out.reduce(0) { $0 + ($1[record] - mean) * ($1[record] - mean) }
    }
    let pooled = max(variances.reduce(0, +) / max(Double(count) * (k - 1), 1), 1e-6)
    return (0..<count).map { record in
      let variance =
        perRecordVariance ? max(variances[record] / (k - 1), 1e-6) : pooled
      return (observed[record] - means[record]) / variance.squareRoot()
    }
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
