import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import SwiftProtobuf

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The sparse-vector decoder (``FuzzTarget/sparse``). The input's first byte chooses the model's
/// dimension (its low three bits, from 1 to 2³¹ − 1) and the path: high bit clear, the rest is
/// SPEC §10 bytes for `SparseCodec.decode`; set, a serialized `colearn.v1.SparseVector` message
/// for `SparseVector(proto:dimension:)`.
enum SparseVectorTarget {
  static let dimensions = [1, 3, 16, 1000, 65_536, 1 << 24, 500_000_000, Int(Int32.max)]

  static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
    guard let control = input.first else { return false }
    let dimension = dimensions[Int(control & 7)]
    let body = Array(input.dropFirst())
    let vector: SparseVector
    let encoded: [UInt8]
    if control & 0x80 == 0 {
      guard let decoded = try? SparseCodec.decode(body, dimension: dimension) else { return false }
      (vector, encoded) = (decoded, body)
    } else {
      guard let message = try? Colearn_V1_SparseVector(serializedBytes: body),
        let (decoded, bytes) = try? SparseVector.decodingWithBytes(
          proto: message, dimension: dimension)
      else { return false }
      (vector, encoded) = (decoded, bytes)
    }
    func fail(_ message: String) -> FuzzFailure {
      FuzzFailure(target: .sparse, message: message, input: input)
    }
    if let problem = vector.validate(dimension: dimension) {
      throw fail("decoded an invalid vector: \(problem)")
    }
    // Every entry takes at least a one-byte gap and four value bytes.
    guard 5 * vector.count < encoded.count + 1 else {
      throw fail("\(vector.count) entries from \(encoded.count) bytes")
    }
    let again = SparseCodec.encode(vector)
    guard again.count <= encoded.count,
      let reread = try? SparseCodec.decode(again, dimension: dimension),
      reread.indices == vector.indices,
      reread.values.map(\.bitPattern) == vector.values.map(\.bitPattern)
    else { throw fail("the vector read does not encode back to itself") }
    let message = vector.proto(dimension: dimension)
    guard let viaProto = try? SparseVector(proto: message, dimension: dimension),
      viaProto.indices == vector.indices
    else { throw fail("the vector read does not pass through its message") }
    return true
  }

  static func seeds(using generator: inout SeededGenerator) -> [[UInt8]] {
    var seeds: [[UInt8]] = []
    for (choice, dimension) in dimensions.enumerated() {
      for count in [0, 1, 2, 5, 40] where count <= dimension {
        var indices = Set<Int32>()
        while indices.count < count {
          let limit = min(dimension, 1 << 20)
          indices.insert(Int32(Int.random(in: 0..<limit, using: &generator)))
        }
        let sorted = indices.sorted()
        let vector = SparseVector(
          indices: sorted,
          values: sorted.map { _ in Float.random(in: -2...2, using: &generator) })
        seeds.append([UInt8(choice)] + SparseCodec.encode(vector))
        if let message = try? vector.proto(dimension: dimension).serializedBytes() as [UInt8] {
          seeds.append([UInt8(choice) | 0x80] + message)
        }
      }
    }
    return seeds
  }
}
