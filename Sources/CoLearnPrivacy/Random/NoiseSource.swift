import CoLearnTensor

/// Where the random bits of privacy noise come from: the operating system's secure generator
/// (``secure``), or — for reproducible experiments only — a seeded generator
/// (``insecureSeeded(_:)``). Both feed the same exact samplers (``DiscreteLaplace``,
/// ``SparseVectorTechnique``, ``ExponentialMechanism``), so a seeded run exercises exactly the
/// code of a private one.
///
/// **A seeded source gives no privacy at all**: whoever knows or guesses the seed can regenerate
/// the noise and subtract it. Use it for simulations and tests, never for real uploads;
/// ``isSecure`` says which kind a source is, and ``description`` says it loudly.
///
/// Bits are served from a 4 KiB buffer refilled in one `getrandom(2)` call (or from the seeded
/// generator), and single bits from one buffered word, so the exact samplers — which mostly
/// need a couple of random bits per decision — cost a few nanoseconds per bit.
///
/// Threading: a value type; one instance belongs to one thread (or task) at a time. Copying a
/// source copies its buffered bits — two copies would then produce the same noise, so pass it
/// `inout` and do not copy a secure source.
public struct NoiseSource: Sendable, CustomStringConvertible {
  private enum Kind: Sendable {
    case system
    case seeded(UInt64)
  }

  private static let bufferWords = 512

  private let kind: Kind
  private var generator: SeededGenerator
  private var words: [UInt64]
  private var position: Int
  private var bitWord: UInt64 = 0
  private var bitsLeft = 0

  private init(kind: Kind, seed: UInt64) {
    self.kind = kind
    generator = SeededGenerator(seed: seed)
    words = [UInt64](repeating: 0, count: Self.bufferWords)
    position = Self.bufferWords  // empty: the first draw fills the buffer
  }

  /// Noise from the operating system's cryptographically secure generator (see
  /// ``SystemRandom``). Creating one does no I/O; the first draw does, and throws if the system
  /// generator cannot be read.
  public static var secure: NoiseSource { NoiseSource(kind: .system, seed: 0) }

  /// NOT PRIVATE: reproducible noise from `seed` (xoshiro256**), for experiments and tests only.
  /// Anyone who knows the seed can remove the noise from every released value.
  public static func insecureSeeded(_ seed: UInt64) -> NoiseSource {
    NoiseSource(kind: .seeded(seed), seed: seed)
  }

  /// Whether the bits come from the system's secure generator (the only kind that gives privacy).
  public var isSecure: Bool {
    if case .system = kind { return true }
    return false
  }

  public var description: String {
    switch kind {
    case .system:
      return "secure (operating system CSPRNG)"
    case .seeded(let seed):
      return "INSECURE seeded noise (seed \(seed)) — results are NOT private: anyone who knows "
        + "the seed can remove the noise; for reproducible experiments only"
    }
  }

  // MARK: - Bits

  /// The next 64 random bits.
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when a secure source cannot refill its buffer.
  @inline(__always)
  public mutating func nextWord() throws(PrivacyError) -> UInt64 {
    if position == words.count { try refill() }
    let word = words[position]
    position &+= 1
    return word
  }

  /// The next random bit.
  /// - Throws: as ``nextWord()``.
  @inline(__always)
  public mutating func nextBit() throws(PrivacyError) -> Bool {
    if bitsLeft == 0 {
      bitWord = try nextWord()
      bitsLeft = 64
    }
    let bit = bitWord & 1
    bitWord >>= 1
    bitsLeft &-= 1
    return bit == 1
  }

  /// The next `count` (0…64) random bits as an integer below 2^`count` (the first bit is the
  /// lowest), taken from the same buffered word as ``nextBit()``: a uniform draw below a power
  /// of two without spending a whole word.
  /// - Throws: as ``nextWord()``.
  @inline(__always)
  mutating func nextBits(_ count: Int) throws(PrivacyError) -> UInt64 {
    precondition(count >= 0 && count <= 64, "nextBits(\(count))")
    if count <= bitsLeft {
      let value = count == 64 ? bitWord : bitWord & ((1 &<< UInt64(count)) &- 1)
      bitWord = bitWord >> UInt64(count)
      bitsLeft &-= count
      return value
    }
    // Take what is left of this word, then the rest from the next one.
    let low = bitWord
    let have = bitsLeft
    let need = count &- have
    let word = try nextWord()
    bitWord = need == 64 ? 0 : word >> UInt64(need)
    bitsLeft = 64 &- need
    let high = need == 64 ? word : word & ((1 &<< UInt64(need)) &- 1)
    return low | (high << UInt64(have))
  }

  private mutating func refill() throws(PrivacyError) {
    switch kind {
    case .system:
      // Array's closure APIs rethrow untyped errors; carry the typed one out in a Result.
      let filled = words.withUnsafeMutableBytes { bytes in
        Result { () throws(PrivacyError) in try SystemRandom.fill(bytes) }
      }
      try filled.get()
    case .seeded:
      for i in words.indices { words[i] = generator.next() }
    }
    position = 0
  }
}
