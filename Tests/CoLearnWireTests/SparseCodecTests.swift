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

  @Test func hostileBytesAreRefused() {
    let good = SparseCodec.encode(SparseVector(indices: [3, 4], values: [1, -2]))
    #expect(throws: WireError.truncated(at: 10)) { try SparseCodec.decode(Array(good.dropLast()), dimension: 10) }
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
