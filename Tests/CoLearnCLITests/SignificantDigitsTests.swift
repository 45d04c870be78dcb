import Foundation
import Testing

@testable import CoLearnCLI

/// `colearn predict`'s number formatting against C's `%.6g` and `%.9g` (what it replaced): the
/// same text for probabilities and log-probabilities across their whole range, the edges
/// (powers of ten, rounding carries, the switch to exponent form) and random floats.
@Suite struct SignificantDigitsTests {
  func formatted(_ value: Double, _ digits: Int) -> String {
    var bytes: [UInt8] = []
    SignificantDigits.append(value, digits: digits, to: &bytes)
    return String(decoding: bytes, as: UTF8.self)
  }

  @Test func edgesMatchPrintf() {
    let values: [Double] = [
      0, -0.0, 1, -1, 0.5, 1e-4, 9.99999e-5, 9.999995e-5, 0.0001234565, 123456, 999999.5,
      1234567, 1e-45, 3.4028234663852886e38, 0.1, 0.30000001192092896, 0.999999, 0.9999995,
      0.99999999, 1e-5, 12.5, -88.72283935546875, .infinity, -.infinity,
    ]
    for value in values {
      for digits in [6, 9] {
        #expect(formatted(value, digits) == String(format: "%.\(digits)g", value), "\(value)")
      }
    }
    #expect(formatted(.nan, 6) == "nan")
  }

  @Test func randomFloatsMatchPrintf() {
    var generator = SystemRandomNumberGenerator()
    var mismatches: [String] = []
    for _ in 0..<200_000 {
      // Probabilities over many decades and log-probabilities; values are floats, as written.
      let exponent = Float.random(in: -40...0, using: &generator)
      let probability = Double(Float(pow(10, Double(exponent))))
      let logarithm = Double(Float.random(in: -120...0, using: &generator))
      for (value, digits) in [(probability, 6), (logarithm, 9), (probability, 9)] {
        let expected = String(format: "%.\(digits)g", value)
        if formatted(value, digits) != expected { mismatches.append("\(value) \(digits): \(expected)") }
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
  }

  @Test func integers() {
    for value in [0, 7, 10, 99, 100, 12_345, 1_000_000] {
      var bytes: [UInt8] = []
      SignificantDigits.appendInteger(value, to: &bytes)
      #expect(String(decoding: bytes, as: UTF8.self) == String(value))
    }
  }
}
