import CoLearnPrivacy
import Foundation
import Testing

/// The exact sampler against the exact law. Fixed seeds and fixed sample sizes make every test
/// deterministic; the tolerances are about five standard errors, so a correct sampler would fail
/// them with a different seed only with negligible probability.
@Suite struct DiscreteLaplaceTests {
  func samples(_ law: DiscreteLaplace, count: Int, seed: UInt64) throws -> [Int64] {
    var noise = NoiseSource.insecureSeeded(seed)
    return try (0..<count).map { _ in try law.sample(using: &noise) }
  }

  @Test func meanAndVarianceMatchTheExactLawAtScaleThree() throws {
    let law = DiscreteLaplace(scaleNumerator: 3)
    // q = e^(−1/3) = 0.716531; variance 2q/(1 − q)² = 1.433063/0.080354 = 17.834255.
    #expect(abs(law.variance - 17.834255) < 1e-5)
    let n = 200_000
    let (mean, variance) = meanAndVariance(try samples(law, count: n, seed: 1))
    // Standard error of the mean √(17.83/200000) = 0.0094.
    #expect(abs(mean) < 0.05)
    // The variance's relative standard error is √((kurtosis − 1)/n) ≈ √(5/200000) = 0.5%.
    #expect(abs(variance / law.variance - 1) < 0.03)
  }

  @Test func meanAndVarianceMatchAtARationalScale() throws {
    let law = DiscreteLaplace(scaleNumerator: 7, scaleDenominator: 2)
    // b = 3.5: q = e^(−2/7) = 0.751477; variance 2q/(1 − q)² = 24.334011.
    #expect(abs(law.variance - 24.334011) < 1e-5)
    let (mean, variance) = meanAndVariance(try samples(law, count: 200_000, seed: 2))
    #expect(abs(mean) < 0.06)
    #expect(abs(variance / law.variance - 1) < 0.03)
  }

  /// χ² goodness of fit against P(x) = (1 − q)/(1 + q)·q^|x| at b = 3: one bin per x in
  /// −15…15 (the smallest expects 200000·0.16514·q¹⁵ ≈ 222) and one bin for each tail
  /// (P(X > 15) = q¹⁶/(1 + q) ≈ 0.0028, ≈ 560 expected): 33 bins, 32 degrees of freedom. The
  /// critical value 62.487 is the 0.999 quantile of χ²(32) (scipy.stats.chi2.ppf(0.999, 32)).
  @Test func chiSquareAgainstTheExactProbabilities() throws {
    let law = DiscreteLaplace(scaleNumerator: 3)
    let n = 200_000
    let limit: Int64 = 15
    var observed = [Int](repeating: 0, count: 2 * Int(limit) + 3)
    for x in try samples(law, count: n, seed: 3) {
      let bin = x < -limit ? 0 : x > limit ? observed.count - 1 : Int(x + limit) + 1
      observed[bin] += 1
    }
    let q = law.ratio
    let tail = pow(q, Double(limit + 1)) / (1 + q)
    let expected =
      [tail] + (-limit...limit).map { law.probability(of: $0) } + [tail]
    #expect(abs(expected.reduce(0, +) - 1) < 1e-12)
    let statistic = chiSquare(observed: observed, expected: expected.map { $0 * Double(n) })
    #expect(statistic < 62.487, "χ² = \(statistic) with 32 degrees of freedom")
  }

  @Test func largeScalesStayExact() throws {
    // b = 2⁴⁰: E|X| = 2q/(1 − q²) = 1099511627775 ≈ b; |X| has standard deviation ≈ b, so
    // 20000 samples estimate the mean to ±0.7%.
    let law = DiscreteLaplace(scaleNumerator: 1 << 40)
    let draws = try samples(law, count: 20_000, seed: 4)
    let meanMagnitude = draws.reduce(0.0) { $0 + Double($1.magnitude) } / Double(draws.count)
    #expect(abs(meanMagnitude / 1099511627775.0 - 1) < 0.04)
    #expect(Set(draws).count > 19_990)
  }

  @Test func theSameSeedGivesTheSameNoise() throws {
    let law = DiscreteLaplace(scaleNumerator: 1000)
    #expect(try samples(law, count: 100, seed: 9) == samples(law, count: 100, seed: 9))
    #expect(try samples(law, count: 100, seed: 9) != samples(law, count: 100, seed: 10))
  }
}

@Suite struct ExactCoinTests {
  /// Relative frequency of `event` over n trials.
  func frequency(
    _ n: Int, seed: UInt64, _ event: (inout NoiseSource) throws -> Bool
  ) throws -> Double {
    var noise = NoiseSource.insecureSeeded(seed)
    var hits = 0
    for _ in 0..<n where try event(&noise) { hits += 1 }
    return Double(hits) / Double(n)
  }

  @Test func rationalCoins() throws {
    // Standard error at n = 200000 is at most √(0.25/200000) = 0.0011.
    let third = try frequency(200_000, seed: 1) { try $0.bernoulli(numerator: 1, denominator: 3) }
    #expect(abs(third - 1.0 / 3) < 0.006)
    let big = try frequency(200_000, seed: 2) {
      try $0.bernoulli(numerator: 3 << 60, denominator: 1 << 62)  // 3/4
    }
    #expect(abs(big - 0.75) < 0.006)
    let never = try frequency(1000, seed: 3) { try $0.bernoulli(numerator: 0, denominator: 5) }
    let always = try frequency(1000, seed: 3) { try $0.bernoulli(numerator: 5, denominator: 5) }
    #expect(never == 0 && always == 1)
  }

  @Test func exponentialCoins() throws {
    // e^(−1/2) = 0.606531, e^(−5/2) = 0.082085, e^(−7/3) = 0.096972.
    let half = try frequency(200_000, seed: 4) {
      try $0.bernoulliExp(numerator: 1, denominator: 2)
    }
    #expect(abs(half - 0.606531) < 0.006)
    let twoAndHalf = try frequency(200_000, seed: 5) {
      try $0.bernoulliExp(whole: 2, numerator: 1, denominator: 2)
    }
    #expect(abs(twoAndHalf - 0.082085) < 0.004)
    let sevenThirds = try frequency(200_000, seed: 6) {
      try $0.bernoulliExp(whole: 2, numerator: 1, denominator: 3)
    }
    #expect(abs(sevenThirds - 0.096972) < 0.004)
    let one = try frequency(1000, seed: 7) { try $0.bernoulliExp(numerator: 0, denominator: 9) }
    #expect(one == 1)
  }

  /// χ² of uniform(below: 7): 7 bins, 6 degrees of freedom, 0.999 quantile 22.458.
  @Test func uniformIntegers() throws {
    var noise = NoiseSource.insecureSeeded(8)
    var observed = [Int](repeating: 0, count: 7)
    for _ in 0..<70_000 { observed[Int(try noise.uniform(below: 7))] += 1 }
    let statistic = chiSquare(observed: observed, expected: Array(repeating: 10_000, count: 7))
    #expect(statistic < 22.458)
    #expect(try noise.uniform(below: 1) == 0)
  }
}
