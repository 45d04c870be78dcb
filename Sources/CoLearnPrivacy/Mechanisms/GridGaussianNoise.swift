#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Exact discrete Gaussian noise for real vectors: values are put on the grid g·ℤ (g = 2^e, so
/// x/g and k·g are exact in binary floating point), the noise N_ℤ(0, σ_u²) is added in integer
/// grid units (``DiscreteGaussian``), and released values are k·g — every released value lies
/// exactly on the grid, and its distribution given the input is exactly the discrete Gaussian.
/// This is what DP-SGD's noise step should use instead of floating-point Gaussian noise (see
/// ``DiscreteGaussian`` for why).
///
/// **Sensitivity on the grid.** The accountant needs the L2 norm bound of one record's
/// contribution *in grid units*, after rounding. Clipping a record's gradient to norm C and then
/// rounding each coordinate can raise the norm; how much depends on where and how one rounds
/// (``Rounding``; d is the number of coordinates):
///
/// * ``Rounding/perRecordTowardZero`` — round each clipped per-record vector toward zero:
///   |trunc(x_j/g)| ≤ |x_j|/g for every coordinate, so the norm stays ≤ C/g. **No inflation**;
///   the price is a bias toward zero of less than g per coordinate. The recommended choice.
/// * ``Rounding/perRecordNearest`` — round each per-record vector to nearest: the rounding error
///   has ‖e‖∞ ≤ ½, so ‖round(x/g)‖₂ ≤ C/g + √d/2 (triangle inequality; the deterministic case of
///   Kairouz, Liu & Steinke 2021, "The Distributed Discrete Gaussian Mechanism", whose randomized
///   rounding gives a smaller high-probability bound).
/// * ``Rounding/sumNearest`` — round the already summed batch: round(S + v) − round(S) =
///   v/g + e₁ − e₂ with ‖e₁ − e₂‖∞ < 1, so a record moves the rounded sum by at most C/g + √d.
///
/// Add/remove neighbours (Poisson sampling) move the noised integer sum by at most that bound,
/// Δ_u; replace-one neighbours by at most 2·Δ_u, which ``RDPAccountant/composeShuffledEpochs(noiseMultiplier:epochs:)``
/// already accounts for. So the noise multiplier to charge is σ_u/Δ_u
/// (``noiseMultiplier(clipNorm:dimension:rounding:)``).
///
/// **What the accountant's numbers mean for this noise.**
/// * Without subsampling (q = 1, and shuffled epochs): proven. The multivariate discrete Gaussian
///   with integer sensitivity Δ_u is (α, α·Δ_u²/(2σ_u²))-RDP for all α (CKS 2020), exactly the
///   continuous Gaussian's RDP at the same noise multiplier, which is what
///   ``RDPAccountant`` charges.
/// * Poisson subsampling, integer orders, the direction D_α(M(D ∪ {x}) ‖ M(D)): proven
///   here term by term. A_α = Σᵢ C(α, i)(1 − q)^(α−i) qⁱ E[(P₁/P₀)ⁱ] with
///   P₁/P₀(z) = exp(Σⱼ (2zⱼΔⱼ − Δⱼ²)/(2σ²)) for the discrete Gaussian as for the continuous one,
///   and the discrete Gaussian's moment generating function is at most the continuous one's
///   (E[e^(tX)] ≤ e^(t²σ²/2), CKS 2020), so each term is at most exp((i² − i)‖Δ‖²/(2σ²)) —
///   the continuous Gaussian's A_α (all binomial coefficients are positive for integer α).
/// * Not proven here: the reverse direction D_α(M(D) ‖ M(D ∪ {x})) and fractional orders. For the
///   continuous Gaussian, Mironov, Talwar & Zhang 2019 (Theorem 5) show the reverse direction is
///   the smaller one; their argument uses the reflection z ↦ Δ − z that swaps P₀ and P₁, which
///   the discrete Gaussian with an integer shift also has, but the proof has not been checked
///   line by line for the discrete case. Until it is, DP-SGD with discrete noise should charge
///   integer orders only (e.g. 2...64 and 128...1024) and say so.
///
/// Threading: a value type; the noise source is passed `inout` (one thread at a time).
public struct GridGaussianNoise: Sendable, Hashable {
  /// Where and how clipped real values are rounded to the grid (see the type's documentation).
  public enum Rounding: String, Sendable, Hashable, Codable, CaseIterable {
    /// Each clipped per-record vector rounded toward zero: record norm bound C/g.
    case perRecordTowardZero = "per-record-toward-zero"
    /// Each clipped per-record vector rounded to nearest: C/g + √d/2.
    case perRecordNearest = "per-record-nearest"
    /// The batch's sum rounded to nearest: C/g + √d.
    case sumNearest = "sum-nearest"
  }

  /// The largest magnitude of a grid value, in units (2⁶⁰); larger values are clamped, which
  /// only lowers magnitudes and so keeps the per-record bounds valid.
  public static let maximumUnits: Int64 = 1 << 60

