/// A fast, seedable pseudo-random generator (xoshiro256**, Blackman & Vigna 2018) for
/// simulations and tests: the same seed gives the same stream on every platform.
///
/// Not for privacy noise: differential-privacy noise comes from a secure generator only.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// Seeds the state with SplitMix64 so that nearby seeds give unrelated streams.
  public init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix()
    s1 = splitMix()
    s2 = splitMix()
    s3 = splitMix()
  }

  /// A generator for a named sub-stream (for example one per participant), derived from this
  /// seed and `stream` without disturbing this generator.
  public func derived(stream: UInt64) -> SeededGenerator {
    SeededGenerator(seed: s0 ^ (stream &* 0xD1B5_4A32_D192_ED03) ^ s3.rotatedLeft(by: 17))
  }

  /// The four state words, to save a stream and continue it later (simulation checkpoints).
  public var stateWords: [UInt64] { [s0, s1, s2, s3] }

  /// The stream whose state is `stateWords`, as saved by ``stateWords``; nil unless there are
  /// exactly four words, not all zero (xoshiro's one invalid state).
  public init?(stateWords words: [UInt64]) {
    guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
    (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
  }

  public mutating func next() -> UInt64 {
    let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3.rotatedLeft(by: 45)
    return result
  }
}

extension UInt64 {
  @inlinable
  func rotatedLeft(by k: UInt64) -> UInt64 {
    (self << k) | (self >> (64 - k))
  }
}
