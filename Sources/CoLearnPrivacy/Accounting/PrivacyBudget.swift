/// A participant's total privacy budget over a run: the largest total ε (basic composition over
/// epochs) it agrees to spend. Once the next epoch would exceed it, the participant stops
/// uploading (SPEC §8, accounting).
public struct PrivacyBudget: Sendable, Hashable, Codable {
  /// The relative slack that absorbs rounding in sums of ε (30 × 0.1 is 3.0000000000000004 in
  /// binary floating point, and must still fit a budget of 3).
  public static let relativeSlack = 1e-12

  /// The total ε.
  public let totalEpsilon: Double

  /// A budget of `totalEpsilon`.
  /// - Throws: ``PrivacyError/invalidBudget(epsilon:)`` unless it is finite and above 0.
  public init(totalEpsilon: Double) throws(PrivacyError) {
    guard totalEpsilon.isFinite && totalEpsilon > 0 else {
      throw .invalidBudget(epsilon: totalEpsilon)
    }
    self.totalEpsilon = totalEpsilon
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(totalEpsilon: container.decode(Double.self, forKey: .totalEpsilon))
  }

  /// Whether spending `next` after `spent` stays within the budget: spent + next ≤ total
  /// (up to ``relativeSlack``).
  public func allows(spent: Double, next: Double) -> Bool {
    spent + next <= totalEpsilon * (1 + Self.relativeSlack)
  }
}
