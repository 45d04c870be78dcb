/// Natural numbers of any size, for the rare exact fallbacks of ``DiscreteGaussianSampler``
/// (bounds on e^−x to as many bits as a comparison needs). Little-endian 64-bit limbs, no
/// trailing zero limbs (zero has none). Only what those fallbacks need; not fast.
///
/// Threading: a value type.
public struct BigNatural: Sendable, Comparable, CustomStringConvertible {
  /// The limbs, least significant first, without trailing zeros.
  public private(set) var limbs: [UInt64]

  /// The number `value`.
  public init(_ value: UInt64) {
    limbs = value == 0 ? [] : [value]
  }

  /// The number `value`.
  public init(_ value: UInt128) {
    limbs = [UInt64(truncatingIfNeeded: value), UInt64(truncatingIfNeeded: value >> 64)]
    normalize()
  }

  private init(limbs: [UInt64]) {
    self.limbs = limbs
    normalize()
  }

  /// 2^k.
  public static func powerOfTwo(_ k: Int) -> BigNatural {
    precondition(k >= 0)
    var limbs = [UInt64](repeating: 0, count: k / 64 + 1)
    limbs[k / 64] = 1 << UInt64(k % 64)
    return BigNatural(limbs: limbs)
  }

  /// Whether the number is 0.
  public var isZero: Bool { limbs.isEmpty }

  /// The value, if it fits in 64 bits.
  public var uint64: UInt64? {
    limbs.count <= 1 ? (limbs.first ?? 0) : nil
  }

  /// The number of significant bits (0 for zero).
  public var bitWidth: Int {
    guard let top = limbs.last else { return 0 }
    return 64 * limbs.count - top.leadingZeroBitCount
  }

  public var description: String {
    "0x" + (limbs.isEmpty ? "0" : limbs.reversed().map { String($0, radix: 16) }.joined(separator: "_"))
  }

  private mutating func normalize() {
    while limbs.last == 0 { limbs.removeLast() }
  }

  public static func < (a: BigNatural, b: BigNatural) -> Bool {
    if a.limbs.count != b.limbs.count { return a.limbs.count < b.limbs.count }
    for i in a.limbs.indices.reversed() where a.limbs[i] != b.limbs[i] {
      return a.limbs[i] < b.limbs[i]
    }
    return false
  }

  /// a + b.
  public static func + (a: BigNatural, b: BigNatural) -> BigNatural {
    var result = [UInt64](repeating: 0, count: max(a.limbs.count, b.limbs.count) + 1)
    var carry: UInt64 = 0
    for i in 0..<(result.count - 1) {
      let x = i < a.limbs.count ? a.limbs[i] : 0
      let y = i < b.limbs.count ? b.limbs[i] : 0
      let (s1, o1) = x.addingReportingOverflow(y)
      let (s2, o2) = s1.addingReportingOverflow(carry)
      result[i] = s2
      carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
    }
    result[result.count - 1] = carry
    return BigNatural(limbs: result)
  }

  /// a − b, for a ≥ b.
  public static func - (a: BigNatural, b: BigNatural) -> BigNatural {
    precondition(!(a < b), "BigNatural subtraction below zero")
    var result = a.limbs
    var borrow: UInt64 = 0
    for i in result.indices {
      let y = i < b.limbs.count ? b.limbs[i] : 0
      let (d1, o1) = result[i].subtractingReportingOverflow(y)
      let (d2, o2) = d1.subtractingReportingOverflow(borrow)
      result[i] = d2
      borrow = (o1 ? 1 : 0) + (o2 ? 1 : 0)
    }
    return BigNatural(limbs: result)
  }

  /// a·b.
  public static func * (a: BigNatural, b: BigNatural) -> BigNatural {
    guard !a.isZero && !b.isZero else { return BigNatural(0 as UInt64) }
    var result = [UInt64](repeating: 0, count: a.limbs.count + b.limbs.count)
    for i in a.limbs.indices {
      var carry: UInt64 = 0
      for j in b.limbs.indices {
        let (high, low) = a.limbs[i].multipliedFullWidth(by: b.limbs[j])
        let (s1, o1) = low.addingReportingOverflow(result[i + j])
        let (s2, o2) = s1.addingReportingOverflow(carry)
        result[i + j] = s2
        // high ≤ 2⁶⁴ − 2, so adding the two carries cannot overflow.
        carry = high + (o1 ? 1 : 0) + (o2 ? 1 : 0)
      }
      result[i + b.limbs.count] = carry
    }
    return BigNatural(limbs: result)
  }

  /// ⌊self / divisor⌋ for a divisor ≥ 1.
  public func dividedRoundingDown(by divisor: UInt64) -> BigNatural {
    precondition(divisor > 0)
    var result = [UInt64](repeating: 0, count: limbs.count)
    var remainder: UInt64 = 0
    for i in limbs.indices.reversed() {
      // remainder < divisor, so the quotient fits in 64 bits.
      let (q, r) = divisor.dividingFullWidth((high: remainder, low: limbs[i]))
      result[i] = q
      remainder = r
    }
    return BigNatural(limbs: result)
  }

  /// self·2^k.
  public func shiftedLeft(_ k: Int) -> BigNatural {
    precondition(k >= 0)
    guard !isZero else { return self }
    let words = k / 64
    let bits = UInt64(k % 64)
    var result = [UInt64](repeating: 0, count: limbs.count + words + 1)
    for i in limbs.indices {
      result[i + words] |= limbs[i] << bits
      if bits > 0 { result[i + words + 1] |= limbs[i] >> (64 - bits) }
    }
    return BigNatural(limbs: result)
  }

  /// ⌊self / 2^k⌋.
  public func shiftedRight(_ k: Int) -> BigNatural {
    precondition(k >= 0)
    let words = k / 64
    guard words < limbs.count else { return BigNatural(0 as UInt64) }
    let bits = UInt64(k % 64)
    var result = [UInt64](repeating: 0, count: limbs.count - words)
    for i in result.indices {
      result[i] = limbs[i + words] >> bits
      if bits > 0 && i + words + 1 < limbs.count {
        result[i] |= limbs[i + words + 1] << (64 - bits)
      }
    }
    return BigNatural(limbs: result)
  }
}
