import CoLearnTensor
import CoLearnWire

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

extension SparseVector {
  /// Decodes a `colearn.v1.SparseVector` for a model of `dimension` parameters, checking
  /// everything a hostile sender could get wrong: the declared dimension, the encoding (SPEC §10:
  /// count, delta-encoded index varints, little-endian float32 values) and the contents (indices
  /// strictly increasing in 0..<dimension, values finite).
  ///
  /// - Parameters:
  ///   - proto: the message as received.
  ///   - dimension: |w| of the receiver's model.
  /// - Throws: ``ProtoConversionError`` naming the first problem.
  /// - Complexity: O(`proto.encoded.count`). Any task may call it.
  public init(proto: Colearn_V1_SparseVector, dimension: Int) throws(ProtoConversionError) {
    self = try Self.decodingWithBytes(proto: proto, dimension: dimension).0
  }

  /// ``init(proto:dimension:)``, also returning the encoded bytes it decoded (a server logs
  /// them as they are instead of encoding the vector again).
  public static func decodingWithBytes(proto: Colearn_V1_SparseVector, dimension: Int)
    throws(ProtoConversionError) -> (SparseVector, [UInt8])
  {
    guard proto.dimension == UInt64(dimension) else {
      throw .dimensionMismatch(declared: proto.dimension, expected: dimension)
    }
    guard !proto.encoded.isEmpty else { throw .emptySparseVector }
    let bytes = [UInt8](proto.encoded)
    do {
      return (try SparseCodec.decode(bytes, dimension: dimension), bytes)
    } catch {
      throw .malformedSparseVector(error)
    }
  }

  /// This vector as a `colearn.v1.SparseVector` over `dimension` positions.
  ///
  /// - Parameter dimension: |w|, sent as the message's `dimension`.
  /// - Returns: the message, whose `encoded` is ``SparseCodec/encode(_:)``'s bytes.
  /// - Precondition: the indices are strictly increasing and non-negative (as
  ///   ``SparseCodec/encode(_:)`` requires).
  /// - Complexity: O(count).
  public func proto(dimension: Int) -> Colearn_V1_SparseVector {
    var message = Colearn_V1_SparseVector()
    message.dimension = UInt64(dimension)
    message.encoded = Data(SparseCodec.encode(self))
    return message
  }
}
