import CoLearnWire
import GRPCCore

extension ModelIdentity {
  /// A `colearn.v1.ModelIdentity` as a domain value, refusing an empty architecture name, a spec
  /// hash that is not 16 lowercase hex digits, and a parameter count of 0 or above `Int32.max`
  /// (indices on the wire are 32-bit).
  ///
  /// - Throws: ``ProtoConversionError/invalidField(name:value:expected:)``.
  public init(proto: Colearn_V1_ModelIdentity) throws(ProtoConversionError) {
    guard !proto.architecture.isEmpty else {
      throw .invalidField(
        name: "architecture", value: "empty", expected: "a model name such as mnist-cnn")
    }
    let hexDigits = proto.specHash.utf8.allSatisfy {
      (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
        || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0)
    }
    guard proto.specHash.utf8.count == 16, hexDigits else {
      throw .invalidField(
        name: "spec_hash", value: "\"\(proto.specHash.prefix(40))\"",
        expected: "16 lowercase hex digits")
    }
    guard proto.parameterCount >= 1, proto.parameterCount <= UInt64(Int32.max) else {
      throw .invalidField(
        name: "parameter_count", value: "\(proto.parameterCount)",
        expected: "a count in 1...\(Int32.max)")
    }
    self.init(
      architecture: proto.architecture, specificationHash: proto.specHash,
      parameterCount: Int(proto.parameterCount))
  }

  /// This identity as a `colearn.v1.ModelIdentity`.
  public var proto: Colearn_V1_ModelIdentity {
    var message = Colearn_V1_ModelIdentity()
    message.architecture = architecture
    message.specHash = specificationHash
    message.parameterCount = UInt64(parameterCount)
    return message
  }
}

extension ModelMismatch {
  /// The gRPC error a server answers a mismatched Join with: FAILED_PRECONDITION and the message
  /// naming both models.
  public var rpcError: RPCError {
    RPCError(code: .failedPrecondition, message: description)
  }
}
