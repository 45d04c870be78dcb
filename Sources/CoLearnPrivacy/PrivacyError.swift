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
  /// A privacy-accounting parameter outside its domain: `name` = `value` must be `requirement`.
  case invalidAccountingParameter(name: String, value: Double, requirement: String)
  /// No noise multiplier up to `maximum` makes `steps` Poisson-sampled steps at rate
  /// `samplingRate` (ε, δ)-DP with ε ≤ `targetEpsilon`.
  case noiseMultiplierUnreachable(
    targetEpsilon: Double, delta: Double, samplingRate: Double, steps: Int, maximum: Double)
  /// A mechanism composed into an ``RDPAccountant`` whose neighbouring relation
  /// (`accountant`) is not the one the mechanism's analysis holds under.
  case accountingRelationMismatch(accountant: String, mechanism: String)
  /// Discrete Gaussian noise of standard deviation `standardDeviation` on a grid of step
  /// `granularity` would need σ/g grid units outside what the exact sampler supports.
  case noiseOutOfRange(standardDeviation: Double, granularity: Double)

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
    case .invalidAccountingParameter(let name, let value, let requirement):
      return "privacy accounting: \(name) = \(value) must be \(requirement)"
    case .noiseMultiplierUnreachable(let epsilon, let delta, let q, let steps, let maximum):
      return "no noise multiplier up to \(maximum) reaches ε = \(epsilon) at δ = \(delta) over "
        + "\(steps) steps with sampling rate \(q); raise the target ε or δ, or train fewer steps "
        + "or with a smaller sampling rate"
    case .accountingRelationMismatch(let accountant, let mechanism):
      return "an RDP accountant for \(accountant) neighbours cannot charge \(mechanism), whose "
        + "guarantee holds under another neighbouring relation; use a separate accountant "
        + "created with the matching relation"
    case .noiseOutOfRange(let sigma, let g):
      return "discrete Gaussian noise σ = \(sigma) on a grid of step \(g) is \(sigma / g) grid "
        + "units; the exact sampler supports 1/32 up to at least 4 million: choose a finer grid for "
        + "small σ or a coarser one for large σ"
    }
  }
}
