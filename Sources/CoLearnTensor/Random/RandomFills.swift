/// A uniform `Float` in [0, 1) with 24 random bits.
@inlinable
public func uniformUnitFloat(using generator: inout some RandomNumberGenerator) -> Float {
  Float(generator.next() >> 40) * 0x1p-24
}

/// Fills `buffer` with independent draws from U(lower, upper).
public func fillUniform(
  _ buffer: UnsafeMutableBufferPointer<Float>, lower: Float, upper: Float,
  using generator: inout some RandomNumberGenerator
) {
  let width = upper - lower
  for i in buffer.indices {
    buffer[i] = lower + width * uniformUnitFloat(using: &generator)
  }
}

/// A uniformly random permutation of 0..<count (Fisher–Yates), written into `indices`.
///
/// - Complexity: O(count), no allocation when `indices` already has the capacity.
public func shufflePermutation(
  _ indices: inout [Int], count: Int, using generator: inout some RandomNumberGenerator
) {
  indices.removeAll(keepingCapacity: true)
  indices.append(contentsOf: 0..<count)
  indices.shuffle(using: &generator)
}
