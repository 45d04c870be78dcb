/// Rigorous integer bounds on e^−x for a rational x ≥ 0, to any number of bits, and the exact
/// comparison of a uniform random number with e^−x times a rational that they make possible.
///
/// ``DiscreteGaussianSampler`` decides almost every coin by comparing 32 random bits with
/// precomputed bounds; only when those bits cannot tell (probability about 2⁻³²) does it come
/// here, where the comparison goes on with more random bits and tighter bounds until it is
/// decided. So its coins are exact, not approximations: a coin is true exactly when the uniform
/// U ∈ [0, 1) the random bits spell out is below e^−x·F.
///
/// **Bounds.** With x = W + f (W integer, 0 ≤ f < 1), e^−x = e^−f·(e^−1)^W. At scale 2^Q, the
/// terms of e^−f = Σ (−f)^j/j! are t₀ = 2^Q, t_j = ⌊t_{j−1}·f/j⌋; by induction
/// T_j − j ≤ t_j ≤ T_j for the exact terms T_j = 2^Q·f^j/j!. The terms decrease, so the sum up
/// to the first zero t_J differs from the exact series by at most Σ_{j<J} j + T_J ≤ J²
/// (alternating series remainder ≤ its first term T_J ≤ t_J + J = J). The W factors are
/// multiplied as intervals (lower bounds rounded down, upper bounds up), 64 + 2·log₂(W + 1)
/// guard bits keep the result tight, and the bounds are finally rounded outward to scale 2^P.
///
/// Threading: stateless.
public enum ExponentialBounds {
  /// Integers lo ≤ e^−(n/d)·2^precision ≤ hi (hi − lo is a few units).
  public static func bounds(numerator n: UInt128, denominator d: UInt64, precision: Int)
    -> (lower: BigNatural, upper: BigNatural)
  {
    precondition(d > 0 && precision >= 1)
    let (whole, fraction) = n.quotientAndRemainder(dividingBy: UInt128(d))
    // W ≥ P: e^−x·2^P ≤ e^−W·2^P < 2^(P−W) ≤ 1 (e⁻¹ < ½). These bounds decide every comparison
    // but those of a U below about 2^−P; only those come back with a larger P, so the W-fold
    // product below is computed only when P > W.
    if whole >= UInt128(precision) {
      return (BigNatural(0 as UInt64), BigNatural(1 as UInt64))
    }
    let guardBits = 64 + 2 * (UInt64(whole) + 1).bitWidthUsed
    let scale = precision + guardBits
    var (lower, upper) = series(numerator: UInt64(fraction), denominator: d, scale: scale)
    if whole > 0 {
      let (oneLower, oneUpper) = series(numerator: 1, denominator: 1, scale: scale)
      for _ in 0..<Int(whole) {
        lower = (lower * oneLower).shiftedRight(scale)
        upper = (upper * oneUpper).shiftedRight(scale) + BigNatural(1 as UInt64)
      }
    }
    return (lower.shiftedRight(guardBits), upper.shiftedRight(guardBits) + BigNatural(1 as UInt64))
  }

  /// lo ≤ e^−(a/b)·2^scale ≤ hi for 0 ≤ a ≤ b (the series above).
  public static func series(numerator a: UInt64, denominator b: UInt64, scale: Int)
    -> (lower: BigNatural, upper: BigNatural)
  {
    precondition(b > 0 && a <= b)
    var term = BigNatural.powerOfTwo(scale)
    var even = term
    var odd = BigNatural(0 as UInt64)
    var j: UInt64 = 0
    while !term.isZero {
      j += 1
      // ⌊⌊t·a/b⌋/j⌋ = ⌊t·a/(b·j)⌋.
      term = (term * BigNatural(a)).dividedRoundingDown(by: b).dividedRoundingDown(by: j)
      if j & 1 == 1 { odd = odd + term } else { even = even + term }
    }
    // The partial sums of a decreasing alternating series stay between 0 and t₀: even ≥ odd.
    let sum = even - odd
    let error = BigNatural(UInt128(j) * UInt128(j))
    let lower = error < sum ? sum - error : BigNatural(0 as UInt64)
    return (lower, sum + error)
  }

  /// Whether U < e^−(n/d)·F, F = `factorNumerator`/`factorDenominator`, for the uniform U ∈ [0, 1)
  /// whose first `prefixBits` binary digits are `prefix` and whose further digits are drawn
  /// from `noise` as needed: exact (precision doubles until the bounds decide; U equals the
  /// threshold with probability 0).
  ///
  /// - Throws: as ``NoiseSource/nextWord()``.
  public static func uniformIsBelow(
    exponentNumerator n: UInt128, exponentDenominator d: UInt64,
    factorNumerator: BigNatural, factorDenominator: BigNatural,
    prefix: UInt64, prefixBits: Int, noise: inout NoiseSource
  ) throws(PrivacyError) -> Bool {
    precondition(prefixBits >= 0 && prefixBits <= 64)
    var u = BigNatural(prefix)
    var bits = prefixBits
    var precision = max(128, prefixBits)
    while true {
      while bits < precision {
        let chunk = min(64, precision - bits)
        u = u.shiftedLeft(chunk) + BigNatural(try noise.nextBits(chunk))
        bits += chunk
      }
      // U ∈ [u, u + 1)/2^P and e^−x·F ∈ [lo, hi]·F/2^P.
      let (lower, upper) = bounds(numerator: n, denominator: d, precision: precision)
      if !(lower * factorNumerator < (u + BigNatural(1 as UInt64)) * factorDenominator) {
        return true
      }
      if !(u * factorDenominator < upper * factorNumerator) { return false }
      precision *= 2
    }
  }
}

extension UInt64 {
  /// The number of significant bits.
  fileprivate var bitWidthUsed: Int { 64 - leadingZeroBitCount }
}
