import CoLearnWire
import GRPCCore

/// A protocol message that cannot become a domain value. Each message names the field and says
/// what the sender must change; a server answers with ``rpcError`` (INVALID_ARGUMENT).
public enum ProtoConversionError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A required message field is unset.
  case missingField(String)
  /// A sparse vector declares a dimension other than the model's |w|.
  case dimensionMismatch(declared: UInt64, expected: Int)
  /// A sparse vector's `encoded` bytes are empty (the empty vector is the single byte 0x00).
  case emptySparseVector
  /// A sparse vector's bytes are malformed or out of range (SPEC §10).
  case malformedSparseVector(WireError)
  /// A field holds a value outside its range.
  case invalidField(name: String, value: String, expected: String)

  public var description: String {
    switch self {
    case .missingField(let name):
      return "the request has no `\(name)`; set it"
    case .dimensionMismatch(let declared, let expected):
      return "sparse vector declares dimension \(declared) but the model has |w| = \(expected); "
        + "send the model's |w| as the dimension"
    case .emptySparseVector:
      return "sparse vector has empty `encoded` bytes; encode the empty vector as the byte 0x00"
    case .malformedSparseVector(let problem):
      return "\(problem) (encoding: colearn.proto, message SparseVector)"
    case .invalidField(let name, let value, let expected):
      return "`\(name)` is \(value), expected \(expected)"
    }
  }

  /// The gRPC error a server answers with: INVALID_ARGUMENT and ``description``.
  public var rpcError: RPCError {
    RPCError(code: .invalidArgument, message: description)
  }
}