  /// g = 2^granularityExponent.
  public let granularityExponent: Int
  /// The noise in grid units, N_ℤ(0, σ_u²).
  public let law: DiscreteGaussian

  /// Noise of standard deviation (at least) σ in real units on the grid g = 2^`granularityExponent`:
  /// σ_u² = (σ/g)² rounded up to a multiple of 2⁻¹⁰ (see ``DiscreteGaussian/init(sigma:)``).
  /// - Throws: ``PrivacyError/noiseOutOfRange(standardDeviation:granularity:)`` when σ/g is not
  ///   finite or outside 2⁻⁵ … at least 2²² grid units (or the exponent outside ±1000).
  public init(standardDeviation sigma: Double, granularityExponent: Int) throws(PrivacyError) {
    let g = Double(
      sign: .plus, exponent: max(-1000, min(1000, granularityExponent)), significand: 1)
    guard granularityExponent > -1000 && granularityExponent < 1000,
      let (p, r) = DiscreteGaussian.variance(roundingUp: sigma / g)
    else {
      throw .noiseOutOfRange(standardDeviation: sigma, granularity: g)
    }
    self.granularityExponent = granularityExponent
    law = DiscreteGaussian(varianceNumerator: p, varianceDenominator: r)
  }

  /// The largest grid exponent e for which nearest rounding of a d-coordinate record clipped to
  /// norm C raises its norm bound by at most `inflation`·C: g√d/2 ≤ inflation·C, i.e.
  /// g ≤ 2·inflation·C/√d. (Toward-zero rounding never inflates; with this g its bias is below
  /// 2·inflation·C in L2 norm.)
  public static func granularityExponent(clipNorm: Double, dimension: Int, inflation: Double) -> Int
  {
    precondition(clipNorm > 0 && clipNorm.isFinite, "clip norm \(clipNorm)")
    precondition(dimension >= 1, "dimension \(dimension)")
    precondition(inflation > 0 && inflation.isFinite, "inflation \(inflation)")
    let limit = 2 * inflation * clipNorm / Double(dimension).squareRoot()
    return Int(limit.exponent)  // 2^⌊log₂ limit⌋ ≤ limit
  }

  /// The grid step g.
  public var granularity: Double {
    Double(sign: .plus, exponent: granularityExponent, significand: 1)
  }

  /// The noise's parameter σ in real units, σ_u·g (at least the σ asked for).
  public var standardDeviation: Double { law.sigma * granularity }

  /// x/g rounded as `rounding` says (toward zero for ``Rounding/perRecordTowardZero``, to nearest
  /// with ties away from zero otherwise), clamped to ±``maximumUnits``; NaN gives 0 (a coordinate
  /// that contributes nothing keeps every norm bound). Exact: dividing by a power of two is
  /// (barring subnormal results, which round to 0 units anyway).
  @inline(__always)
  public func units(of x: Double, rounding: Rounding) -> Int64 {
    if x.isNaN { return 0 }
    let scaled = x / granularity
    let rounded =
      rounding == .perRecordTowardZero
      ? scaled.rounded(.towardZero) : scaled.rounded(.toNearestOrAwayFromZero)
    let limit = Double(Self.maximumUnits)
    return Int64(max(-limit, min(limit, rounded)))
  }

  /// k·g.
  @inline(__always)
  public func value(ofUnits k: Int64) -> Double {
    Double(k) * granularity
  }

  /// Adds independent N_ℤ(0, σ_u²) noise to every entry of `units` (in place), drawn by a
  /// ``DiscreteGaussianSampler`` prepared for this call.
  /// - Throws: as ``DiscreteGaussian/sample(using:)``; on a throw, a prefix of `units` has been
  ///   noised and the rest not — discard the vector.
  public func addNoise(to units: inout [Int64], using noise: inout NoiseSource) throws(PrivacyError)
  {
    let sampler = DiscreteGaussianSampler(law)
    for index in units.indices {
      units[index] += try sampler.sample(using: &noise)
    }
  }

  /// The L2 norm bound, in grid units, of one record's contribution to the rounded noised sum,
  /// for records clipped to norm `clipNorm` with `dimension` coordinates (see ``Rounding``).
  public func recordNormBound(clipNorm: Double, dimension: Int, rounding: Rounding) -> Double {
    precondition(clipNorm > 0 && clipNorm.isFinite, "clip norm \(clipNorm)")
    precondition(dimension >= 1, "dimension \(dimension)")
    let clipUnits = clipNorm / granularity
    let root = Double(dimension).squareRoot()
    switch rounding {
    case .perRecordTowardZero: return clipUnits
    case .perRecordNearest: return clipUnits + root / 2
    case .sumNearest: return clipUnits + root
    }
  }

  /// The noise multiplier the accountant must charge: σ_u / ``recordNormBound(clipNorm:dimension:rounding:)``.
  public func noiseMultiplier(clipNorm: Double, dimension: Int, rounding: Rounding) -> Double {
    law.sigma / recordNormBound(clipNorm: clipNorm, dimension: dimension, rounding: rounding)
  }
}
