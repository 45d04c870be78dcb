/// SHA-256 (FIPS 180-4 §6.2), used to check downloaded and imported dataset files against the
/// published digests of their uncompressed content.
///
/// A small, dependency-free implementation: the message is processed in 64-byte blocks as it
/// arrives (``update(_:)``), so hashing a file costs no extra copy. Not constant-time; it
/// verifies public data and must not be used with secrets.
///
/// Threading: a value type; each instance belongs to one caller.
public struct SHA256: Sendable {
  /// The eight working words H0…H7 (initially the first 32 bits of the fractional parts of the
  /// square roots of the first eight primes).
  private var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
    0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a,
    0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
  )
  /// Bytes of an incomplete block carried over to the next ``update(_:)``.
  private var pending: [UInt8] = []
  /// The message length so far, in bytes.
  private var length: UInt64 = 0

  /// A hasher for an empty message.
  public init() {}

  /// The digest of `bytes`.
  public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
    var hasher = SHA256()
    let array = Array(bytes)
    array.withUnsafeBytes { hasher.update($0) }
    return hasher.finalize()
  }

  /// The digest of `bytes` as 64 lowercase hexadecimal digits.
  public static func hexDigest(_ bytes: some Sequence<UInt8>) -> String {
    hash(bytes).map { hexByte($0) }.joined()
  }

  /// Appends `bytes` to the message.
  ///
  /// - Complexity: O(bytes.count).
  public mutating func update(_ bytes: UnsafeRawBufferPointer) {
    length &+= UInt64(bytes.count)
    var rest = bytes[...]
    if !pending.isEmpty {
      let take = min(64 - pending.count, rest.count)
      pending.append(contentsOf: rest.prefix(take))
      rest = rest.dropFirst(take)
      guard pending.count == 64 else { return }
      let block = pending
      block.withUnsafeBytes { compress(blocks: $0) }
      pending.removeAll(keepingCapacity: true)
    }
    let whole = rest.count / 64 * 64
    if whole > 0 {
      compress(blocks: UnsafeRawBufferPointer(rebasing: rest.prefix(whole)))
    }
    pending.append(contentsOf: rest.dropFirst(whole))
  }

  /// Pads the message (a 1 bit, zeros, the 64-bit big-endian bit length) and returns the
  /// 32-byte digest.
  public mutating func finalize() -> [UInt8] {
    let bitLength = length &* 8
    var tail = pending
    tail.append(0x80)
    while tail.count % 64 != 56 { tail.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) {
      tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
    }
    tail.withUnsafeBytes { compress(blocks: $0) }
    pending.removeAll()
    let words = [state.0, state.1, state.2, state.3, state.4, state.5, state.6, state.7]
    return words.flatMap { word in
      [
        UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16),
        UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word),
      ]
    }
  }

  /// The round constants K0…K63 (first 32 bits of the fractional parts of the cube roots of the
  /// first 64 primes).
  private static let roundConstants: [UInt32] = [
    0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4,
    0xab1c_5ed5, 0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe,
    0x9bdc_06a7, 0xc19b_f174, 0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f,
    0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da, 0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7,
    0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967, 0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc,
    0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85, 0xa2bf_e8a1, 0xa81a_664b,
    0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070, 0x19a4_c116,
    0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
    0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7,
    0xc671_78f2,
  ]

  /// Runs the compression function over whole 64-byte blocks (FIPS 180-4 §6.2.2).
  private mutating func compress(blocks: UnsafeRawBufferPointer) {
    precondition(blocks.count % 64 == 0, "SHA-256 compresses whole 64-byte blocks")
    guard let base = blocks.baseAddress else { return }
    var (h0, h1, h2, h3, h4, h5, h6, h7) = state
    Self.roundConstants.withUnsafeBufferPointer { constants in
      withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { schedule in
        for blockStart in stride(from: 0, to: blocks.count, by: 64) {
          let block = base + blockStart
          for t in 0..<16 {
            schedule[t] = UInt32(
              bigEndian: block.loadUnaligned(
                fromByteOffset: 4 * t,
                as: UInt32.self))
          }
          for t in 16..<64 {
            let w15 = schedule[t - 15]
            let w2 = schedule[t - 2]
            let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
            let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
            schedule[t] = schedule[t - 16] &+ s0 &+ schedule[t - 7] &+ s1
          }
          var (a, b, c, d, e, f, g, h) = (h0, h1, h2, h3, h4, h5, h6, h7)
          for t in 0..<64 {
            let sum1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
            let choice = (e & f) ^ (~e & g)
            let t1 = h &+ sum1 &+ choice &+ constants[t] &+ schedule[t]
            let sum0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
            let majority = (a & b) ^ (a & c) ^ (b & c)
            let t2 = sum0 &+ majority
            h = g
            g = f
            f = e
            e = d &+ t1
            d = c
            c = b
            b = a
            a = t1 &+ t2
          }
          h0 &+= a
          h1 &+= b
          h2 &+= c
          h3 &+= d
          h4 &+= e
          h5 &+= f
          h6 &+= g
          h7 &+= h
        }
      }
    }
    state = (h0, h1, h2, h3, h4, h5, h6, h7)
  }
}

/// Rotates `x` right by `n` bits.
@inline(__always)
private func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 {
  (x >> n) | (x << (32 - n))
}
