import CoLearnTensor
import CoLearnWire
import Testing

@Suite struct SparseCodecTests {
  @Test func roundTripsAndPredictsItsSize() throws {
    var generator = SeededGenerator(seed: 3)
    let cases: [SparseVector] = [
      SparseVector(),
      SparseVector(indices: [0], values: [1.5]),
      SparseVector(indices: [0, 1, 2, 127, 128, 16_383, 16_384, 140_105], values: [1, -1, 0, 2, -0.0, 1e-30, 3e30, 7]),
      SparseVector(
        indices: (0..<1000).map { Int32($0 * 140) },
        values: (0..<1000).map { _ in Float.random(in: -1...1, using: &generator) }),
    ]
    for vector in cases {
      let bytes = SparseCodec.encode(vector)
      #expect(bytes.count == SparseCodec.encodedByteCount(vector))
      let decoded = try SparseCodec.decode(bytes, dimension: 140_106)
      #expect(decoded.indices == vector.indices)
      #expect(decoded.values.map(\.bitPattern) == vector.values.map(\.bitPattern))
    }
  }

  /// Golden bytes: count 2, gaps 3 and 0 (indices 3, 4), then 1.0 and −2.0 little-endian.
  @Test func goldenEncoding() {
    let bytes = SparseCodec.encode(SparseVector(indices: [3, 4], values: [1, -2]))
    #expect(bytes == [2, 3, 0, 0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0])
  }

  /// Fuzzing found (docs/FUZZING.md): a count the bytes cannot hold was allocated for before
  /// the bytes ran out; 5 bytes announcing 10⁸ entries of a large model cost 400 MB. Now such a
  /// count is refused before anything is allocated.
  @Test func aCountTheBytesCannotHoldIsRefusedBeforeAllocating() {
    var bytes: [UInt8] = []
    var count: UInt64 = 100_000_000
    while count >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: count) | 0x80)
      count >>= 7
    }
    bytes.append(UInt8(count))
    bytes += [0, 0, 0]
    #expect(throws: WireError.entriesExceedBytes(count: 100_000_000, available: 3)) {
      try SparseCodec.decode(bytes, dimension: 200_000_000)
    }
    #expect(
      WireError.entriesExceedBytes(count: 100_000_000, available: 3).description
        == "sparse vector announces 100000000 entries, but the 3 bytes after its count hold at "
        + "most 0 (truncated, or a wrong count)")
  }

  @Test func hostileBytesAreRefused() {
    let good = SparseCodec.encode(SparseVector(indices: [3, 4], values: [1, -2]))
    #expect(throws: WireError.entriesExceedBytes(count: 2, available: 9)) {
      try SparseCodec.decode(Array(good.dropLast()), dimension: 10)
    }
    // The count fits, a gap varint runs past the end.
    #expect(throws: WireError.truncated(at: 7)) {
      try SparseCodec.decode([1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], dimension: 10)
    }
    #expect(throws: WireError.trailingBytes(count: 1)) { try SparseCodec.decode(good + [0], dimension: 10) }
    // Indices 3 and 4 against a vector of 4 positions: the second is out of range.
    #expect(throws: WireError.badIndex(entry: 1, dimension: 4)) { try SparseCodec.decode(good, dimension: 4) }
    #expect(throws: WireError.tooManyEntries(count: 2, dimension: 1)) { try SparseCodec.decode(good, dimension: 1) }
    // The tenth byte of a varint may only hold the top bit of a 64-bit value.
    #expect(throws: WireError.malformedVarint(at: 9)) {
      try SparseCodec.decode([UInt8](repeating: 0xFF, count: 11), dimension: 10)
    }
    let nan = SparseCodec.encode(SparseVector(indices: [1], values: [.nan]))
    #expect(throws: WireError.invalidContents(.nonFiniteValue(position: 0, index: 1))) {
      try SparseCodec.decode(nan, dimension: 10)
    }
  }
}
