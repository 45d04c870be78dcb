/// What can go wrong in CoLearnAudit. Each message names the bad value and says what to do.
///
/// Programmer errors (a parameter vector of the wrong length for its network) are
/// preconditions instead.
public enum AuditError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A membership metric needs at least one score of each kind: `what` ("member" or
  /// "non-member") had none.
  case noScores(what: String)
  /// The score at `index` of the `what` scores is NaN or infinite.
  case nonFiniteScore(what: String, index: Int, value: Double)
  /// A setting outside its domain: `name` = `value` must be `requirement`.
  case invalidParameter(name: String, value: Double, requirement: String)
  /// Two inputs that must have the same length do not: `what` has `count`, `expected` wanted.
  case lengthMismatch(what: String, count: Int, expected: Int)

  public var description: String {
    switch self {
    case .noScores(let what):
      return "no \(what) scores: an attack needs at least one \(what) record to score; "
        + "give it a non-empty \(what) set"
    case .nonFiniteScore(let what, let index, let value):
      return "\(what) score \(index) is \(value): attack scores must be finite numbers "
        + "(a diverged model gives NaN losses; audit a model that trained)"
    case .invalidParameter(let name, let value, let requirement):
      return "invalid \(name) \(value): expected \(requirement)"
    case .lengthMismatch(let what, let count, let expected):
      return "\(what) has \(count) values, expected \(expected)"
    }
  }
}
