/// The ROC curve of member against non-member scores: one point per distinct score, from
/// (0, 0) at t = +∞ to (1, 1) at the smallest score. See ``MembershipMetrics`` for the
/// convention. Counts are kept as integers so that the curve is exact.
public struct ROCCurve: Sendable, Hashable {
  /// One point of the curve, as counts.
  public struct Point: Sendable, Hashable {
    /// Non-members scored at least the threshold.
    public var falsePositives: Int
    /// Members scored at least the threshold.
    public var truePositives: Int

    /// A point from its counts.
    public init(falsePositives: Int, truePositives: Int) {
      self.falsePositives = falsePositives
      self.truePositives = truePositives
    }
  }

  /// (non-members with score ≥ t, members with score ≥ t) for each threshold t, in decreasing
  /// t, starting with (0, 0).
  public let points: [Point]
  /// n₁.
  public let members: Int
  /// n₀.
  public let nonMembers: Int

  /// The curve of two non-empty sets of finite scores.
  public init(memberScores: [Double], nonMemberScores: [Double]) {
    precondition(!memberScores.isEmpty && !nonMemberScores.isEmpty, "ROC of an empty set")
    let labelled =
      (memberScores.map { ($0, true) } + nonMemberScores.map { ($0, false) })
      .sorted { $0.0 > $1.0 }
    var points = [Point(falsePositives: 0, truePositives: 0)]
    var fp = 0
    var tp = 0
    var index = 0
    while index < labelled.count {
      let score = labelled[index].0
      while index < labelled.count, labelled[index].0 == score {
        if labelled[index].1 { tp += 1 } else { fp += 1 }
        index += 1
      }
      points.append(Point(falsePositives: fp, truePositives: tp))
    }
    self.points = points
    members = memberScores.count
    nonMembers = nonMemberScores.count
  }

  /// The trapezoidal area under the curve; a tie block is a diagonal segment, which is what
  /// counts a tied (member, non-member) pair as ½.
  public var area: Double {
    var twiceArea = 0  // Σ Δfp · (tp_before + tp_after), exact in integers
    for (before, after) in zip(points, points.dropFirst()) {
      twiceArea +=
        (after.falsePositives - before.falsePositives)
        * (after.truePositives + before.truePositives)
    }
    return Double(twiceArea) / (2 * Double(members) * Double(nonMembers))
  }

  /// The largest TPR over the thresholds whose FPR is at most `rate` (0 when only t = +∞
  /// qualifies).
  public func truePositiveRate(atFalsePositiveRate rate: Double) -> Double {
    var best = 0
    for point in points where Double(point.falsePositives) / Double(nonMembers) <= rate {
      best = max(best, point.truePositives)
    }
    return Double(best) / Double(members)
  }
}
