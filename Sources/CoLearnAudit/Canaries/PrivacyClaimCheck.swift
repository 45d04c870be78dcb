/// A claimed differential-privacy guarantee: the upper bound an accountant (a privacy ledger) or
/// a paper states for a run, with its unit.
public struct PrivacyClaim: Sendable, Hashable, Codable {
  /// The claimed ε (∞ for no guarantee).
  public var epsilon: Double
  /// The claimed δ (0 for pure ε-DP).
  public var delta: Double
  /// What two neighbouring inputs differ in, in words ("record-level: …", "participant-level:
  /// …"): the check is meaningful only when this unit covers one canary record in or out of a
  /// participant's shard.
  public var unit: String
  /// Where the claim comes from ("the SVT ledger, basic composition", "--claimed-epsilon").
  public var source: String

  /// A claim of (`epsilon`, `delta`)-DP in `unit`, from `source`.
  ///
  /// - Throws: ``AuditError/invalidParameter(name:value:requirement:)`` for ε < 0 or NaN, or δ
  ///   outside [0, 1).
  public init(epsilon: Double, delta: Double, unit: String, source: String) throws(AuditError) {
    guard epsilon >= 0 else {
      throw .invalidParameter(
        name: "claimed ε", value: epsilon, requirement: "a number at least 0 (∞ for no claim)")
    }
    guard delta >= 0, delta < 1 else {
      throw .invalidParameter(name: "claimed δ", value: delta, requirement: "a number in [0, 1)")
    }
    self.epsilon = epsilon
    self.delta = delta
    self.unit = unit
    self.source = source
  }
}

/// An empirical ε lower bound held against a claimed upper bound (issue 22): if the canaries
/// reject the claim — the p-value of "the run is (ε_claim, δ_claim)-DP" is below β — then the
/// lower bound exceeds the claimed upper bound, which is impossible for a correct accountant and
/// mechanism: a **bug** (in the accounting, the noise, or an unaccounted path from the data to
/// what the attacker sees), up to the audit's 1 − confidence error probability.
///
/// The p-value is computed at the claim's own δ (not the audit's), so the comparison is valid
/// whatever δ the audit's headline bound used; ``lowerBound`` is the bound at that δ.
public struct PrivacyClaimCheck: Sendable, Hashable, Codable {
  public var claim: PrivacyClaim
  /// The canary outcome the claim is held against (m, r, v).
  public var canaries: Int
  public var guesses: Int
  public var correct: Int
  /// 1 − β.
  public var confidence: Double
  /// The largest ε rejected at the claim's δ: the empirical lower bound in the claim's terms.
  public var lowerBound: Double
  /// The p-value of the claim itself (1 for an infinite ε).
  public var pValueOfClaim: Double
  /// Whether the canaries reject the claim: lower bound above the claimed upper bound.
  public var violated: Bool

  /// Holds `result` (from ``CanaryAudit/run(included:guesses:)``) against `claim`, at
  /// `result`'s confidence.
  ///
  /// - Throws: ``AuditError/invalidParameter(name:value:requirement:)`` when the counts of
  ///   `result` are not 0 ≤ correct ≤ guesses ≤ canaries.
  public init(_ result: CanaryAuditResult, against claim: PrivacyClaim) throws(AuditError) {
    let audit = try CanaryAudit(delta: claim.delta, confidence: result.confidence)
    lowerBound = try audit.epsilonLowerBound(
      canaries: result.canaries, guesses: result.guesses, correct: result.correct)
    pValueOfClaim =
      claim.epsilon.isFinite
      ? audit.pValue(
        canaries: result.canaries, guesses: result.guesses, correct: result.correct,
        epsilon: claim.epsilon)
      : 1
    violated = pValueOfClaim < 1 - result.confidence
    self.claim = claim
    canaries = result.canaries
    guesses = result.guesses
    correct = result.correct
    confidence = result.confidence
  }

  /// One line for people: "consistent: ε ≥ 0.4 (lower bound) ≤ 2 (claimed)" or "BUG: …".
  public var verdict: String {
    let claimed = claim.epsilon.isFinite ? formatted(claim.epsilon) : "∞"
    if violated {
      return "BUG: the empirical lower bound ε ≥ \(formatted(lowerBound)) exceeds the claimed "
        + "ε = \(claimed) (δ = \(claim.delta), \(claim.source)); p-value of the claim "
        + "\(formatted(pValueOfClaim)) < \(formatted(1 - confidence)): the accounting, the noise "
        + "or an unaccounted path from the data is wrong"
    }
    return "consistent: the empirical lower bound ε ≥ \(formatted(lowerBound)) does not exceed "
      + "the claimed ε = \(claimed) (δ = \(claim.delta), \(claim.source))"
  }
}

/// `value` rounded to 3 decimals.
private func formatted(_ value: Double) -> String {
  String((value * 1000).rounded() / 1000)
}
