import CoLearnRPC
import CoLearnWire
import Testing

@Suite struct ModelIdentityProtoTests {
  let identity = ModelIdentity(
    architecture: "mnist-cnn", specificationHash: "0123456789abcdef", parameterCount: 105_506)

  @Test func roundTrips() throws {
    let message = identity.proto
    #expect(message.architecture == "mnist-cnn")
    #expect(message.specHash == "0123456789abcdef")
    #expect(message.parameterCount == 105_506)
    #expect(try ModelIdentity(proto: message) == identity)
  }

  @Test func refusesInvalidFields() {
    var message = identity.proto
    message.architecture = ""
    #expect(throws: ProtoConversionError.self) { try ModelIdentity(proto: message) }
    for hash in ["0123456789ABCDEF", "0123456789abcde", "0123456789abcdefg", "0123456789abcdeg"] {
      message = identity.proto
      message.specHash = hash
      #expect(throws: ProtoConversionError.self) { try ModelIdentity(proto: message) }
    }
    for count: UInt64 in [0, UInt64(Int32.max) + 1] {
      message = identity.proto
      message.parameterCount = count
      #expect(throws: ProtoConversionError.self) { try ModelIdentity(proto: message) }
    }
  }

  @Test func mismatchBecomesFailedPrecondition() throws {
    let participant = ModelIdentity(
      architecture: "mnist-mlp", specificationHash: "fedcba9876543210", parameterCount: 140_106)
    let mismatch = try #require(identity.mismatch(participant: participant))
    #expect(mismatch.rpcError.code == .failedPrecondition)
    #expect(mismatch.rpcError.message.hasPrefix("server runs mnist-cnn (|w| = 105,506"))
  }
}
