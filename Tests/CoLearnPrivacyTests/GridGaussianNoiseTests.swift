import CoLearnPrivacy
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

@Suite struct GridGaussianNoiseTests {
  /// L2 norm of integer units.
  func norm(_ units: [Int64]) -> Double {
    units.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
  }

  /// A random vector of norm exactly `norm` (before rounding).
  func vector(dimension: Int, norm target: Double, using generator: inout SeededGenerator)
    -> [Double]
  {
    let raw = (0..<dimension).map { _ in Double.random(in: -1...1, using: &generator) }
    let length = raw.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
    return raw.map { $0 * target / length }
  }

  /// Noised values are exactly k·g: dividing by g gives an integer, for every rounding.
  @Test func releasedValuesLieOnTheGrid() throws {
    let noise = try GridGaussianNoise(standardDeviation: 0.3, granularityExponent: -8)
    #expect(noise.granularity == 1.0 / 256)
    #expect(noise.standardDeviation >= 0.3 && noise.standardDeviation < 0.3 * (1 + 1e-5))
    var generator = SeededGenerator(seed: 1)
    var source = NoiseSource.insecureSeeded(2)
    for rounding in GridGaussianNoise.Rounding.allCases {
      let x = vector(dimension: 500, norm: 3, using: &generator)
      var units = x.map { noise.units(of: $0, rounding: rounding) }
      let before = units
      try noise.addNoise(to: &units, using: &source)
      #expect(units != before)
      for k in units {
        let value = noise.value(ofUnits: k)
        #expect((value / noise.granularity).rounded() == value / noise.granularity)
      }
    }
  }

  /// Rounding toward zero never moves a coordinate away from zero (so never raises the norm) and
  /// moves it by less than g; nearest moves it by at most g/2.
  @Test func roundingBoundsPerCoordinate() throws {
    let noise = try GridGaussianNoise(standardDeviation: 1, granularityExponent: -3)
    let g = noise.granularity
    var generator = SeededGenerator(seed: 3)
    for _ in 0..<10_000 {
      let x = Double.random(in: -10...10, using: &generator)
      let down = noise.value(ofUnits: noise.units(of: x, rounding: .perRecordTowardZero))
      #expect(abs(down) <= abs(x) && abs(x - down) < g)
      let nearest = noise.value(ofUnits: noise.units(of: x, rounding: .perRecordNearest))
      #expect(abs(x - nearest) <= g / 2)
    }
    #expect(noise.units(of: 1e300, rounding: .perRecordNearest) == GridGaussianNoise.maximumUnits)
    #expect(noise.units(of: .nan, rounding: .perRecordTowardZero) == 0)
  }

  /// The per-record bounds hold on random clipped records, and are needed: C = 1, g = 1/4, d = 2,
  /// x = (1/√2, 1/√2) is 2.83 units per coordinate; nearest rounding gives (3, 3), norm
  /// 4.243 > C/g = 4 (but ≤ 4 + √2/2 = 4.707); toward zero gives (2, 2), norm 2.83 ≤ 4.
  @Test func perRecordNormBounds() throws {
    let noise = try GridGaussianNoise(standardDeviation: 1, granularityExponent: -2)
    let diagonal = [(0.5).squareRoot(), (0.5).squareRoot()]
    let nearest = diagonal.map { noise.units(of: $0, rounding: .perRecordNearest) }
    #expect(nearest == [3, 3])
    #expect(norm(nearest) > 4)
    #expect(
      norm(nearest) <= noise.recordNormBound(clipNorm: 1, dimension: 2, rounding: .perRecordNearest)
    )
    let down = diagonal.map { noise.units(of: $0, rounding: .perRecordTowardZero) }
    #expect(down == [2, 2])
    #expect(noise.recordNormBound(clipNorm: 1, dimension: 2, rounding: .perRecordTowardZero) == 4)

