import CoLearnPrivacy
import Foundation
import Testing

/// The exact discrete Gaussian sampler against the exact law. Fixed seeds and sample sizes make
/// every test deterministic; the χ² critical values are 0.999 quantiles, so a correct sampler
/// fails them with another seed with probability 10⁻³.
@Suite struct DiscreteGaussianTests {
  func samples(_ law: DiscreteGaussian, count: Int, seed: UInt64) throws -> [Int64] {
    var noise = NoiseSource.insecureSeeded(seed)
    return try (0..<count).map { _ in try law.sample(using: &noise) }
  }

  /// χ² of `draws` against the exact pmf on `bins` (closed ranges of x), with one extra bin for
  /// each tail beyond the first and last ranges.
  func chiSquareStatistic(
    _ draws: [Int64], law: DiscreteGaussian, bins: [ClosedRange<Int64>]
  ) -> (statistic: Double, expectedTotal: Double) {
    let low = bins[0].lowerBound
    let high = bins[bins.count - 1].upperBound
    var observed = [Int](repeating: 0, count: bins.count + 2)
    for x in draws {
      if x < low {
        observed[0] += 1
      } else if x > high {
        observed[bins.count + 1] += 1
      } else if let bin = bins.firstIndex(where: { $0.contains(x) }) {
        observed[1 + bin] += 1
      } else {
        Issue.record("\(x) is in no bin: the bins must cover \(low)...\(high)")
      }
    }
    let inBins = bins.map { range in range.reduce(0.0) { $0 + law.probability(of: $1) } }
    let lowerTail = stride(from: low - 1, through: low - 4000, by: -1).reduce(0.0) {
      $0 + law.probability(of: $1)
    }
    let upperTail = stride(from: high + 1, through: high + 4000, by: 1).reduce(0.0) {
      $0 + law.probability(of: $1)
    }
    let expected = [lowerTail] + inBins + [upperTail]
    let n = Double(draws.count)
    let total = expected.reduce(0, +)
    return (chiSquare(observed: observed, expected: expected.map { $0 * n }), total)
  }

  /// σ = 1.5 (σ² = 9/4 exactly): one bin per x in −5…5 and the tails |x| ≥ 6 (P = 9.4·10⁻⁵ each,
  /// ≈ 19 expected): 13 bins, 12 degrees of freedom, critical value 32.909
  /// (scipy.stats.chi2.ppf(0.999, 12)).
  @Test func chiSquareAtSigmaOneAndAHalf() throws {
    let law = DiscreteGaussian(varianceNumerator: 9, varianceDenominator: 4)
    #expect(law.sigma == 1.5)
    let draws = try samples(law, count: 200_000, seed: 11)
    let (statistic, total) = chiSquareStatistic(
      draws, law: law, bins: (-5...5).map { Int64($0)...Int64($0) })
    #expect(abs(total - 1) < 1e-12)
    #expect(statistic < 32.909, "χ² = \(statistic) with 12 degrees of freedom")
  }

  /// σ = 40 grid units: 30 bins of width 10 over −150…149 and the tails beyond (P(X ≥ 150) =
  /// 9.3·10⁻⁵, ≈ 19 expected): 32 bins, 31 degrees of freedom, critical value 61.098.
  @Test func chiSquareAtSigmaForty() throws {
    let law = DiscreteGaussian(sigma: 40)
    #expect(law.varianceNumerator == 1600 && law.varianceDenominator == 1)
    let draws = try samples(law, count: 200_000, seed: 12)
    let bins = stride(from: Int64(-150), to: 150, by: 10).map { $0...($0 + 9) }
    let (statistic, total) = chiSquareStatistic(draws, law: law, bins: bins)
    #expect(abs(total - 1) < 1e-12)
    #expect(statistic < 61.098, "χ² = \(statistic) with 31 degrees of freedom")
  }

  /// The normaliser by Poisson summation (σ ≥ 4) agrees with the direct sum, and the variance is
  /// below σ² (CKS 2020) — and equal to it to rounding once σ is a few units.
  @Test func exactLawIsNormalised() {
    for sigma in [1.5, 4.0, 40.0] {
      let law = DiscreteGaussian(sigma: sigma)
      let direct = (-4000...4000).reduce(0.0) {
        $0 + exp(-Double($1 * $1) / (2 * law.sigmaSquared))
      }
      #expect(abs(law.normalizer / direct - 1) < 1e-13)
    }
    let small = DiscreteGaussian(varianceNumerator: 1, varianceDenominator: 4)  // σ = 0.5
    // Var = 2Σ y²e^(−2y²)/Z = 2(e⁻² + 4e⁻⁸ + …)/(1 + 2e⁻² + 2e⁻⁸ + …) = 0.273354/1.271341
    // = 0.2150127 < 0.25.
    #expect(abs(small.variance - 0.2150127) < 1e-6)
  }

