/// A Rényi-DP accountant for DP-SGD: it composes Gaussian-noised steps over a fixed grid of
/// Rényi orders and converts the total to (ε, δ) (see ``epsilonFromRDP(_:orders:delta:)``).
///
/// **What ε protects.** Every guarantee is *record-level* over the dataset whose records are
/// clipped: neighbouring datasets differ in one record, in the sense of ``relation``. All
/// numbers are in units of the clipping norm: the noise multiplier σ is the noise's standard
/// deviation divided by the L2 sensitivity of the noised sum. For DP-SGD with clipping norm C and
/// noise N(0, σ²C²·I) on the sum of clipped per-example gradients, σ is the multiplier itself
/// (add/remove: sensitivity C). With the discrete Gaussian on a grid, pass
/// σ_grid / Δ_grid from ``GridGaussianNoise`` instead (its documentation says what is proven).
///
/// Two ways of forming batches are supported, each under its own neighbouring relation:
///
/// * **Poisson sampling** (``composePoissonSampled(samplingRate:noiseMultiplier:steps:)``):
///   every record joins each batch independently with probability q, so batch sizes vary
///   (binomial, mean q·n). Neighbours add or remove one record (``NeighbouringRelation/addOrRemoveOne``).
///   RDP per step: ``poissonSubsampledGaussianRDP(samplingRate:noiseMultiplier:order:)``.
/// * **Shuffling** (``composeShuffledEpochs(noiseMultiplier:epochs:)``): each epoch a uniformly
///   random permutation cuts the data into disjoint batches, so every record is used exactly once
///   per epoch. Neighbours replace one record (``NeighbouringRelation/replaceOne``; with a fixed
///   batch size, adding a record shifts every later batch boundary, so add/remove is not
///   claimed). Given the permutation (which the adversary may know), the replaced record is in
///   exactly one batch, whose clipped sum moves by at most 2C; every other step has the same
///   distribution given the past. So one epoch is (α, α·(2C)²/(2σ²C²)) = (α, 2α/σ²)-RDP by
///   adaptive composition, and the mixture over permutations cannot be worse (Rényi divergence
///   is jointly quasi-convex; van Erven & Harremoës 2014, Thm 13). No amplification by
///   shuffling is claimed — known amplification bounds for shuffled DP-SGD are not tight, and
///   charging shuffled batches as if they were Poisson-sampled is *not* sound (Chua et al.,
///   "How Private are DP-SGD Implementations?", ICML 2024). A partial epoch counts as a whole one
///   (its transcript is a prefix of a whole epoch's: post-processing).
///
/// One accountant holds one relation: mixing the two would add numbers in different units.
///
/// **Orders.** ``opacusOrders`` (the default) is Opacus 1.6's list, 1.1, 1.2, …, 10.9, 12, …, 63;
/// ``dpAccountingOrders`` is dp-accounting 0.6's, which adds 11 and 128, 256, 512, 1024. When the
/// returned optimal order is the first or the last of the list, a wider list would give a smaller
/// ε (typically at tiny ε: very large σ, very small q·steps).
///
/// Validated against Opacus 1.6 and dp-accounting 0.6 on a grid of (q, σ, steps, δ): see
/// Tests/CoLearnPrivacyTests/RDPAccountantTests.swift and scripts/golden/privacy-accountant.py.
///
/// Threading: a value type; compose on one thread at a time.
public struct RDPAccountant: Sendable, Hashable, Codable {
  /// Which datasets count as neighbours: the unit of every ε this accountant reports.
  public enum NeighbouringRelation: String, Sendable, Hashable, Codable {
    /// One record added or removed (Poisson sampling; Opacus's and dp-accounting's default).
    case addOrRemoveOne = "add-or-remove-one"
    /// One record replaced by another (shuffled batches).
    case replaceOne = "replace-one"
  }

  /// Opacus 1.6's `RDPAccountant.DEFAULT_ALPHAS`: 1.1, 1.2, …, 10.9 and 12, 13, …, 63.
  public static let opacusOrders: [Double] =
    (1..<100).map { 1 + Double($0) / 10 } + (12..<64).map(Double.init)

  /// dp-accounting 0.6's `DEFAULT_RDP_ORDERS`: 1.1, …, 10.9, 11, …, 63, 128, 256, 512, 1024.
  public static let dpAccountingOrders: [Double] =
    (1..<100).map { 1 + Double($0) / 10 } + (11..<64).map(Double.init) + [128, 256, 512, 1024]

  /// The largest noise multiplier ``noiseMultiplier(targetEpsilon:delta:samplingRate:steps:orders:relativeTolerance:)``
  /// tries (Opacus's `MAX_SIGMA`).
  public static let maximumNoiseMultiplier = 1e6

