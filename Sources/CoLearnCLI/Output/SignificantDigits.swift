import Foundation

/// C's `%.Pg` for the numbers `colearn predict` writes, appended as bytes: `P` significant
/// digits, trailing zeros dropped, exponent form (`1.23457e-05`) below 10⁻⁴ and at 10^P or
/// above — without `String(format:)`, whose Foundation formatting and per-argument casts took
/// longer than the forward passes (10,000 MNIST rows × 10 classes).
///
/// The P digits are the value scaled by an exact power of ten and rounded to nearest (ties to
/// even); beyond 10²² the scaling takes two roundings, which can move the last digit only when
/// the value lies within about 10⁻¹⁵ (relative) of a tie.
enum SignificantDigits {
  private static let powers: [Double] = (0...22).map { pow(10, Double($0)) }

  /// Appends `value` with `digits` (1…15) significant digits to `out`.
  static func append(_ value: Double, digits: Int, to out: inout [UInt8]) {
    precondition((1...15).contains(digits), "1 to 15 significant digits")
    if value.isNaN {
      out.append(contentsOf: (value.sign == .minus ? "-nan" : "nan").utf8)
      return
    }
    if value.sign == .minus { out.append(UInt8(ascii: "-")) }
    let magnitude = value.magnitude
    if magnitude.isInfinite {
      out.append(contentsOf: "inf".utf8)
      return
    }
    if magnitude == 0 {
      out.append(UInt8(ascii: "0"))
      return
    }
    var exponent = Int(log10(magnitude).rounded(.down))
    var mantissa = scaled(magnitude, by: digits - 1 - exponent).rounded(.toNearestOrEven)
    let low = powers[digits - 1]
    if mantissa < low {  // log10 rounded up across a power of ten
      exponent -= 1
      mantissa = scaled(magnitude, by: digits - 1 - exponent).rounded(.toNearestOrEven)
    }
    if mantissa >= powers[digits] {  // rounding carried into a new digit: 9.999995 → 10.0000
      exponent += 1
      mantissa = low
    }
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { digitBytes in
      var n = UInt64(mantissa)
      for index in stride(from: digits - 1, through: 0, by: -1) {
        digitBytes[index] = UInt8(ascii: "0") + UInt8(n % 10)
        n /= 10
      }
      let all = UnsafeBufferPointer(rebasing: digitBytes[0..<digits])
      // Trailing zeros of the fraction are dropped.
      if exponent < -4 || exponent >= digits {
        let kept = significant(all, minimum: 1)
        out.append(all[0])
        if kept > 1 {
          out.append(UInt8(ascii: "."))
          out.append(contentsOf: all[1..<kept])
        }
        out.append(UInt8(ascii: "e"))
        out.append(UInt8(ascii: exponent < 0 ? "-" : "+"))
        if exponent.magnitude < 10 { out.append(UInt8(ascii: "0")) }
        appendInteger(Int(exponent.magnitude), to: &out)
      } else if exponent >= 0 {
        let whole = exponent + 1
        out.append(contentsOf: all[0..<whole])
        let kept = significant(all, minimum: whole)
        if kept > whole {
          out.append(UInt8(ascii: "."))
          out.append(contentsOf: all[whole..<kept])
        }
      } else {
        out.append(UInt8(ascii: "0"))
        out.append(UInt8(ascii: "."))
        for _ in 0..<(-exponent - 1) { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: all[0..<significant(all, minimum: 1)])
      }
    }
  }

  /// Appends the decimal digits of `value` (≥ 0).
  static func appendInteger(_ value: Int, to out: inout [UInt8]) {
    precondition(value >= 0, "a count")
    var divisor = 1
    while divisor <= value / 10 { divisor *= 10 }
    var rest = value
    while divisor > 0 {
      out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
      rest %= divisor
      divisor /= 10
    }
  }

  /// The count of leading digits left when trailing zeros are dropped, at least `minimum`.
  private static func significant(_ digits: UnsafeBufferPointer<UInt8>, minimum: Int) -> Int {
    var count = digits.count
    while count > minimum, digits[count - 1] == UInt8(ascii: "0") { count -= 1 }
    return count
  }

  /// `value` × 10^`power`, with exact powers of ten (two steps beyond 10²²).
  private static func scaled(_ value: Double, by power: Int) -> Double {
    var result = value
    var remaining = power
    while remaining > 22 {
      result *= powers[22]
      remaining -= 22
    }
    while remaining < -22 {
      result /= powers[22]
      remaining += 22
    }
    return remaining >= 0 ? result * powers[remaining] : result / powers[-remaining]
  }
}
