import CoLearnPrivacy
import Foundation
import Testing

/// The golden fixture written by scripts/golden/privacy-accountant.py (Opacus 1.6.0 and
/// dp-accounting 0.6.0; see the script for what each field is).
private struct AccountantFixture: Decodable {
  struct Case: Decodable {
    var q: Double
    var sigma: Double
    var steps: Int
    var delta: Double
    var opacusEpsilon: Double
    var opacusOrder: Double
    var dpAccountingEpsilon: Double
    var dpAccountingOrder: Double
    var dpAccountingExcludedOrders: [Double]
    var dpAccountingDefaultOrdersEpsilon: Double
    var dpAccountingIntegerOrdersEpsilon: Double
    var dpAccountingSignedSeriesEpsilon: Double
  }
  struct Curve: Decodable {
    var q: Double
    var sigma: Double
    var orders: [Double]
    var rdp: [Double]
  }
  struct Calibration: Decodable {
    var targetEpsilon: Double
    var delta: Double
    var q: Double
    var steps: Int
    var opacusSigma: Double
    var opacusSigmaFine: Double
  }
  var opacusOrders: [Double]
  var dpAccountingOrders: [Double]
  var integerOrders: [Double]
  var cases: [Case]
  var rdpCurves: [Curve]
  var calibrations: [Calibration]

  static let shared: AccountantFixture = {
    let url = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/privacy/rdp_accountant.json")
    // A missing or corrupt fixture is a broken checkout: fail loudly.
    // swiftlint:disable:next force_try
    return try! JSONDecoder().decode(AccountantFixture.self, from: Data(contentsOf: url))
  }()
}

/// ε of `steps` Poisson-sampled steps, with the orders in `excluded` given RDP = +∞ (as
/// dp-accounting does for orders whose series it could not sum in 1000 terms).
private func epsilon(
  q: Double, sigma: Double, steps: Int, delta: Double, orders: [Double], excluded: [Double] = []
) throws -> RDPGuarantee {
  var accountant = RDPAccountant(orders: orders)
  try accountant.composePoissonSampled(samplingRate: q, noiseMultiplier: sigma, steps: steps)
  let rdp = zip(orders, accountant.rdp).map { excluded.contains($0) ? Double.infinity : $1 }
  return epsilonFromRDP(rdp, orders: orders, delta: delta)
}

private func relativeError(_ x: Double, _ reference: Double) -> Double {
  abs(x - reference) / reference
}

@Suite struct RDPAccountantTests {
  @Test func orderListsAreTheReferences() {
    let fixture = AccountantFixture.shared
    #expect(RDPAccountant.opacusOrders == fixture.opacusOrders)
    #expect(RDPAccountant.dpAccountingOrders == fixture.dpAccountingOrders)
  }

