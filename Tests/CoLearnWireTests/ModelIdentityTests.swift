import CoLearnWire
import Testing

@Suite struct ModelIdentityTests {
  let server = ModelIdentity(
    architecture: "mnist-cnn", specificationHash: "0123456789abcdef", parameterCount: 105_506)

  @Test func describesItselfWithGroupedDigits() {
    #expect(server.description == "mnist-cnn (|w| = 105,506, spec 0123456789abcdef)")
    let tiny = ModelIdentity(architecture: "t", specificationHash: "0", parameterCount: 999)
    #expect(tiny.description == "t (|w| = 999, spec 0)")
    let big = ModelIdentity(architecture: "t", specificationHash: "0", parameterCount: 1_000_000)
    #expect(big.description == "t (|w| = 1,000,000, spec 0)")
  }

  @Test func sameModelHasNoMismatch() {
    #expect(server.mismatch(participant: server) == nil)
    var renamed = server
    renamed.architecture = "hospital-cnn"
    #expect(server.mismatch(participant: renamed) == nil, "the name is a label")
  }

  @Test func theDifferencesOfTheModelFilesAreListed() throws {
    var participant = server
    participant.parameterCount = 105_507
    var mismatch = try #require(server.mismatch(participant: participant))
    mismatch.differences = ["layer 1 (\"linear\"): outputs = 16 on the server, outputs = 32 in yours"]
    #expect(
      mismatch.description.hasSuffix(
        "; they differ in\n  layer 1 (\"linear\"): outputs = 16 on the server, outputs = 32 in "
          + "yours\nleave out --model to train the server's model, or change your model file to "
          + "match"))
  }

  @Test func anotherArchitectureIsNamedWithTheFlagToChange() throws {
    let participant = ModelIdentity(
      architecture: "mnist-mlp", specificationHash: "fedcba9876543210", parameterCount: 140_106)
    let mismatch = try #require(server.mismatch(participant: participant))
    #expect(
      mismatch.description
        == "server runs mnist-cnn (|w| = 105,506, spec 0123456789abcdef), you run mnist-mlp "
        + "(|w| = 140,106, spec fedcba9876543210): start the participant with --model mnist-cnn")
  }

  @Test func sameNameDifferentLayoutAsksForTheServersVersion() throws {
    var participant = server
    participant.specificationHash = "fedcba9876543210"
    let mismatch = try #require(server.mismatch(participant: participant))
    #expect(mismatch.description.hasSuffix("run the same colearn version as the server"))
  }
}
