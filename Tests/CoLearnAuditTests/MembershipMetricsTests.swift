import CoLearnAudit
import CoLearnTestSupport
import Testing

/// ROC AUC and TPR at low FPR against hand-computed values and scikit-learn 1.9.1 (the values
/// printed by scripts/golden/audit-metrics.py; the sets here are the script's `SETS`).
@Suite struct MembershipMetricsTests {
  /// The script's "hand" set: 7 members, 8 non-members, ties within and across the two.
  let handMembers = [0.9, 0.8, 0.8, 0.7, 0.5, 0.5, 0.3]
  let handNonMembers = [0.8, 0.6, 0.5, 0.5, 0.4, 0.2, 0.1, 0.1]

  /// The script's "modular" set: 500 members, 2,000 non-members, many ties.
  var modular: (members: [Double], nonMembers: [Double]) {
    (
      (0..<500).map { Double(($0 * 7919) % 1009) / 8.0 },
      (0..<2000).map { Double(($0 * 104729) % 997) / 10.0 }
    )
  }

  /// By hand, counting each (member, non-member) pair as 1 when the member scores higher and ½
  /// when equal: 0.9 beats 8; each 0.8 beats 7 and ties 1 (7.5); 0.7 beats 7; each 0.5 beats
  /// 4 and ties 2 (5); 0.3 beats 3. Total 43 of 56 pairs. At FPR 0 only the threshold 0.9
  /// qualifies (0.8 already catches a non-member): TPR = 1/7.
  @Test func handComputedSetWithTies() throws {
    let metrics = try MembershipMetrics(memberScores: handMembers, nonMemberScores: handNonMembers)
    #expect(metrics.auc == 43.0 / 56.0)
    #expect(metrics.tprAtOnePercentFPR == 1.0 / 7.0)
    #expect(metrics.tprAtTenthPercentFPR == 1.0 / 7.0)
    // scikit-learn's roc_auc_score on the same scores.
    #expect(isApproximatelyEqual(metrics.auc, 0.7678571428571428, absolute: 1e-15, relative: 0))
  }

  @Test func scikitLearnGoldenOnManyTies() throws {
    let (members, nonMembers) = modular
    let metrics = try MembershipMetrics(memberScores: members, nonMemberScores: nonMembers)
    #expect(isApproximatelyEqual(metrics.auc, 0.6052155, absolute: 1e-12, relative: 0))
    #expect(metrics.tprAtOnePercentFPR == 0.218)
    #expect(metrics.tprAtTenthPercentFPR == 0.208)
    #expect(metrics.members == 500 && metrics.nonMembers == 2000)
  }

  @Test func separatedInvertedAndConstantScores() throws {
    let perfect = try MembershipMetrics(memberScores: [3, 4, 5], nonMemberScores: [0, 1, 2])
    #expect(
      perfect.auc == 1 && perfect.tprAtOnePercentFPR == 1 && perfect.tprAtTenthPercentFPR == 1)
    let inverted = try MembershipMetrics(memberScores: [0, 1, 2], nonMemberScores: [3, 4, 5])
    #expect(inverted.auc == 0 && inverted.tprAtOnePercentFPR == 0)
    // One tie block: the curve is the diagonal from (0, 0) to (1, 1).
    let constant = try MembershipMetrics(memberScores: [7, 7], nonMemberScores: [7, 7, 7])
    #expect(constant.auc == 0.5 && constant.tprAtOnePercentFPR == 0)
  }

  @Test func curveCollapsesTiesIntoOnePoint() {
    let curve = ROCCurve(memberScores: [1, 1, 0], nonMemberScores: [1, 0])
    #expect(
      curve.points == [
        ROCCurve.Point(falsePositives: 0, truePositives: 0),
        ROCCurve.Point(falsePositives: 1, truePositives: 2),
        ROCCurve.Point(falsePositives: 2, truePositives: 3),
      ])
  }

  @Test func emptyOrNonFiniteScoresAreTypedErrors() {
    #expect(throws: AuditError.noScores(what: "member")) {
      try MembershipMetrics(memberScores: [], nonMemberScores: [1])
    }
    #expect(throws: AuditError.noScores(what: "non-member")) {
      try MembershipMetrics(memberScores: [1], nonMemberScores: [])
    }
    #expect(throws: AuditError.nonFiniteScore(what: "non-member", index: 1, value: -.infinity)) {
      try MembershipMetrics(memberScores: [1], nonMemberScores: [0, -.infinity])
    }
    let nan = AuditError.nonFiniteScore(what: "member", index: 0, value: .nan)
    #expect(nan.description.contains("member score 0"))
  }
}
