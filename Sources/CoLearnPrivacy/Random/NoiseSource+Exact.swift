/// Exact random primitives over integers and rationals: no floating point touches a decision,
/// so every probability below is exactly the one stated (given ideal random bits).
extension NoiseSource {
  /// The largest denominator ``bernoulli(numerator:denominator:)`` accepts (2⁶²), so that the
  /// long division behind it cannot overflow.
  public static let maximumDenominator: UInt64 = 1 << 62

  /// A uniform integer in 0..<n, exactly (Lemire's multiply-and-reject, 2019): one 64-bit word
  /// per draw, rejecting (with probability < n/2⁶⁴) the words that would bias the result.
  ///
  /// - Throws: as ``nextWord()``.
  /// - Complexity: O(1) expected.
  @inline(__always)
  public mutating func uniform(below n: UInt64) throws(PrivacyError) -> UInt64 {
    precondition(n > 0, "uniform(below: 0)")
    var (high, low) = try nextWord().multipliedFullWidth(by: n)
    if low < n {
      let threshold = (0 &- n) % n  // 2⁶⁴ mod n
      while low < threshold {
        (high, low) = try nextWord().multipliedFullWidth(by: n)
      }
    }
    return high
  }

  /// Bernoulli(p) for the rational p = `numerator` / `denominator` ≤ 1, exactly.
  ///
  /// Method: compare a uniform U ∈ [0, 1), generated bit by bit, with the binary expansion of p,
  /// produced by long division; the first differing bit decides U < p. Two random bits are used
  /// on average, whatever the size of the denominator (at most ``maximumDenominator``).
  ///
  /// - Throws: as ``nextWord()``.
  public mutating func bernoulli(
    numerator: UInt64, denominator: UInt64
  ) throws(PrivacyError) -> Bool {
    precondition(
      denominator > 0 && denominator <= Self.maximumDenominator && numerator <= denominator,
      "Bernoulli(\(numerator)/\(denominator)) is not a probability with a denominator ≤ 2⁶²")
    if numerator == denominator { return true }
    var remainder = numerator
    while remainder != 0 {
      remainder <<= 1
      let bitOfP = remainder >= denominator
      if bitOfP { remainder -= denominator }
      let bitOfU = try nextBit()
      if bitOfU != bitOfP { return bitOfP }  // U's bit 0 where p's is 1: U < p
    }
    return false  // p's expansion ended while U matched it: U ≥ p (U = p has probability 0)
  }

  /// Bernoulli(exp(−γ)) for γ = `whole` + `numerator` / `denominator` ≥ 0, exactly (Canonne,
  /// Kamath & Steinke 2020, "The Discrete Gaussian for Differential Privacy", Algorithm 1).
  ///
  /// For γ ∈ [0, 1]: draw A₁ ~ Bernoulli(γ/1), A₂ ~ Bernoulli(γ/2), … until the first Aₖ = 0;
  /// P(K > k) = γᵏ/k!, so P(K odd) = Σⱼ (−γ)ʲ/j! = e^−γ. For γ > 1, e^−γ is the product of
  /// ⌊γ⌋ independent Bernoulli(e^−1) and one Bernoulli(e^−(γ − ⌊γ⌋)), stopping at the first 0.
  ///
  /// - Parameters:
  ///   - whole: the integer part of γ.
  ///   - numerator: the fractional part's numerator (below `denominator`).
  ///   - denominator: at most 2⁵⁰, so that `denominator`·k stays below 2⁶² for every k the loop
  ///     can reach in practice (k > 4096 has probability below 1/4096!).
  /// - Throws: as ``nextWord()``.
  /// - Complexity: O(1) expected (about e random Bernoulli draws of two bits each).
  public mutating func bernoulliExp(
    whole: UInt64 = 0, numerator: UInt64, denominator: UInt64
  ) throws(PrivacyError) -> Bool {
    precondition(numerator < denominator || (numerator == denominator && whole == 0))
    var remaining = whole
    while remaining > 0 {
      guard try bernoulliExpOfFraction(numerator: 1, denominator: 1) else { return false }
      remaining -= 1
    }
    return try bernoulliExpOfFraction(numerator: numerator, denominator: denominator)
  }

  /// Bernoulli(exp(−n/d)) for n/d ∈ [0, 1] (the first case of ``bernoulliExp(whole:numerator:denominator:)``).
  private mutating func bernoulliExpOfFraction(
    numerator: UInt64, denominator: UInt64
  ) throws(PrivacyError) -> Bool {
    var k: UInt64 = 1
    while true {
      let (scaled, overflow) = denominator.multipliedReportingOverflow(by: k)
      precondition(!overflow && scaled <= Self.maximumDenominator, "denominator \(denominator)·\(k)")
      guard try bernoulli(numerator: numerator, denominator: scaled) else { break }
      k += 1
    }
    return k & 1 == 1
  }
}

// MARK: - 128-bit rationals (the discrete Gaussian's acceptance test)

extension NoiseSource {
  /// The largest denominator ``wideBernoulli(numerator:denominator:)`` accepts (2¹²⁶).
  static let maximumWideDenominator: UInt128 = 1 << 126

  /// ``bernoulli(numerator:denominator:)`` for 128-bit rationals: Bernoulli(n/d) exactly, for
  /// d ≤ 2¹²⁶, by the same lazy comparison of random bits with the binary expansion of n/d.
  mutating func wideBernoulli(numerator: UInt128, denominator: UInt128) throws(PrivacyError)
    -> Bool
  {
    precondition(
      denominator > 0 && denominator <= Self.maximumWideDenominator && numerator <= denominator,
      "Bernoulli(\(numerator)/\(denominator)) is not a probability with a denominator ≤ 2¹²⁶")
    if numerator == denominator { return true }
    var remainder = numerator
    while remainder != 0 {
      remainder <<= 1
      let bitOfP = remainder >= denominator
      if bitOfP { remainder -= denominator }
      let bitOfU = try nextBit()
      if bitOfU != bitOfP { return bitOfP }
    }
    return false
  }

  /// ``bernoulliExp(whole:numerator:denominator:)`` for 128-bit rationals: Bernoulli(e^−γ) for
  /// γ = `whole` + `numerator`/`denominator` exactly (CKS 2020, Algorithm 1), for denominators up
  /// to 2¹¹⁰ (so that `denominator`·k stays below 2¹²⁶ for every k < 2¹⁶ the series can reach;
  /// k ≥ 2¹⁶ has probability below 1/65536!).
  mutating func wideBernoulliExp(whole: UInt128, numerator: UInt128, denominator: UInt128)
    throws(PrivacyError) -> Bool
  {
    precondition(numerator < denominator && denominator <= 1 << 110)
    var remaining = whole
    while remaining > 0 {
      guard try bernoulliExp(numerator: 1, denominator: 1) else { return false }
      remaining -= 1
    }
    var k: UInt128 = 1
    while true {
      let (scaled, overflow) = denominator.multipliedReportingOverflow(by: k)
      precondition(!overflow && scaled <= Self.maximumWideDenominator, "denominator·\(k)")
      guard try wideBernoulli(numerator: numerator, denominator: scaled) else { break }
      k += 1
    }
    return k & 1 == 1
  }
}
