/// What can go wrong in CoLearnPrivacy. Each message says what to do about it.
///
/// Programmer errors (a count outside 1...|w|, a non-positive ε passed to a mechanism) are
/// preconditions instead: configuration is validated where it is built.
public enum PrivacyError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The operating system's secure random generator could not be read: `getrandom(2)` failed
  /// (errno `getrandomErrno`, nil when the call is not available) and so did reading the device
  /// (`devicePath`, errno `deviceErrno`). No noise — and so no private upload — can be made.
  case secureRandomUnavailable(getrandomErrno: Int32?, devicePath: String, deviceErrno: Int32)
  /// A total privacy budget that is not a finite ε > 0.
  case invalidBudget(epsilon: Double)
  /// The exact exponential mechanism would need more than `limit` proposals in the worst case
  /// for this ε, c and |w| (see ``ExponentialMechanism``).
  case selectionTooCostly(worstCaseProposals: Double, limit: Double)

  public var description: String {
    switch self {
    case .secureRandomUnavailable(let getrandomErrno, let path, let deviceErrno):
      let first = getrandomErrno.map { "getrandom failed with errno \($0)" }
        ?? "getrandom is not available"
      return "cannot read secure randomness: \(first), and reading \(path) failed with errno "
        + "\(deviceErrno); make \(path) readable (container or sandbox settings) — private "
        + "uploads need it"
    case .invalidBudget(let epsilon):
      return "privacy budget ε = \(epsilon) must be a finite number above 0"
    case .selectionTooCostly(let proposals, let limit):
      return "the exact exponential mechanism could need \(proposals) proposals (limit \(limit)) "
        + "at this ε/c; use a smaller ε per epoch or the sparse vector technique"
    }
  }
}
