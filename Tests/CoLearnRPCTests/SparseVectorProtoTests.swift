import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import SwiftProtobuf
import Testing

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

@Suite struct SparseVectorProtoTests {
  /// The example in colearn.proto's SparseVector comment, byte for byte: another language's
  /// implementation is checked against the same bytes.
  @Test func matchesTheProtoFileExample() throws {
    let vector = SparseVector(indices: [1, 2, 7], values: [0.5, -1, 2])
    let message = vector.proto(dimension: 10)
    #expect(message.dimension == 10)
    #expect(
      [UInt8](message.encoded) == [
        0x03, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0xBF, 0x00, 0x00, 0x00,
        0x40,
      ])
    #expect(try SparseVector(proto: message, dimension: 10) == vector)
  }

  /// Domain → message → protobuf bytes → message → domain keeps every bit, including −0 and
  /// subnormals, for the empty vector, single entries, gaps across varint widths and |w|−1.
  @Test func roundTripsThroughProtobufBytes() throws {
    let dimension = 140_106
    var generator = SeededGenerator(seed: 11)
    let cases: [SparseVector] = [
      SparseVector(),
      SparseVector(indices: [0], values: [-0.0]),
      SparseVector(indices: [Int32(dimension - 1)], values: [Float.leastNonzeroMagnitude]),
      SparseVector(
        indices: [0, 127, 128, 16_383, 16_384, 140_105], values: [1, -1, 2, -2, 3e30, 7]),
      SparseVector(
        indices: (0..<500).map { Int32($0 * 280) },
        values: (0..<500).map { _ in Float.random(in: -1...1, using: &generator) }),
    ]
    for vector in cases {
      var request = Colearn_V1_UploadRequest()
      request.update = vector.proto(dimension: dimension)
      request.round = 3
      let bytes: [UInt8] = try request.serializedBytes()
      let received = try Colearn_V1_UploadRequest(serializedBytes: bytes)
      let decoded = try SparseVector(proto: received.update, dimension: dimension)
      #expect(decoded.indices == vector.indices)
      #expect(decoded.values.map(\.bitPattern) == vector.values.map(\.bitPattern))
      #expect(received.round == 3)
    }
  }

  @Test func refusesADimensionOtherThanTheModels() {
    let message = SparseVector(indices: [1], values: [1]).proto(dimension: 11)
    #expect(throws: ProtoConversionError.dimensionMismatch(declared: 11, expected: 10)) {
      try SparseVector(proto: message, dimension: 10)
    }
  }

  @Test func refusesEmptyAndMalformedBytes() {
    var message = Colearn_V1_SparseVector()
    message.dimension = 10
    #expect(throws: ProtoConversionError.emptySparseVector) {
      try SparseVector(proto: message, dimension: 10)
    }
    // Count 1, gap 10 (index 10 of a vector of 10), one value.
    message.encoded = Data([0x01, 0x0A, 0x00, 0x00, 0x80, 0x3F])
    #expect(
      throws: ProtoConversionError.malformedSparseVector(.badIndex(entry: 0, dimension: 10))
    ) { try SparseVector(proto: message, dimension: 10) }
    // The value bytes stop one short.
    message.encoded = Data([0x01, 0x02, 0x00, 0x00, 0x80])
    #expect(
      throws: ProtoConversionError.malformedSparseVector(.entriesExceedBytes(count: 1, available: 4))
    ) {
      try SparseVector(proto: message, dimension: 10)
    }
    // A NaN value (0x7FC00000).
    message.encoded = Data([0x01, 0x02, 0x00, 0x00, 0xC0, 0x7F])
    #expect(
      throws: ProtoConversionError.malformedSparseVector(
        .invalidContents(.nonFiniteValue(position: 0, index: 2)))
    ) { try SparseVector(proto: message, dimension: 10) }
  }

  @Test func errorsBecomeInvalidArgumentWithTheirMessage() {
    let error = ProtoConversionError.dimensionMismatch(declared: 11, expected: 10)
    #expect(error.rpcError.code == .invalidArgument)
    #expect(error.rpcError.message.contains("|w| = 10"))
  }
}
