import CoLearnPrivacy
import Testing

@Suite struct NoiseSourceTests {
  @Test func theSecureSourceProducesVariedBits() throws {
    var noise = NoiseSource.secure
    #expect(noise.isSecure)
    // 2000 words cross the 512-word buffer several times, so refills are exercised.
    let words = try (0..<2000).map { _ in try noise.nextWord() }
    #expect(Set(words).count == words.count)
    // 128000 bits: the number of ones has standard deviation √(128000/4) ≈ 179.
    let ones = words.reduce(0) { $0 + $1.nonzeroBitCount }
    #expect(abs(ones - 64_000) < 1_500)
  }

  @Test func theExactSamplerWorksWithTheSecureSource() throws {
    var noise = NoiseSource.secure
    let law = DiscreteLaplace(scaleNumerator: 5)
    let draws = try (0..<20_000).map { _ in try law.sample(using: &noise) }
    let (mean, variance) = meanAndVariance(draws)
    // Variance 49.83; the mean's standard error is √(49.83/20000) = 0.05 — loose bounds,
    // since a secure source cannot be seeded (a failure here is a ~10⁻⁹ event).
    #expect(abs(mean) < 0.35)
    #expect(abs(variance / law.variance - 1) < 0.15)
    #expect(Set(draws).count > 20)
  }

  @Test func aSeededSourceSaysLoudlyThatItIsNotPrivate() {
    let noise = NoiseSource.insecureSeeded(42)
    #expect(!noise.isSecure)
    #expect(noise.description.contains("NOT private"))
    #expect(noise.description.contains("INSECURE"))
    #expect(!NoiseSource.secure.description.contains("INSECURE"))
  }

  @Test func theSystemGeneratorFillsLargeBuffers() throws {
    var bytes = [UInt8](repeating: 0, count: 1 << 20)
    let result = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(PrivacyError) in try SystemRandom.fill(buffer) }
    }
    try result.get()
    #expect(Set(bytes).count == 256)
  }

  @Test func theDeviceFallbackReadsAndFailsWithAnError() throws {
    var bytes = [UInt8](repeating: 0, count: 4096)
    let read = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(PrivacyError) in try SystemRandom.fill(buffer, fromDevice: "/dev/urandom") }
    }
    try read.get()
    #expect(Set(bytes).count > 200)

    let missing = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(PrivacyError) in
        try SystemRandom.fill(buffer, fromDevice: "/nonexistent/colearn-random")
      }
    }
    guard case .failure(let error) = missing,
      case .secureRandomUnavailable(_, let path, let deviceErrno) = error
    else {
      Issue.record("reading a missing device did not fail: \(missing)")
      return
    }
    #expect(path == "/nonexistent/colearn-random")
    #expect(deviceErrno != 0)
    #expect(error.description.contains("readable"))

    // A device that ends (an empty file) is an error too, not a short read.
    let empty = bytes.withUnsafeMutableBytes { buffer in
      Result { () throws(PrivacyError) in try SystemRandom.fill(buffer, fromDevice: "/dev/null") }
    }
    #expect(throws: PrivacyError.self) { try empty.get() }
  }
}