  /// The Rényi orders, each > 1.
  public let orders: [Double]
  /// The neighbouring relation of every composed step.
  public let relation: NeighbouringRelation
  /// The total RDP at each order over everything composed so far.
  public private(set) var rdp: [Double]
  /// How many steps (Poisson) or epochs (shuffled) were composed.
  public private(set) var compositions: Int = 0

  /// An empty accountant (ε = 0).
  /// - Parameters:
  ///   - orders: Rényi orders, each > 1 and finite (programmer error otherwise).
  ///   - relation: the neighbouring relation, which fixes which steps can be composed.
  public init(
    orders: [Double] = RDPAccountant.opacusOrders,
    relation: NeighbouringRelation = .addOrRemoveOne
  ) {
    precondition(!orders.isEmpty, "no Rényi orders")
    precondition(orders.allSatisfy { $0 > 1 && $0.isFinite }, "Rényi orders must be finite and > 1")
    self.orders = orders
    self.relation = relation
    rdp = [Double](repeating: 0, count: orders.count)
  }

  private enum CodingKeys: String, CodingKey { case orders, relation, rdp, compositions }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let orders = try container.decode([Double].self, forKey: .orders)
    let rdp = try container.decode([Double].self, forKey: .rdp)
    guard !orders.isEmpty, orders.allSatisfy({ $0 > 1 && $0.isFinite }), rdp.count == orders.count,
      rdp.allSatisfy({ $0 >= 0 })
    else {
      throw DecodingError.dataCorruptedError(
        forKey: .rdp, in: container,
        debugDescription:
          "an RDP accountant needs finite orders > 1 and one RDP value ≥ 0 per order")
    }
    self.orders = orders
    self.rdp = rdp
    relation = try container.decode(NeighbouringRelation.self, forKey: .relation)
    compositions = try container.decode(Int.self, forKey: .compositions)
    guard compositions >= 0 else {
      throw DecodingError.dataCorruptedError(
        forKey: .compositions, in: container, debugDescription: "a negative number of compositions")
    }
  }

  // MARK: - Composition

  /// Composes `steps` steps of the Poisson-subsampled Gaussian mechanism (rate q, noise
  /// multiplier σ), adaptively: adds steps·ρ_step(α) at every order.
  ///
  /// - Throws: ``PrivacyError/invalidAccountingParameter(name:value:requirement:)`` for q outside
  ///   [0, 1], σ negative or not finite, or negative steps;
  ///   ``PrivacyError/accountingRelationMismatch(accountant:mechanism:)`` unless the accountant
  ///   is ``NeighbouringRelation/addOrRemoveOne``.
  /// - Complexity: O(Σ orders), independent of `steps`.
  public mutating func composePoissonSampled(
    samplingRate q: Double, noiseMultiplier sigma: Double, steps: Int
  ) throws(PrivacyError) {
    try Self.validate(samplingRate: q, noiseMultiplier: sigma, steps: steps)
    guard relation == .addOrRemoveOne else {
      throw .accountingRelationMismatch(
        accountant: relation.rawValue, mechanism: "Poisson sampling")
    }
    guard steps > 0 else { return }
    for (index, alpha) in orders.enumerated() {
      let perStep = poissonSubsampledGaussianRDP(
        samplingRate: q, noiseMultiplier: sigma, order: alpha)
      rdp[index] += perStep == 0 ? 0 : Double(steps) * perStep
    }
    compositions += steps
  }

  /// Composes `epochs` epochs of shuffled (disjoint, uniformly permuted) batches with Gaussian
  /// noise of multiplier σ on each batch's clipped sum: 2α/σ² per epoch under replace-one (see
  /// the type's documentation), +∞ for σ = 0.
  ///
  /// - Throws: ``PrivacyError/invalidAccountingParameter(name:value:requirement:)`` for σ negative
  ///   or not finite, or negative epochs; ``PrivacyError/accountingRelationMismatch(accountant:mechanism:)``
  ///   unless the accountant is ``NeighbouringRelation/replaceOne``.
  public mutating func composeShuffledEpochs(noiseMultiplier sigma: Double, epochs: Int)
    throws(PrivacyError)
  {
    try Self.validate(samplingRate: 1, noiseMultiplier: sigma, steps: epochs)
    guard relation == .replaceOne else {
      throw .accountingRelationMismatch(
        accountant: relation.rawValue, mechanism: "shuffled batches")
    }
    guard epochs > 0 else { return }
    for (index, alpha) in orders.enumerated() {
      rdp[index] += sigma == 0 ? .infinity : Double(epochs) * 2 * alpha / (sigma * sigma)
    }
    compositions += epochs
  }

  // MARK: - Conversion

  /// The (ε, δ) guarantee of everything composed so far (0 when nothing was).
  /// - Throws: ``PrivacyError/invalidAccountingParameter(name:value:requirement:)`` unless δ is in (0, 1).
  public func epsilon(delta: Double) throws(PrivacyError) -> RDPGuarantee {
    guard delta > 0 && delta < 1 else {
      throw .invalidAccountingParameter(name: "δ", value: delta, requirement: "in (0, 1)")
    }
    return epsilonFromRDP(rdp, orders: orders, delta: delta)
  }

  // MARK: - Calibration

  /// The smallest noise multiplier σ (to `relativeTolerance`) whose Poisson-sampled run of
  /// `steps` steps at rate q is (ε, δ)-DP with ε ≤ `targetEpsilon` — Opacus's
  /// `get_noise_multiplier`, but bisected on σ to a relative tolerance instead of stopping within
  /// 0.01 of the target ε, so the result is never more than `relativeTolerance` above the exact
  /// root. The returned σ always satisfies the target (it is the upper end of the bracket).
  ///
  /// ε is non-increasing in σ at every order, so bisection is valid. q = 0 or no steps need no
  /// noise: σ = 0.
  ///
  /// - Throws: ``PrivacyError/invalidAccountingParameter(name:value:requirement:)`` for a target
  ///   ε that is not finite and > 0, δ outside (0, 1), q outside [0, 1], negative steps or a
  ///   tolerance outside (0, 0.1]; ``PrivacyError/noiseMultiplierUnreachable(targetEpsilon:delta:samplingRate:steps:maximum:)``
  ///   when even σ = ``maximumNoiseMultiplier`` does not reach the target.
  /// - Complexity: about log₂(max(σ, 1)) + log₂(1/tolerance) evaluations of ε, each O(orders).
  public static func noiseMultiplier(
    targetEpsilon: Double, delta: Double, samplingRate q: Double, steps: Int,
    orders: [Double] = opacusOrders, relativeTolerance: Double = 1e-6
  ) throws(PrivacyError) -> Double {
    guard targetEpsilon.isFinite && targetEpsilon > 0 else {
      throw .invalidAccountingParameter(
        name: "target ε", value: targetEpsilon, requirement: "finite and > 0")
    }
    guard delta > 0 && delta < 1 else {
      throw .invalidAccountingParameter(name: "δ", value: delta, requirement: "in (0, 1)")
    }
    guard relativeTolerance > 0 && relativeTolerance <= 0.1 else {
      throw .invalidAccountingParameter(
        name: "relative tolerance", value: relativeTolerance, requirement: "in (0, 0.1]")
    }
    try validate(samplingRate: q, noiseMultiplier: 0, steps: steps)
    if q == 0 || steps == 0 { return 0 }

    func epsilon(_ sigma: Double) -> Double {
      var accountant = RDPAccountant(orders: orders)
      for (index, alpha) in orders.enumerated() {
        accountant.rdp[index] =
          Double(steps)
          * poissonSubsampledGaussianRDP(samplingRate: q, noiseMultiplier: sigma, order: alpha)
      }
      return epsilonFromRDP(accountant.rdp, orders: orders, delta: delta).epsilon
    }

    var low = 0.0
    var high = 1.0
    while epsilon(high) > targetEpsilon {
      low = high
      high *= 2
      if high > maximumNoiseMultiplier {
        throw .noiseMultiplierUnreachable(
          targetEpsilon: targetEpsilon, delta: delta, samplingRate: q, steps: steps,
          maximum: maximumNoiseMultiplier)
      }
    }
    while high - low > relativeTolerance * high {
      let middle = (low + high) / 2
      if epsilon(middle) <= targetEpsilon { high = middle } else { low = middle }
    }
    return high
  }

  private static func validate(samplingRate q: Double, noiseMultiplier sigma: Double, steps: Int)
    throws(PrivacyError)
  {
    guard q >= 0 && q <= 1 else {
      throw .invalidAccountingParameter(name: "sampling rate q", value: q, requirement: "in [0, 1]")
    }
    guard sigma >= 0 && sigma.isFinite else {
      throw .invalidAccountingParameter(
        name: "noise multiplier σ", value: sigma, requirement: "finite and ≥ 0")
    }
    guard steps >= 0 else {
      throw .invalidAccountingParameter(name: "steps", value: Double(steps), requirement: "≥ 0")
    }
  }
}