  /// 120 cases, q ∈ {0.001, 0.01, 0.1, 1}, σ ∈ {0.5, 0.8, 1.1, 2, 5}, steps ∈ {1, 100, 10⁴},
  /// δ ∈ {10⁻⁵, 10⁻⁶}, ε from 0.10 to 22135. Required: 1% (issue 21); measured: below 10⁻⁹
  /// (both sum the same series in double precision), so 10⁻⁶ is asserted to catch regressions.
  @Test func agreesWithOpacus() throws {
    var worst = 0.0
    for c in AccountantFixture.shared.cases {
      let ours = try epsilon(
        q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta, orders: RDPAccountant.opacusOrders)
      let error = relativeError(ours.epsilon, c.opacusEpsilon)
      worst = max(worst, error)
      #expect(
        error < 1e-6,
        "q \(c.q) σ \(c.sigma) steps \(c.steps) δ \(c.delta): \(ours.epsilon) vs Opacus \(c.opacusEpsilon)"
      )
      #expect(ours.order == c.opacusOrder)
    }
    print("RDPAccountant vs Opacus 1.6: max relative error \(worst)")
  }

  /// On the integer orders alone (2…10, 12…63) both references sum the same finite binomial
  /// expansion: colearn agrees with dp-accounting to 10⁻⁶ (measured: rounding only).
  @Test func agreesWithDPAccountingOnIntegerOrders() throws {
    let orders = AccountantFixture.shared.integerOrders
    for c in AccountantFixture.shared.cases {
      let ours = try epsilon(q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta, orders: orders)
      #expect(
        relativeError(ours.epsilon, c.dpAccountingIntegerOrdersEpsilon) < 1e-6,
        "q \(c.q) σ \(c.sigma) steps \(c.steps) δ \(c.delta): \(ours.epsilon) vs \(c.dpAccountingIntegerOrdersEpsilon)"
      )
    }
  }

  /// dp-accounting with its fractional-order series patched to signed coefficients and 10⁵ terms
  /// (scripts/golden/privacy-accountant.py, `signed_log_a_frac`) agrees with colearn on all 120
  /// cases to 10⁻⁶ (measured: 2·10⁻¹¹): the two differences below are the whole difference.
  @Test func agreesWithDPAccountingWithASignedSeries() throws {
    var worst = 0.0
    defer {
      print("RDPAccountant vs dp-accounting 0.6 with a signed series: max relative error \(worst)")
    }
    for c in AccountantFixture.shared.cases {
      let ours = try epsilon(
        q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta, orders: RDPAccountant.opacusOrders)
      worst = max(worst, relativeError(ours.epsilon, c.dpAccountingSignedSeriesEpsilon))
      #expect(
        relativeError(ours.epsilon, c.dpAccountingSignedSeriesEpsilon) < 1e-6,
        "q \(c.q) σ \(c.sigma) steps \(c.steps) δ \(c.delta): \(ours.epsilon) vs \(c.dpAccountingSignedSeriesEpsilon)"
      )
    }
  }

  /// The cases where dp-accounting's ε is more than 1% above colearn's (and Opacus's), with the
  /// same orders excluded: q = 0.01 with σ = 0.5, and q = 0.1 with σ ≤ 1.1, all at 10⁴ steps
  /// (ε from 47 to 2231, both δ). Their optimal orders are fractional and small (1.4–1.7), where
  /// dp-accounting sums |C(α, i)| in the series of MTZ §3.3 instead of the signed coefficients: for
  /// small α the alternating tail decays only polynomially, so the absolute sum is a visibly
  /// looser upper bound (up to 22% in ε here). Opacus sums the signed series, as colearn does,
  /// and agrees to 10⁻⁶ (``agreesWithOpacus()``).
  static let looserInDPAccounting: Set<[Double]> = [
    [0.01, 0.5, 10000], [0.1, 0.5, 10000], [0.1, 0.8, 10000], [0.1, 1.1, 10000],
  ]

  /// dp-accounting against colearn on its full order lists (Opacus's, and its own default with
  /// 11 and 128…1024). Besides the signed/absolute difference above, dp-accounting gives up on a
  /// fractional order after 1000 terms and excludes it (q = 0.1 with σ ≤ 1.1 at orders up to 1.6;
  /// colearn sums up to 10⁵ terms), so those orders are excluded here too. Then colearn agrees
  /// within 1% except for ``looserInDPAccounting``, and is never above dp-accounting at all.
  @Test func agreesWithDPAccountingOnTheSameOrders() throws {
    var worst = 0.0
    var looser = Set<[Double]>()
    for c in AccountantFixture.shared.cases {
      for (orders, reference) in [
        (RDPAccountant.opacusOrders, c.dpAccountingEpsilon),
        (RDPAccountant.dpAccountingOrders, c.dpAccountingDefaultOrdersEpsilon),
      ] {
        let label = "q \(c.q) σ \(c.sigma) steps \(c.steps) δ \(c.delta), \(orders.count) orders"
        let matched = try epsilon(
          q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta, orders: orders,
          excluded: c.dpAccountingExcludedOrders)
        let error = relativeError(matched.epsilon, reference)
        if error < 0.01 {
          worst = max(worst, error)
        } else {
          looser.insert([c.q, c.sigma, Double(c.steps)])
          #expect(matched.epsilon < reference, "\(label): \(matched.epsilon) vs \(reference)")
        }
        let ours = try epsilon(
          q: c.q, sigma: c.sigma, steps: c.steps, delta: c.delta, orders: orders)
        #expect(ours.epsilon <= reference * (1 + 1e-9), "\(label): \(ours.epsilon) > \(reference)")
      }
    }
    #expect(looser == Self.looserInDPAccounting)
    print(
      "RDPAccountant vs dp-accounting 0.6, other 112 cases (same orders excluded): max relative error \(worst)"
    )
  }

  /// One step's RDP at each of Opacus's orders (integer and fractional), against
  /// `opacus.accountants.analysis.rdp.compute_rdp`.
  @Test func perOrderRDPMatchesOpacus() {
    for curve in AccountantFixture.shared.rdpCurves {
      for (alpha, reference) in zip(curve.orders, curve.rdp) {
        let ours = poissonSubsampledGaussianRDP(
          samplingRate: curve.q, noiseMultiplier: curve.sigma, order: alpha)
        // 10⁻⁵, not rounding: at q = 0.001, σ = 5 the RDP is 2·10⁻⁸ … 10⁻⁶, i.e. A_α − 1 is
        // 2·10⁻⁹ … 6·10⁻⁵, and a sum of A_α itself keeps only 7–11 digits of it. Opacus sums A_α
        // at every order; colearn sums A_α − 1 at integer orders but A_α in the fractional
        // series too. Measured: up to 1.1·10⁻⁶ (α = 1.1), elsewhere below 2·10⁻⁸.
        #expect(
          relativeError(ours, reference) < 1e-5,
          "q \(curve.q) σ \(curve.sigma) α \(alpha): \(ours) vs \(reference)")
      }
    }
  }

  /// Opacus's get_noise_multiplier stops once ε is within `epsilon_tolerance` below the target,
  /// so its σ is slightly above the exact root; colearn bisects σ itself to 10⁻⁶. So colearn's σ
  /// is at most Opacus's, within 0.1% of the fine (tolerance 10⁻⁴) one, and always meets the
  /// target.
  @Test func noiseMultiplierMatchesOpacus() throws {
    for c in AccountantFixture.shared.calibrations {
      let sigma = try RDPAccountant.noiseMultiplier(
        targetEpsilon: c.targetEpsilon, delta: c.delta, samplingRate: c.q, steps: c.steps)
      let label = "target ε \(c.targetEpsilon) q \(c.q) steps \(c.steps): σ \(sigma)"
      #expect(sigma <= c.opacusSigma * (1 + 1e-6), "\(label) vs Opacus \(c.opacusSigma)")
      #expect(sigma <= c.opacusSigmaFine * (1 + 1e-6), "\(label) vs \(c.opacusSigmaFine)")
      #expect(relativeError(sigma, c.opacusSigmaFine) < 1e-3, "\(label) vs \(c.opacusSigmaFine)")
      let reached = try epsilon(
        q: c.q, sigma: sigma, steps: c.steps, delta: c.delta, orders: RDPAccountant.opacusOrders)
      #expect(reached.epsilon <= c.targetEpsilon, "\(label)")
      let below = try epsilon(
        q: c.q, sigma: sigma * (1 - 3e-6), steps: c.steps, delta: c.delta,
        orders: RDPAccountant.opacusOrders)
      #expect(below.epsilon > c.targetEpsilon, "\(label) is not the smallest")
    }
  }

  /// q = 1, σ = 2, 10 steps, δ = 10⁻⁵, orders {2, 3, 4, 5, 8}, by hand:
  ///   one step of the Gaussian mechanism is (α, α/(2σ²)) = (α, α/8)-RDP; 10 steps compose to
  ///   ρ(α) = 10α/8 = 1.25α: 2.5, 3.75, 5, 6.25, 10.
  ///   ε(α) = ρ + log(1 − 1/α) − (log δ + log α)/(α − 1), log δ = −11.512925465:
  ///     α = 2: 2.5 − 0.693147181 + (11.512925465 − 0.693147181)/1 = 12.626631103
  ///     α = 3: 3.75 − 0.405465108 + (11.512925465 − 1.098612289)/2 = 8.551691480
  ///     α = 4: 5 − 0.287682072 + (11.512925465 − 1.386294361)/3 = 8.087861629
  ///     α = 5: 6.25 − 0.223143551 + (11.512925465 − 1.609437912)/4 = 8.502728337
  ///     α = 8: 10 − 0.133531393 + (11.512925465 − 2.079441542)/7 = 11.214109168
  ///   so ε = 8.087861629 at α = 4.
  @Test func gaussianWithoutSamplingByHand() throws {
    var accountant = RDPAccountant(orders: [2, 3, 4, 5, 8])
    for _ in 0..<10 {
      try accountant.composePoissonSampled(samplingRate: 1, noiseMultiplier: 2, steps: 1)
    }
    #expect(accountant.compositions == 10)
    for (rho, expected) in zip(accountant.rdp, [2.5, 3.75, 5, 6.25, 10]) {
      #expect(abs(rho - expected) < 1e-12)
    }
    let guarantee = try accountant.epsilon(delta: 1e-5)
    #expect(abs(guarantee.epsilon - 8.087861629) < 1e-9)
    #expect(guarantee.order == 4)
    #expect(guarantee.delta == 1e-5)
  }

  /// α = 2, q = 1/2, σ = 2 by hand: the binomial expansion
  /// A₂ = Σᵢ C(2, i)(1 − q)^(2−i) qⁱ e^((i² − i)/(2σ²)) = (1 − q)² + 2q(1 − q) + q²e^(1/4)
  /// = 1 + q²(e^(1/4) − 1) = 1 + 0.25·0.284025417 = 1.071006354, and ρ = log A₂/(2 − 1) = 0.068598724.
  @Test func subsampledSecondOrderByHand() {
    let rho = poissonSubsampledGaussianRDP(samplingRate: 0.5, noiseMultiplier: 2, order: 2)
    #expect(abs(rho - 0.068598724) < 1e-9)
  }

  @Test func degenerateMechanisms() throws {
    // σ = 0 with q > 0 releases the clipped sum itself: ε = ∞ at every δ.
    var exact = RDPAccountant()
    try exact.composePoissonSampled(samplingRate: 0.01, noiseMultiplier: 0, steps: 1)
    let none = try exact.epsilon(delta: 1e-5)
    #expect(none.epsilon == .infinity && none.order.isNaN)
    // q = 0 uses no record, and no step was taken at all: ε = 0.
    var unused = RDPAccountant()
    try unused.composePoissonSampled(samplingRate: 0, noiseMultiplier: 0, steps: 1000)
    #expect(try unused.epsilon(delta: 1e-5).epsilon == 0)
    #expect(try RDPAccountant().epsilon(delta: 1e-5).epsilon == 0)
    #expect(
      poissonSubsampledGaussianRDP(samplingRate: 0.5, noiseMultiplier: 1, order: .infinity)
        == .infinity)
    #expect(
      try RDPAccountant.noiseMultiplier(targetEpsilon: 1, delta: 1e-5, samplingRate: 0, steps: 10)
        == 0)
  }

  /// A shuffled epoch (replace-one, sensitivity 2C) costs 2α/σ², which is a q = 1 Gaussian step
  /// (add/remove, sensitivity C) at σ/2: α/(2(σ/2)²) = 2α/σ².
  @Test func shuffledEpochsCostAFullGaussianAtDoubleSensitivity() throws {
    var shuffled = RDPAccountant(relation: .replaceOne)
    try shuffled.composeShuffledEpochs(noiseMultiplier: 3, epochs: 4)
    var full = RDPAccountant()
    try full.composePoissonSampled(samplingRate: 1, noiseMultiplier: 1.5, steps: 4)
    for (a, b) in zip(shuffled.rdp, full.rdp) { #expect(abs(a - b) <= 1e-12 * b) }
    #expect(try shuffled.epsilon(delta: 1e-5).epsilon == full.epsilon(delta: 1e-5).epsilon)
    var noiseless = RDPAccountant(relation: .replaceOne)
    try noiseless.composeShuffledEpochs(noiseMultiplier: 0, epochs: 1)
    #expect(try noiseless.epsilon(delta: 1e-5).epsilon == .infinity)
  }

  @Test func badParametersAreTypedErrors() throws {
    var accountant = RDPAccountant()
    #expect(
      throws: PrivacyError.invalidAccountingParameter(
        name: "sampling rate q", value: 1.5, requirement: "in [0, 1]")
    ) {
      try accountant.composePoissonSampled(samplingRate: 1.5, noiseMultiplier: 1, steps: 1)
    }
    #expect(throws: PrivacyError.self) {
      try accountant.composePoissonSampled(samplingRate: 0.1, noiseMultiplier: -1, steps: 1)
    }
    #expect(throws: PrivacyError.self) {
      try accountant.composePoissonSampled(samplingRate: 0.1, noiseMultiplier: 1, steps: -1)
    }
    #expect(
      throws: PrivacyError.invalidAccountingParameter(name: "δ", value: 0, requirement: "in (0, 1)")
    ) {
      try accountant.epsilon(delta: 0)
    }
    #expect(
      throws: PrivacyError.accountingRelationMismatch(
        accountant: "add-or-remove-one", mechanism: "shuffled batches")
    ) {
      try accountant.composeShuffledEpochs(noiseMultiplier: 1, epochs: 1)
    }
    var shuffled = RDPAccountant(relation: .replaceOne)
    #expect(throws: PrivacyError.self) {
      try shuffled.composePoissonSampled(samplingRate: 0.1, noiseMultiplier: 1, steps: 1)
    }
    #expect(accountant.compositions == 0 && shuffled.compositions == 0)
    // 10⁹ unsampled steps at σ = 10⁶: ρ(α) = 10⁹·α/(2·10¹²) = α/2000, and ε ≥ min over α of
    // α/2000 + log(1/δ)/(α − 1) − log(α)/(α − 1) + log(1 − 1/α) ≈ 0.1 > 0.01: out of reach.
    let error = #expect(throws: PrivacyError.self) {
      try RDPAccountant.noiseMultiplier(
        targetEpsilon: 0.01, delta: 1e-5, samplingRate: 1, steps: 1_000_000_000)
    }
    #expect(error?.description.contains("raise the target ε") == true)
    #expect(throws: PrivacyError.self) {
      try RDPAccountant.noiseMultiplier(
        targetEpsilon: .infinity, delta: 1e-5, samplingRate: 0.1, steps: 1)
    }
  }

  @Test func codableRoundTripAndValidation() throws {
    var accountant = RDPAccountant()
    try accountant.composePoissonSampled(samplingRate: 0.01, noiseMultiplier: 1.1, steps: 100)
    let data = try JSONEncoder().encode(accountant)
    let decoded = try JSONDecoder().decode(RDPAccountant.self, from: data)
    #expect(decoded == accountant)
    let corrupt = #"{"orders":[2,3],"relation":"add-or-remove-one","rdp":[1],"compositions":1}"#
    #expect(throws: DecodingError.self) {
      try JSONDecoder().decode(RDPAccountant.self, from: Data(corrupt.utf8))
    }
  }

  /// Tiny RDP values keep their precision. At q = 10⁻⁵, σ = 10, α = 2 the exact value is
  /// log A₂ = log(1 + q²(e^(1/σ²) − 1)) = log1p(10⁻¹⁰·0.010050167) ≈ 1.005·10⁻¹²: summing A₂ ≈ 1
  /// directly (as the references do) leaves only about four correct digits; colearn sums A₂ − 1.
  /// The fractional order's series reaches erfc arguments (z₀ − j)/(√2σ) ≈ 81, where erfc
  /// underflows and the continued fraction takes over: the result stays finite and ordered.
  @Test func tinyProbabilitiesStayAccurate() {
    let q = 1e-5
    let second = poissonSubsampledGaussianRDP(samplingRate: q, noiseMultiplier: 10, order: 2)
    #expect(relativeError(second, log1p(q * q * expm1(0.01))) < 1e-12)
    let third = poissonSubsampledGaussianRDP(samplingRate: q, noiseMultiplier: 10, order: 3)
    // A₃ − 1 = 3q²(1 − q)(e^(1/σ²) − 1) + q³(e^(3/σ²) − 1), and ρ = log A₃/2.
    let a3 = 3 * q * q * (1 - q) * expm1(0.01) + q * q * q * expm1(0.03)
    #expect(relativeError(third, log1p(a3) / 2) < 1e-12)
    let between = poissonSubsampledGaussianRDP(samplingRate: q, noiseMultiplier: 10, order: 2.5)
    #expect(between.isFinite && between > second && between < third)
  }
}
