/// How well a membership score separates members from non-members: the area under the ROC
/// curve and the true-positive rate at low false-positive rates (Carlini et al. 2022, "Membership
/// inference attacks from first principles", argue the latter is what matters).
///
/// Convention: a higher score means "more likely a member"; the attacker says "member" when the
/// score is at least a threshold t. At threshold t, TPR(t) = #{members with score ≥ t} / n₁ and
/// FPR(t) = #{non-members with score ≥ t} / n₀, over every distinct score t (equal scores
/// are one threshold: ties are never split) and t = +∞ (the point (0, 0)).
public struct MembershipMetrics: Sendable, Hashable, Codable {
  /// The area under the ROC curve: P(member score > non-member score) + ½·P(equal), the
  /// Mann–Whitney statistic (what scikit-learn's `roc_auc_score` computes). 0.5 is chance.
  public var auc: Double
  /// The largest TPR(t) over the thresholds with FPR(t) ≤ 1%.
  public var tprAtOnePercentFPR: Double
  /// The largest TPR(t) over the thresholds with FPR(t) ≤ 0.1%.
  public var tprAtTenthPercentFPR: Double
  /// n₁, the number of member scores.
  public var members: Int
  /// n₀, the number of non-member scores.
  public var nonMembers: Int

  /// The metrics of `memberScores` against `nonMemberScores`.
  ///
  /// - Complexity: O(n log n) for n = n₁ + n₀ (one sort).
  /// - Throws: ``AuditError/noScores(what:)`` when either set is empty,
  ///   ``AuditError/nonFiniteScore(what:index:value:)`` for a NaN or infinite score.
  public init(memberScores: [Double], nonMemberScores: [Double]) throws(AuditError) {
    try Self.check(memberScores, what: "member")
    try Self.check(nonMemberScores, what: "non-member")
    let curve = ROCCurve(memberScores: memberScores, nonMemberScores: nonMemberScores)
    auc = curve.area
    tprAtOnePercentFPR = curve.truePositiveRate(atFalsePositiveRate: 0.01)
    tprAtTenthPercentFPR = curve.truePositiveRate(atFalsePositiveRate: 0.001)
    members = memberScores.count
    nonMembers = nonMemberScores.count
  }

  private static func check(_ scores: [Double], what: String) throws(AuditError) {
    guard !scores.isEmpty else { throw .noScores(what: what) }
    if let index = scores.firstIndex(where: { !$0.isFinite }) {
      throw .nonFiniteScore(what: what, index: index, value: scores[index])
    }
  }
}
