import CoLearnDSSGD
import CoLearnPrivacy
import CoLearnTensor
import Testing

/// DP-SGD's noise (issue 21): released values lie on the grid, the noise has the asked standard
/// deviation, the accountant's multiplier is just below the nominal σ, and a seeded run gives
/// the same noise on one thread as on two (the streams are fixed, not per thread).
@Suite(.serialized) struct DiscreteGaussianGradientNoiseTests {
  func noised(threads: Int, dimension: Int = 20_000, seed: UInt64 = 7) throws -> ([Float], DiscreteGaussianGradientNoise) {
    let previous = BLAS.threadCount
    BLAS.setThreadCount(threads)
    defer { BLAS.setThreadCount(previous) }
    var noise = try DiscreteGaussianGradientNoise(
      clipNorm: 0.5, noiseMultiplier: 1.3, dimension: dimension, source: .insecureSeeded(seed))
    var values = (0..<dimension).map { Float($0 % 7) * 0.01 }
    try values.withUnsafeMutableBufferPointer {
      try noise.addNoise(standardDeviation: 1.3 * 0.5, to: $0)
    }
    return (values, noise)
  }

  @Test func seededNoiseIsTheSameOnOneThreadAndOnTwo() throws {
    let (one, _) = try noised(threads: 1)
    let (two, _) = try noised(threads: 2)
    #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
    let (other, _) = try noised(threads: 2, seed: 8)
    #expect(one != other)
  }

  @Test func valuesLieOnTheGridWithTheAskedDeviation() throws {
    let dimension = 20_000
    let (values, noise) = try noised(threads: 2, dimension: dimension)
    let g = noise.grid.granularity
    var sum = 0.0
    var squares = 0.0
    for (j, value) in values.enumerated() {
      let units = Double(value) / g
      // Float keeps a multiple of g exactly while it has at most 24 significant bits.
      #expect(abs(units - units.rounded()) < 1e-3, "value \(j) is off the grid")
      let noiseOnly = Double(value) - Double(Float(j % 7) * 0.01)
      sum += noiseOnly
      squares += noiseOnly * noiseOnly
    }
    let mean = sum / Double(dimension)
    let deviation = (squares / Double(dimension) - mean * mean).squareRoot()
    // σ·C = 0.65; the sample deviation of 20,000 draws is within ±2% (about 4 standard errors).
    #expect(abs(deviation / 0.65 - 1) < 0.02, "\(deviation)")
    #expect(abs(mean) < 4 * 0.65 / Double(dimension).squareRoot(), "\(mean)")
    // The accountant charges σ_u / (C/g + √d): just below σ = 1.3.
    #expect(noise.effectiveNoiseMultiplier < 1.3 && noise.effectiveNoiseMultiplier > 1.3 * 0.999)
  }
}