  @Test func meanAndVarianceMatchTheLaw() throws {
    let law = DiscreteGaussian(varianceNumerator: 9, varianceDenominator: 4)
    let (mean, variance) = meanAndVariance(try samples(law, count: 200_000, seed: 13))
    // Standard error of the mean 1.5/√200000 = 0.0034; of the variance ≈ 2.25·√(2/200000) = 0.007.
    #expect(abs(mean) < 0.02)
    #expect(abs(variance - law.variance) < 0.04)
  }

  /// σ = 2²⁰ grid units takes the 128-bit path (2·p·r·t² ≈ 2⁸¹): E|X| = σ√(2/π) to within the
  /// sampling error (|X| has standard deviation 0.60σ, so 20000 draws give ±0.43%), and the
  /// draws are spread out: about n²/(2·2√π·σ) ≈ 54 coinciding pairs are expected.
  @Test func largeScalesStayExact() throws {
    let sigma = Double(1 << 20)
    let law = DiscreteGaussian(sigma: sigma)
    let draws = try samples(law, count: 20_000, seed: 14)
    let meanMagnitude = draws.reduce(0.0) { $0 + Double($1.magnitude) } / Double(draws.count)
    #expect(abs(meanMagnitude / (sigma * (2 / Double.pi).squareRoot()) - 1) < 0.025)
    #expect(Set(draws).count > 19_850)
  }

  @Test func varianceIsRoundedUpNeverDown() {
    let law = DiscreteGaussian(sigma: 0.1)  // σ² = 0.01 → ⌈10.24⌉/1024 = 11/1024
    #expect(law.varianceNumerator == 11 && law.varianceDenominator == 1024)
    #expect(law.sigmaSquared >= 0.01 && law.sigmaSquared - 0.01 < 1.0 / 1024)
    // Representable variances stay exact (σ = 40: 1600/1; σ = 1.5: 9/4).
    let forty = DiscreteGaussian(sigma: 40)
    #expect(forty.varianceNumerator == 1600 && forty.varianceDenominator == 1)
    let oneAndAHalf = DiscreteGaussian(sigma: 1.5)
    #expect(oneAndAHalf.varianceNumerator == 9 && oneAndAHalf.varianceDenominator == 4)
    // 1.1² = 1.2100000000000002 in binary floating point: (1.1)² exactly is above that double
    // or below; either way p/r ≥ the exact square of the double 1.1.
    let eleven = DiscreteGaussian(sigma: 1.1)
    let p = Double(eleven.varianceNumerator)
    let r = Double(eleven.varianceDenominator)
    #expect(p / r >= 1.1 * 1.1 && (p - 1) / r < 1.1 * 1.1)
  }

  @Test func theSameSeedGivesTheSameNoise() throws {
    let law = DiscreteGaussian(sigma: 40)
    #expect(try samples(law, count: 100, seed: 9) == samples(law, count: 100, seed: 9))
    #expect(try samples(law, count: 100, seed: 9) != samples(law, count: 100, seed: 10))
  }

  @Test func decodingValidatesTheVariance() throws {
    let law = DiscreteGaussian(varianceNumerator: 9, varianceDenominator: 4)
    let decoded = try JSONDecoder().decode(
      DiscreteGaussian.self, from: JSONEncoder().encode(law))
    #expect(decoded == law)
    for bad in [
      #"{"varianceNumerator":0,"varianceDenominator":1}"#,
      #"{"varianceNumerator":9,"varianceDenominator":0}"#,
      #"{"varianceNumerator":4611686018427387904,"varianceDenominator":1}"#,
    ] {
      #expect(throws: DecodingError.self) {
        try JSONDecoder().decode(DiscreteGaussian.self, from: Data(bad.utf8))
      }
    }
    // σ = 10⁷: σ² = 10¹⁴ is an integer (r = 1), 2·p·t² ≈ 2·10²⁸ ≈ 2⁹⁴: supported. σ = 10⁹ is not
    // (2·σ⁴ ≈ 2¹²⁰ > 2¹¹⁰).
    let large = try #require(DiscreteGaussian.variance(roundingUp: 1e7))
    #expect(large.numerator == 100_000_000_000_000 && large.denominator == 1)
    #expect(DiscreteGaussian.variance(roundingUp: 1e9) == nil)
    #expect(DiscreteGaussian.variance(roundingUp: 0.01) == nil)
  }
}
