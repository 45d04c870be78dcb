#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The discrete Laplace distribution on the integers, sampled exactly:
/// P(X = x) = (1 − q)/(1 + q) · q^|x| with q = e^(−1/b) for the rational scale b = t/s.
///
/// Why this and not textbook Laplace noise: sampling Lap(b) as `b·log(U)` in floating point
/// leaves holes and biases in the set of doubles it can produce, and those depend on the value
/// the noise is added to, so a released value can reveal the exact input (Mironov, "On
/// significance of the least significant bits for differential privacy", CCS 2012). Here every
/// step is integer arithmetic on exact random bits: the output distribution is exactly the one
/// above, and the privacy proof of the Laplace mechanism applies to it unchanged for integer
/// queries (a shift by Δ changes each probability by at most e^(Δ/b)). ``NoiseGrid`` maps real
/// values onto integers so that this noise can be added to them.
///
/// Algorithm (Canonne, Kamath & Steinke 2020, "The Discrete Gaussian for Differential Privacy",
/// Algorithm 2): repeat { U ~ uniform{0, …, t−1}; reject unless Bernoulli(e^(−U/t));
/// V ~ geometric: count successes of Bernoulli(e^(−1)) before the first failure; X = U + t·V;
/// Y = ⌊X/s⌋; B ~ Bernoulli(1/2); reject if B = 1 and Y = 0 } and return (1 − 2B)·Y.
/// X is geometric with P(X = x) ∝ e^(−x/t), so ⌊X/s⌋ is geometric with ratio e^(−s/t), and the
/// sign with the rejection of "−0" makes it two-sided.
///
/// - Complexity: O(1) expected random bits and iterations per sample, independent of the scale
///   (about 1.6 rounds; one 64-bit word for U plus a few dozen single bits per round).
public struct DiscreteLaplace: Sendable, Hashable, Codable {
  /// The largest scale numerator, 2⁵⁰ (so that the Bernoulli denominators stay exact).
  public static let maximumScaleNumerator: UInt64 = 1 << 50

  /// t in the scale b = t/s.
  public let scaleNumerator: UInt64
  /// s in the scale b = t/s.
  public let scaleDenominator: UInt64

  /// The distribution with scale b = `scaleNumerator` / `scaleDenominator` (in integer units).
  public init(scaleNumerator: UInt64, scaleDenominator: UInt64 = 1) {
    precondition(
      scaleNumerator >= 1 && scaleNumerator <= Self.maximumScaleNumerator,
      "discrete Laplace scale numerator \(scaleNumerator) outside 1...2⁵⁰")
    precondition(
      scaleDenominator >= 1 && scaleDenominator <= Self.maximumScaleNumerator,
      "discrete Laplace scale denominator \(scaleDenominator) outside 1...2⁵⁰")
    self.scaleNumerator = scaleNumerator
    self.scaleDenominator = scaleDenominator
  }

  /// The scale b = t/s.
  public var scale: Double { Double(scaleNumerator) / Double(scaleDenominator) }

  /// The ratio q = e^(−s/t) of successive probabilities.
  public var ratio: Double { exp(-Double(scaleDenominator) / Double(scaleNumerator)) }

  /// P(X = x) = (1 − q)/(1 + q)·q^|x| (for tests and documentation; sampling never uses it).
  public func probability(of x: Int64) -> Double {
    let q = ratio
    return (1 - q) / (1 + q) * pow(q, Double(x.magnitude))
  }

  /// The variance, 2q/(1 − q)²; the mean is 0.
  public var variance: Double {
    let q = ratio
    return 2 * q / ((1 - q) * (1 - q))
  }

  /// One exact sample.
  ///
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when a secure `noise` source cannot be read.
  public func sample(using noise: inout NoiseSource) throws(PrivacyError) -> Int64 {
    let t = scaleNumerator
    while true {
      let u = try noise.uniform(below: t)
      guard try noise.bernoulliExp(numerator: u, denominator: t) else { continue }
      var v: UInt64 = 0
      while try noise.bernoulliExp(numerator: 1, denominator: 1) { v += 1 }
      // t ≤ 2⁵⁰, so t·v overflows only for v ≥ 2¹³, whose probability is e^(−8192): the
      // trapping arithmetic below is unreachable in practice.
      let y = (u + t * v) / scaleDenominator
      let negative = try noise.nextBit()
      if negative && y == 0 { continue }
      return negative ? -Int64(y) : Int64(y)
    }
  }
}
