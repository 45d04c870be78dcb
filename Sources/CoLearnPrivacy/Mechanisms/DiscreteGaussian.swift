#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The discrete Gaussian distribution N_ℤ(0, σ²) on the integers, sampled exactly:
/// P(X = x) = e^(−x²/(2σ²)) / Σ_{y∈ℤ} e^(−y²/(2σ²)), for a rational variance parameter
/// σ² = p/r.
///
/// **Why.** Floating-point Gaussian noise has the same defect as floating-point Laplace noise
/// (see ``DiscreteLaplace``): the set of doubles it can produce, and their probabilities, depend
/// on the value the noise is added to, so a released value can give the input away (Mironov,
/// CCS 2012). Here every decision is integer arithmetic on exact random bits: the output
/// distribution is exactly the law above (given ideal random bits), so the privacy theorems for
/// the discrete Gaussian apply to it unchanged.
///
/// **Algorithm** (Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for Differential
/// Privacy", Algorithm 3): with t = ⌊σ⌋ + 1, repeat { Y ~ discrete Laplace of scale t
/// (``DiscreteLaplace``, CKS Algorithm 2); accept Y with probability
/// exp(−(|Y| − σ²/t)²/(2σ²)) } and return Y. The accepted Y has P ∝ e^(−|y|/t)·e^(−(|y| − σ²/t)²/(2σ²))
/// = e^(−y²/(2σ²))·e^(−σ²/(2t²)), the discrete Gaussian (any t > 0 would be exact; this t makes
/// the acceptance rate about 0.6 or more). The exponent is the exact rational
/// γ = (|Y|·r·t − p)² / (2·p·r·t²), and the coin Bernoulli(e^−γ) is CKS Algorithm 1 on it,
/// in 128-bit integers (``NoiseSource``'s exact primitives).
///
/// **What it guarantees.** Adding N_ℤ(0, σ²) independently to each coordinate of an integer
/// vector whose L2 sensitivity is Δ gives (α, α·Δ²/(2σ²))-RDP for every α > 1 — no more than the
/// continuous Gaussian at the same Δ and σ (CKS 2020, the concentrated-DP theorem for the
/// discrete Gaussian and its multivariate form: ½(Δ/σ)²-zCDP). The discrete Gaussian's variance
/// is slightly *below* σ² (``variance``), so its utility is at least that of N(0, σ²).
/// ``GridGaussianNoise`` puts real vectors on the integer grid and states the sensitivity there.
///
/// - Complexity: O(1) expected iterations (one discrete Laplace sample and one exact coin of a
///   few dozen random bits each), independent of σ.
public struct DiscreteGaussian: Sendable, Hashable, Codable {
  /// The largest variance denominator r (2²⁰).
  public static let maximumVarianceDenominator: UInt64 = 1 << 20
  /// The denominator the Double initializer rounds σ² to (2¹⁰).
  public static let defaultVarianceDenominator: UInt64 = 1 << 10

  /// p in σ² = p/r.
  public let varianceNumerator: UInt64
  /// r in σ² = p/r.
  public let varianceDenominator: UInt64

  /// N_ℤ(0, p/r).
  ///
  /// Preconditions (programmer errors; configuration is validated where it is built):
  /// p ≥ 1, 1 ≤ r ≤ 2²⁰, and 2·p·r·t² ≤ 2¹¹⁰ with t = ⌊σ⌋ + 1 — which allows σ up to about
  /// 2²² ≈ 5·10⁶ at r = 2¹⁰ and 2²⁷ at r = 1 (``isSupported(varianceNumerator:varianceDenominator:)``).
  public init(varianceNumerator p: UInt64, varianceDenominator r: UInt64 = 1) {
    precondition(
      Self.isSupported(varianceNumerator: p, varianceDenominator: r),
      "discrete Gaussian σ² = \(p)/\(r) outside the supported range (p ≥ 1, 1 ≤ r ≤ 2²⁰, σ below about 2²²)"
    )
    varianceNumerator = p
    varianceDenominator = r
  }

  /// Whether N_ℤ(0, p/r) can be sampled exactly with 128-bit integers: p ≥ 1, 1 ≤ r ≤ 2²⁰ and
  /// 2·p·r·t² ≤ 2¹¹⁰ for t = ⌊σ⌋ + 1.
  public static func isSupported(varianceNumerator p: UInt64, varianceDenominator r: UInt64)
    -> Bool
  {
    guard p >= 1, r >= 1, r <= maximumVarianceDenominator else { return false }
    let t = UInt128(laplaceScale(p: p, r: r))
    let (pr, o1) = UInt128(p).multipliedReportingOverflow(by: UInt128(r))
    let (prtt, o2) = pr.multipliedReportingOverflow(by: t * t)
    return !o1 && !o2 && prtt <= 1 << 109
  }

  /// The rational σ² = p/r that ``init(sigma:)`` uses for σ: ⌈σ²·2¹⁰⌉/2¹⁰ in lowest terms, or nil
  /// when σ is not finite and at least 2⁻⁵, or the result is not ``isSupported(varianceNumerator:varianceDenominator:)``.
  public static func variance(roundingUp sigma: Double) -> (numerator: UInt64, denominator: UInt64)?
  {
    guard sigma.isFinite && sigma >= 1.0 / 32 else { return nil }
    // σ² = square + residual exactly (fma gives the rounding error of the product); multiplying
    // by r = 2¹⁰ is exact, so p = ⌈σ²·r⌉ is computed exactly.
    let square = sigma * sigma
    let residual = (-square).addingProduct(sigma, sigma)
    var r = defaultVarianceDenominator
    let scaled = square * Double(r)
    guard scaled < 0x1p62 else { return nil }  // far beyond isSupported's range anyway
    var p = UInt64(scaled.rounded(.up))
    if Double(p) == scaled && residual > 0 { p += 1 }
    while p & 1 == 0 && r > 1 {  // reduce the power of two (keeps the integers small)
      p >>= 1
      r >>= 1
    }
    guard isSupported(varianceNumerator: p, varianceDenominator: r) else { return nil }
    return (p, r)
  }

