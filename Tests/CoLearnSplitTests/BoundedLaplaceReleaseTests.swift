import CoLearnPrivacy
import CoLearnSplit
import Testing

/// The feature noise: Lap(S/ε) with S = 2·√(B−1), on a power-of-two grid.
@Suite struct BoundedLaplaceReleaseTests {
  @Test(arguments: [(64, 5.0), (64, 2.0), (64, 1.0), (32, 2.0), (128, 2.0)])
  func scaleIsSensitivityOverEpsilon(batchSize: Int, epsilon: Double) {
    let bound = Float(batchNormBound(batchSize: batchSize))
    let release = BoundedLaplaceRelease(bound: bound, epsilon: epsilon)
    let expected = 2 * Double(bound) / epsilon
    #expect(release.sensitivity == 2 * Double(bound))
    #expect(abs(release.nominalScale - expected) <= 1e-12 * expected)
    // Rounded up to whole grid steps: never less noise, at most 2⁻¹² more.
    #expect(release.appliedScale >= release.nominalScale)
    #expect(release.appliedScale <= release.nominalScale * (1 + 1.0 / 4096))
    #expect(release.gridStep == Double(sign: .plus, exponent: release.gridStep.exponent, significand: 1))
  }

  /// The empirical noise: mean 0, mean |n| ≈ b (Laplace), on the grid.
  @Test func noiseHasTheLaplaceScale() throws {
    let release = BoundedLaplaceRelease(bound: Float(63.0.squareRoot()), epsilon: 2)
    var source = NoiseSource.insecureSeeded(42)
    var values = [Float](repeating: 0, count: 200_000)
    try values.withUnsafeMutableBufferPointer { try release.release($0, using: &source) }
    let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
    let meanAbsolute = values.reduce(0.0) { $0 + abs(Double($1)) } / Double(values.count)
    let b = release.nominalScale  // 7.94
    // Standard error of mean |n| is b/√n ≈ 0.018; of the mean √2·b/√n ≈ 0.025.
    #expect(abs(mean) < 0.1, "mean \(mean)")
    #expect(abs(meanAbsolute - b) < 0.05 * b, "mean |noise| \(meanAbsolute), scale \(b)")
    let variance = values.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(values.count)
    #expect(abs(variance.squareRoot() - release.noiseStandardDeviation) < 0.03 * release.noiseStandardDeviation)
    for value in values.prefix(1000) {
      let units = Double(value) / release.gridStep
      #expect(units == units.rounded(), "released values lie on the grid")
    }
  }

  /// Inputs outside the interval are clamped to it before noise (they cannot raise the
  /// sensitivity), and the centre shifts the interval.
  @Test func clampsInputsAndHonoursTheCentre() throws {
    let release = BoundedLaplaceRelease(center: 10, bound: 2, epsilon: 1e6)
    var source = NoiseSource.insecureSeeded(1)
    var values: [Float] = [100, -100, 10, 11]
    try values.withUnsafeMutableBufferPointer { try release.release($0, using: &source) }
    // ε = 10⁶: the noise is a few grid steps at most.
    let tolerance: Float = 1e-3
    #expect(abs(values[0] - 12) < tolerance && abs(values[1] - 8) < tolerance)
    #expect(abs(values[2] - 10) < tolerance && abs(values[3] - 11) < tolerance)
  }
}