    var generator = SeededGenerator(seed: 4)
    let fine = try GridGaussianNoise(standardDeviation: 1, granularityExponent: -6)
    for dimension in [1, 7, 300] {
      for _ in 0..<200 {
        let x = vector(dimension: dimension, norm: 1, using: &generator)
        for rounding in [GridGaussianNoise.Rounding.perRecordTowardZero, .perRecordNearest] {
          let units = x.map { fine.units(of: $0, rounding: rounding) }
          let bound = fine.recordNormBound(clipNorm: 1, dimension: dimension, rounding: rounding)
          #expect(norm(units) <= bound * (1 + 1e-12), "\(rounding) d = \(dimension)")
        }
      }
    }
  }

  /// Rounding the summed batch: a record v moves round(S + v) − round(S) by at most C/g + √d,
  /// and the full √d is needed — d = 1, S = 0.49g, v = 0.02g: round(0.51) − round(0.49) = 1 unit,
  /// more than 0.02 + ½.
  @Test func sumRoundingBound() throws {
    let noise = try GridGaussianNoise(standardDeviation: 1, granularityExponent: 0)
    let jump =
      noise.units(of: 0.51, rounding: .sumNearest) - noise.units(of: 0.49, rounding: .sumNearest)
    #expect(jump == 1)
    #expect(1 > 0.02 + 0.5)
    var generator = SeededGenerator(seed: 5)
    let fine = try GridGaussianNoise(standardDeviation: 1, granularityExponent: -4)
    let dimension = 50
    let bound = fine.recordNormBound(clipNorm: 1, dimension: dimension, rounding: .sumNearest)
    #expect(abs(bound - (16 + (50.0).squareRoot())) < 1e-12)
    for _ in 0..<500 {
      let sum = (0..<dimension).map { _ in Double.random(in: -5...5, using: &generator) }
      let record = vector(dimension: dimension, norm: 1, using: &generator)
      let with = zip(sum, record).map { fine.units(of: $0 + $1, rounding: .sumNearest) }
      let without = sum.map { fine.units(of: $0, rounding: .sumNearest) }
      #expect(norm(zip(with, without).map { $0 - $1 }) <= bound)
    }
  }

  /// The multiplier to charge is σ_u/Δ_u; the chosen grid keeps nearest rounding's inflation
  /// within the asked fraction of C and is the coarsest such power of two.
  @Test func noiseMultiplierAndGranularity() throws {
    // C = 1, d = 10⁶, 1% inflation: g ≤ 2·0.01/1000 = 2·10⁻⁵ → 2⁻¹⁶ = 1.53·10⁻⁵.
    let exponent = GridGaussianNoise.granularityExponent(
      clipNorm: 1, dimension: 1_000_000, inflation: 0.01)
    #expect(exponent == -16)
    let noise = try GridGaussianNoise(standardDeviation: 1.1, granularityExponent: exponent)
    let bound = noise.recordNormBound(
      clipNorm: 1, dimension: 1_000_000, rounding: .perRecordNearest)
    #expect(bound == 65536 + 500 && bound <= 65536 * 1.01)
    // The next coarser grid, 2⁻¹⁵, would inflate by √d·g/2 = 1000·2⁻¹⁶ = 1.5% > 1%.
    #expect(1000 * pow(2, -16.0) > 0.01)
    // σ_u = 1.1·2¹⁶ = 72089.6, rounded up in σ² by at most 2⁻¹⁰.
    #expect(abs(noise.law.sigma - 72089.6) < 1e-6)
    let exact = noise.noiseMultiplier(
      clipNorm: 1, dimension: 1_000_000, rounding: .perRecordTowardZero)
    #expect(abs(exact - 1.1) < 1e-9)
    let inflated = noise.noiseMultiplier(
      clipNorm: 1, dimension: 1_000_000, rounding: .perRecordNearest)
    #expect(abs(inflated - 72089.6 / (65536 + 500)) < 1e-9)
  }

  /// σ/g outside the exact sampler's range is a typed error naming σ and g, not a trap.
  @Test func noiseOutsideTheSamplersRangeIsATypedError() {
    #expect(throws: PrivacyError.noiseOutOfRange(standardDeviation: 1e4, granularity: 0x1p-16)) {
      try GridGaussianNoise(standardDeviation: 1e4, granularityExponent: -16)  // 6.6·10⁸ units
    }
    #expect(throws: PrivacyError.self) {
      try GridGaussianNoise(standardDeviation: 0.001, granularityExponent: 0)  // 10⁻³ units
    }
    #expect(throws: PrivacyError.self) {
      try GridGaussianNoise(standardDeviation: .nan, granularityExponent: 0)
    }
    #expect(throws: Never.self) {
      try GridGaussianNoise(standardDeviation: 60, granularityExponent: -16)  // 3.9·10⁶ units
    }
  }
}
