import CoLearnPrivacy
import Foundation
import Testing

/// The prepared sampler against the exact law, at the scales DP-SGD uses and at small ones, and
/// with its table squeezed so that the tail and the exact fallback carry much of the mass (the
/// law must not change). Fixed seeds make every test deterministic; the χ² critical values are
/// 0.999 quantiles.
@Suite struct DiscreteGaussianSamplerTests {
  func samples(_ sampler: DiscreteGaussianSampler, count: Int, seed: UInt64) throws -> [Int64] {
    var noise = NoiseSource.insecureSeeded(seed)
    return try (0..<count).map { _ in try sampler.sample(using: &noise) }
  }

  let reference = DiscreteGaussianTests()

  /// σ = 1.5: one bin per x in −5…5 and the two tails, 12 degrees of freedom (32.909).
  @Test func chiSquareAtSigmaOneAndAHalf() throws {
    let law = DiscreteGaussian(varianceNumerator: 9, varianceDenominator: 4)
    let sampler = DiscreteGaussianSampler(law)
    #expect(sampler.isFast)
    let draws = try samples(sampler, count: 200_000, seed: 21)
    let (statistic, _) = reference.chiSquareStatistic(
      draws, law: law, bins: (-5...5).map { Int64($0)...Int64($0) })
    #expect(statistic < 32.909, "χ² = \(statistic) with 12 degrees of freedom")
  }

  /// σ = 40 (blocks of 2): 30 bins of width 10 over −150…149 and the tails, 31 degrees of
  /// freedom (61.098).
  @Test func chiSquareAtSigmaForty() throws {
    let law = DiscreteGaussian(sigma: 40)
    let sampler = DiscreteGaussianSampler(law)
    #expect(sampler.blocks?.widthExponent == 1)
    let draws = try samples(sampler, count: 200_000, seed: 22)
    let bins = stride(from: Int64(-150), to: 150, by: 10).map { $0...($0 + 9) }
    let (statistic, _) = reference.chiSquareStatistic(draws, law: law, bins: bins)
    #expect(statistic < 61.098, "χ² = \(statistic) with 31 degrees of freedom")
  }

  /// σ = 2¹⁹ grid units, DP-SGD's scale for mnist-mlp (blocks of 2¹⁵): 32 bins of width σ/4
  /// over ±4σ and the tails (P(X ≥ 4σ) = 3.2·10⁻⁵, ≈ 6 expected), 33 degrees of freedom
  /// (63.870). The bins' probabilities are exact sums of the pmf.
  @Test func chiSquareAtDPSGDScale() throws {
    let sigma = Int64(1 << 19)
    let law = DiscreteGaussian(sigma: Double(sigma))
    let sampler = DiscreteGaussianSampler(law)
    #expect(sampler.blocks?.widthExponent == 15)
    let draws = try samples(sampler, count: 200_000, seed: 23)
    let width = sigma / 4
    var observed = [Int](repeating: 0, count: 34)
    for x in draws {
      observed[Int(max(-1, min(32, (x + 4 * sigma).floorDivided(by: width)))) + 1] += 1
    }
    // P(bin) = Σ_{x in bin} pmf(x), summed in closed form per bin by the pmf's symmetry and a
    // direct sum (131,072 terms a bin).
    var expected = [Double](repeating: 0, count: 34)
    for bin in 0..<32 {
      let low = -4 * sigma + Int64(bin) * width
      var total = 0.0
      for x in low..<(low + width) { total += law.probability(of: x) }
      expected[bin + 1] = total
    }
    let inside = expected.reduce(0, +)
    expected[0] = (1 - inside) / 2
    expected[33] = (1 - inside) / 2
    let n = Double(draws.count)
    let statistic = chiSquare(observed: observed, expected: expected.map { $0 * n })
    #expect(statistic < 63.870, "χ² = \(statistic) with 33 degrees of freedom")
    let (mean, variance) = meanAndVariance(draws)
    // Standard errors: σ/√n = 1172 for the mean; σ²·√(2/n) (0.32%) for the variance.
    #expect(abs(mean) < 4 * 1172)
    #expect(abs(variance / law.variance - 1) < 0.013)
  }