  /// N_ℤ(0, σ²) with σ² rounded *up* to a multiple of 2⁻¹⁰: never less noise than asked, and
  /// at most 2⁻¹⁰ more in σ² (a relative excess below 2⁻¹¹/σ² in σ).
  /// - Precondition: ``variance(roundingUp:)`` is not nil (σ finite, 2⁻⁵ ≤ σ, and σ below about 2²², or 2²⁷ when σ² is an integer).
  public init(sigma: Double) {
    guard let (p, r) = Self.variance(roundingUp: sigma) else {
      preconditionFailure(
        "discrete Gaussian σ = \(sigma) outside the supported range (2⁻⁵ … at least 2²²)")
    }
    self.init(varianceNumerator: p, varianceDenominator: r)
  }

  private enum CodingKeys: String, CodingKey { case varianceNumerator, varianceDenominator }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let p = try container.decode(UInt64.self, forKey: .varianceNumerator)
    let r = try container.decode(UInt64.self, forKey: .varianceDenominator)
    guard Self.isSupported(varianceNumerator: p, varianceDenominator: r) else {
      throw DecodingError.dataCorruptedError(
        forKey: .varianceNumerator, in: container,
        debugDescription: "discrete Gaussian σ² = \(p)/\(r) is outside the supported range")
    }
    self.init(varianceNumerator: p, varianceDenominator: r)
  }

  /// The variance parameter σ² = p/r (the variance itself is slightly smaller: ``variance``).
  public var sigmaSquared: Double { Double(varianceNumerator) / Double(varianceDenominator) }

  /// σ.
  public var sigma: Double { sigmaSquared.squareRoot() }

  /// t = ⌊σ⌋ + 1, the scale of the discrete Laplace proposal.
  var laplaceScale: UInt64 { Self.laplaceScale(p: varianceNumerator, r: varianceDenominator) }

  private static func laplaceScale(p: UInt64, r: UInt64) -> UInt64 {
    // Any t ≥ 1 gives the exact law; ⌊σ⌋ + 1 only sets the acceptance rate, so the rounding of
    // the square root does not matter.
    UInt64((Double(p) / Double(r)).squareRoot().rounded(.down)) + 1
  }

  // MARK: - The exact law (for tests and documentation; sampling never uses it)

  /// The normalising constant Σ_y e^(−y²/(2σ²)): summed directly for σ < 4, otherwise by Poisson
  /// summation, σ√(2π)·(1 + 2Σ_k e^(−2π²σ²k²)), whose correction is below 10⁻¹³⁷ there.
  public var normalizer: Double {
    let s2 = sigmaSquared
    if s2 < 16 {
      let limit = Int((60 * s2.squareRoot()).rounded(.up)) + 10
      var total = 1.0
      for y in 1...limit { total += 2 * exp(-Double(y * y) / (2 * s2)) }
      return total
    }
    return (2 * Double.pi * s2).squareRoot() * (1 + 2 * exp(-2 * Double.pi * Double.pi * s2))
  }

  /// P(X = x).
  public func probability(of x: Int64) -> Double {
    let dx = Double(x)
    return exp(-dx * dx / (2 * sigmaSquared)) / normalizer
  }

  /// The variance E[X²] < σ² (the mean is 0): summed directly for σ < 4; σ² otherwise (the
  /// difference is then below 10⁻¹³⁰·σ²).
  public var variance: Double {
    let s2 = sigmaSquared
    guard s2 < 16 else { return s2 }
    let limit = Int((60 * s2.squareRoot()).rounded(.up)) + 10
    var total = 0.0
    for y in 1...limit { total += 2 * Double(y * y) * exp(-Double(y * y) / (2 * s2)) }
    return total / normalizer
  }

  // MARK: - Sampling

  /// One exact sample.
  ///
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when a secure `noise` source cannot be read.
  public func sample(using noise: inout NoiseSource) throws(PrivacyError) -> Int64 {
    let t = laplaceScale
    let proposal = DiscreteLaplace(scaleNumerator: t)
    let p = UInt128(varianceNumerator)
    let rt = UInt128(varianceDenominator) * UInt128(t)
    let denominator = 2 * p * rt * UInt128(t)  // 2·p·r·t² ≤ 2¹¹⁰ (checked in init)
    while true {
      let y = try proposal.sample(using: &noise)
      // |Y|·r·t − p, in magnitude: |Y| < 2⁶³ and r·t < 2⁴⁴, so the product fits in 128 bits.
      let scaled = UInt128(y.magnitude) * rt
      let difference = scaled >= p ? scaled - p : p - scaled
      let square = difference.multipliedFullWidth(by: difference)
      let whole: UInt128
      let remainder: UInt128
      if square.high >= denominator {
        // γ ≥ 2¹²⁸: the coin below fails unless 2¹²⁸ Bernoulli(e⁻¹) draws in a row succeed,
        // an event of probability e^(−2¹²⁸); stopping at UInt128.max draws changes nothing.
        (whole, remainder) = (.max, 0)
      } else {
        (whole, remainder) = denominator.dividingFullWidth(square)
      }
      if try noise.wideBernoulliExp(whole: whole, numerator: remainder, denominator: denominator) {
        return y
      }
    }
  }
}
