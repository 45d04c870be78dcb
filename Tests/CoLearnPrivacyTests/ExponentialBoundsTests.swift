import CoLearnPrivacy
import Foundation
import Testing

/// The exact fallback of the discrete Gaussian sampler: big naturals, proven bounds on e^−x,
/// and the comparison of a uniform with a known prefix against e^−x·F.
@Suite struct ExponentialBoundsTests {
  @Test func bigNaturalArithmetic() {
    let a = BigNatural(UInt64.max) + BigNatural(2 as UInt64)  // 2⁶⁴ + 1
    let b = BigNatural(UInt64.max)  // 2⁶⁴ − 1
    #expect(a.limbs == [1, 1])
    #expect((a * b).limbs == [UInt64.max, UInt64.max])  // 2¹²⁸ − 1
    #expect((a * b + BigNatural(1 as UInt64)).limbs == [0, 0, 1])
    #expect((a - b).limbs == [2])
    #expect(BigNatural.powerOfTwo(130).shiftedRight(129).limbs == [2])
    #expect(BigNatural(3 as UInt64).shiftedLeft(127).limbs == [0, 1 << 63, 1])
    #expect((BigNatural.powerOfTwo(128) * BigNatural(10 as UInt64)).dividedRoundingDown(by: 3)
      .limbs == [0x5555_5555_5555_5555, 0x5555_5555_5555_5555, 3])
    #expect(b < a && !(a < a) && BigNatural(0 as UInt64).isZero)
  }

  /// lo ≤ e^−x·2^P ≤ hi, a few units apart, for x = 0, 1/2, 1, 7/3 and 29.25, against the
  /// double-precision exponential (to its 2⁻⁵⁰ relative accuracy).
  @Test func boundsBracketTheExponential() {
    for (n, d) in [(UInt128(0), UInt64(1)), (1, 2), (1, 1), (7, 3), (117, 4)] {
      let (lower, upper) = ExponentialBounds.bounds(numerator: n, denominator: d, precision: 256)
      #expect(lower < upper)
      #expect((upper - lower) < BigNatural(64 as UInt64), "x = \(n)/\(d)")
      let x = Double(n) / Double(d)
      // The top 60 significant bits against the double.
      let shift = lower.bitWidth - 60
      let top = Double(lower.shiftedRight(shift).uint64 ?? 0) * pow(2, Double(shift - 256))
      #expect(abs(top / exp(-x) - 1) < 1e-14, "x = \(x): \(top) vs \(exp(-x))")
    }
  }

  /// The fallback's coin, with the first 32 bits of U equal to those of e^−½: U < e^−½ has
  /// probability frac(2³²·e^−½) = 0.9183 given that prefix; 20,000 coins agree within 4
  /// standard errors. One unit lower the coin is always true, one unit higher always false.
  @Test func uniformWithATiedPrefixIsComparedExactly() throws {
    let scaled = exp(-0.5) * 0x1p32
    let prefix = UInt64(scaled.rounded(.down))
    let fraction = scaled - scaled.rounded(.down)
    var noise = NoiseSource.insecureSeeded(31)
    func coin(_ prefix: UInt64) throws -> Bool {
      try ExponentialBounds.uniformIsBelow(
        exponentNumerator: 1, exponentDenominator: 2, factorNumerator: BigNatural(1 as UInt64),
        factorDenominator: BigNatural(1 as UInt64), prefix: prefix, prefixBits: 32, noise: &noise)
    }
    var successes = 0
    let count = 20_000
    for _ in 0..<count where try coin(prefix) { successes += 1 }
    let rate = Double(successes) / Double(count)
    let standardError = (fraction * (1 - fraction) / Double(count)).squareRoot()
    #expect(abs(rate - fraction) < 4 * standardError, "\(rate) vs \(fraction)")
    #expect(try coin(prefix - 1))
    #expect(!(try coin(prefix + 1)))
    // A factor: U < e^−½·(3/4) with no prefix has probability 0.4549.
    var hits = 0
    for _ in 0..<count {
      if try ExponentialBounds.uniformIsBelow(
        exponentNumerator: 1, exponentDenominator: 2, factorNumerator: BigNatural(3 as UInt64),
        factorDenominator: BigNatural(4 as UInt64), prefix: 0, prefixBits: 0, noise: &noise)
      {
        hits += 1
      }
    }
    let p = 0.75 * exp(-0.5)
    #expect(abs(Double(hits) / Double(count) - p) < 4 * (p * (1 - p) / Double(count)).squareRoot())
  }
}