  /// Small σ (one-unit blocks, c ≥ 2): σ = 0.5 and σ = 2⁻⁵ against the exact variance, and
  /// P(X = 0) against the pmf.
  @Test func smallScalesStayExact() throws {
    for (p, r, seed) in [(UInt64(1), UInt64(4), UInt64(24)), (1, 1024, 25)] {
      let law = DiscreteGaussian(varianceNumerator: p, varianceDenominator: r)
      let sampler = DiscreteGaussianSampler(law)
      #expect(sampler.isFast)
      let draws = try samples(sampler, count: 100_000, seed: seed)
      let zeros = Double(draws.filter { $0 == 0 }.count) / Double(draws.count)
      let p0 = law.probability(of: 0)
      #expect(abs(zeros - p0) < 4 * (p0 * (1 - p0) / Double(draws.count)).squareRoot() + 1e-9)
      let (_, variance) = meanAndVariance(draws)
      let tolerance = 4 * law.variance * (2 / Double(draws.count)).squareRoot() + 1e-4
      #expect(abs(variance - law.variance) < tolerance, "σ² = \(p)/\(r): \(variance)")
    }
  }

  /// The same law with a squeezed table: slack 1 (a third of the proposals land in the tail)
  /// and a reach of 2 (the table stops at c·m² ≥ 2, so values beyond about 2σ come from the
  /// tail, whose every acceptance is decided by the exact fallback). χ² at σ = 1.5 and σ = 40.
  @Test func theTailAndTheExactFallbackKeepTheLaw() throws {
    let small = DiscreteGaussian(varianceNumerator: 9, varianceDenominator: 4)
    let squeezed = DiscreteGaussianSampler(small, tableSlack: 1, tableReach: 2)
    #expect(squeezed.isFast && squeezed.blocks?.count == 3)
    let draws = try samples(squeezed, count: 100_000, seed: 26)
    let (statistic, _) = reference.chiSquareStatistic(
      draws, law: small, bins: (-5...5).map { Int64($0)...Int64($0) })
    #expect(statistic < 32.909, "χ² = \(statistic) with 12 degrees of freedom")

    let forty = DiscreteGaussian(sigma: 40)
    let squeezedForty = DiscreteGaussianSampler(forty, tableSlack: 1, tableReach: 2)
    #expect(squeezedForty.isFast)
    let drawsForty = try samples(squeezedForty, count: 100_000, seed: 27)
    let bins = stride(from: Int64(-150), to: 150, by: 10).map { $0...($0 + 9) }
    let (statisticForty, _) = reference.chiSquareStatistic(drawsForty, law: forty, bins: bins)
    #expect(statisticForty < 61.098, "χ² = \(statisticForty) with 31 degrees of freedom")
  }

  @Test func theSameSeedGivesTheSameNoise() throws {
    let sampler = DiscreteGaussianSampler(DiscreteGaussian(sigma: 524_288))
    let first = try samples(sampler, count: 1000, seed: 9)
    #expect(first == (try samples(sampler, count: 1000, seed: 9)))
    #expect(first != (try samples(sampler, count: 1000, seed: 10)))
  }

  /// The ends of the supported range take the fast path: σ = 10⁷ (p = 10¹⁴, r = 1: the largest
  /// blocks), and σ = 2⁻¹⁰ (p = 1, r = 2²⁰: one-unit blocks with c = 2¹⁹, whose tail needs
  /// e^−x for x ≥ 2¹⁹ — bounded without computing it), where every draw is 0.
  @Test func theEndsOfTheSupportedRangeAreFast() throws {
    let wide = DiscreteGaussianSampler(DiscreteGaussian(sigma: 1e7))
    #expect(wide.isFast)
    let draws = try samples(wide, count: 20_000, seed: 28)
    let meanMagnitude = draws.reduce(0.0) { $0 + Double($1.magnitude) } / Double(draws.count)
    #expect(abs(meanMagnitude / (1e7 * (2 / Double.pi).squareRoot()) - 1) < 0.025)
    let narrow = DiscreteGaussianSampler(
      DiscreteGaussian(varianceNumerator: 1, varianceDenominator: 1 << 20),
      tableSlack: 1)  // a large tail, so that its exact path runs often
    #expect(narrow.isFast && narrow.blocks?.count == 1)
    #expect(try samples(narrow, count: 2_000, seed: 29).allSatisfy { $0 == 0 })
  }
}

extension Int64 {
  /// ⌊self / divisor⌋ for a positive divisor.
  fileprivate func floorDivided(by divisor: Int64) -> Int64 {
    let (q, r) = quotientAndRemainder(dividingBy: divisor)
    return r < 0 ? q - 1 : q
  }
}
