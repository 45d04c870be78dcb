/// What one participant has spent on privacy, epoch by epoch, with an optional total budget
/// after which it stops uploading (SPEC §8, accounting). A value type, `Codable` so that it can
/// be written to a run's JSON.
///
/// **How charging works.** An epoch is opened with its budget ε and capacity c
/// (``beginEpoch(epsilon:capacity:)``) before the mechanism runs, and from then on the epoch
/// counts as ε spent in every total: the selection mechanisms guarantee ε for the whole epoch,
/// and the sparse vector technique consumes its threshold budget even when nothing gets
/// uploaded. Uploads are charged ε/c each (``chargeUpload()``, the paper's accounting), and that
/// sum is reported beside the real one, named apart: ``uploadCharges`` ≤ ``spentEpsilon``, equal
/// only when every epoch used all c uploads.
///
/// **Totals.** Every epoch is a pure ε-DP mechanism, so basic composition gives
/// (Σε, 0) (``basicTotal``); advanced composition over the k epochs gives, for a δ′ of the
/// user's choice, (√(2k·ln(1/δ′))·ε + k·ε·(e^ε − 1), δ′) with ε the largest epoch budget — exact
/// when all epochs share one ε, as in SPEC §8, and a valid upper bound otherwise
/// (``advancedTotal(deltaPrime:)``); ``bestTotal(deltaPrime:)`` is the tighter of the two.
///
/// Threading: a value; one participant owns it.
public struct PrivacyLedger: Sendable, Hashable, Codable {
  /// One epoch in which a mechanism ran.
  public struct Epoch: Sendable, Hashable, Codable {
    /// The epoch's budget, spent in full.
    public var epsilon: Double
    /// The most uploads of the epoch, c.
    public var capacity: Int
    /// The uploads charged so far.
    public var uploads: Int

    /// The paper's charge per upload, ε/c.
    public var epsilonPerUpload: Double { epsilon / Double(capacity) }
    /// The paper's accounting for the epoch, uploads·ε/c (≤ ``epsilon``).
    public var epsilonChargedByUploads: Double { Double(uploads) * epsilonPerUpload }
  }

  /// Why a participant stopped uploading.
  public enum StopReason: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The next epoch's ε would have taken the total (basic composition) past the budget.
    case budgetExhausted(spent: Double, nextEpoch: Double, budget: Double)

    public var description: String {
      switch self {
      case .budgetExhausted(let spent, let next, let budget):
        return "privacy budget reached: spent ε = \(spent), the next epoch needs \(next), "
          + "budget \(budget)"
      }
    }
  }

  /// The total budget, if any.
  public let budget: PrivacyBudget?
  /// Every epoch in which a mechanism ran, in order; the last is still open when ``isEpochOpen``.
  public private(set) var epochs: [Epoch] = []
  /// Whether the last epoch is still taking upload charges.
  public private(set) var isEpochOpen = false
  /// Set when the budget stopped the participant; no epoch begins after that.
  public private(set) var stopReason: StopReason?

  /// An empty ledger, with an optional total budget.
  public init(budget: PrivacyBudget? = nil) {
    self.budget = budget
  }

  // MARK: - Charging

  /// Whether an epoch of budget `nextEpochEpsilon` fits: the participant has not stopped, and
  /// ``spentEpsilon`` + `nextEpochEpsilon` is within the budget (always, without one).
  public func canAfford(nextEpochEpsilon: Double) -> Bool {
    guard stopReason == nil else { return false }
    guard let budget else { return true }
    return budget.allows(spent: spentEpsilon, next: nextEpochEpsilon)
  }

  /// Opens an epoch of budget ε and capacity c, charging ε, if the budget allows it; call it
  /// before running the mechanism. When it does not, records the stop reason and returns false:
  /// the participant must not run the mechanism (nor upload) any more.
  ///
  /// - Returns: whether the epoch was opened.
  public mutating func beginEpoch(epsilon: Double, capacity: Int) -> Bool {
    precondition(!isEpochOpen, "beginEpoch while epoch \(epochs.count) is open")
    precondition(epsilon.isFinite && epsilon > 0, "epoch ε = \(epsilon) must be above 0")
    precondition(capacity >= 1, "capacity c = \(capacity) must be at least 1")
    guard stopReason == nil else { return false }
    guard canAfford(nextEpochEpsilon: epsilon) else {
      stopReason = .budgetExhausted(
        spent: spentEpsilon, nextEpoch: epsilon, budget: budget?.totalEpsilon ?? .infinity)
      return false
    }
    epochs.append(Epoch(epsilon: epsilon, capacity: capacity, uploads: 0))
    isEpochOpen = true
    return true
  }

  /// Charges one upload, ε/c, to the open epoch (at most c per epoch).
  public mutating func chargeUpload() {
    precondition(isEpochOpen, "chargeUpload with no open epoch")
    let last = epochs.count - 1
    precondition(epochs[last].uploads < epochs[last].capacity, "more than c uploads in an epoch")
    epochs[last].uploads += 1
  }

  /// Closes the open epoch.
  public mutating func closeEpoch() {
    precondition(isEpochOpen, "closeEpoch with no open epoch")
    isEpochOpen = false
  }

  /// Charges the uploads of a mechanism run (which must match the open epoch's ε and c) and
  /// closes the epoch.
  public mutating func record(_ report: SelectionReport) {
    precondition(isEpochOpen, "record with no open epoch: call beginEpoch before the mechanism")
    let epoch = epochs[epochs.count - 1]
    precondition(
      report.epsilon == epoch.epsilon && report.capacity == epoch.capacity,
      "report (ε = \(report.epsilon), c = \(report.capacity)) does not match the open epoch "
        + "(ε = \(epoch.epsilon), c = \(epoch.capacity))")
    for _ in 0..<report.uploads { chargeUpload() }
    closeEpoch()
  }

  // MARK: - Totals

  /// Uploads over all epochs.
  public var uploads: Int { epochs.reduce(0) { $0 + $1.uploads } }

  /// The ε spent: Σ over every epoch that ran (basic composition), the open one included.
  public var spentEpsilon: Double { epochs.reduce(0) { $0 + $1.epsilon } }

  /// The paper's accounting, Σ uploads·ε/c (≤ ``spentEpsilon``): not a privacy guarantee.
  public var uploadCharges: Double { epochs.reduce(0) { $0 + $1.epsilonChargedByUploads } }

  /// Basic composition over the epochs: (``spentEpsilon``, 0).
  public var basicTotal: PrivacyGuarantee { PrivacyGuarantee(epsilon: spentEpsilon, delta: 0) }

  /// Advanced composition over the epochs for δ′ in (0, 1), with ε the largest epoch budget.
  public func advancedTotal(deltaPrime: Double) -> PrivacyGuarantee {
    let largest = epochs.map(\.epsilon).max() ?? 0
    return advancedComposition(epsilon: largest, count: epochs.count, deltaPrime: deltaPrime)
  }

  /// The tighter of ``basicTotal`` and ``advancedTotal(deltaPrime:)`` (the smaller ε, with its δ).
  public func bestTotal(deltaPrime: Double) -> PrivacyGuarantee {
    let advanced = advancedTotal(deltaPrime: deltaPrime)
    return basicTotal.epsilon <= advanced.epsilon ? basicTotal : advanced
  }
}
