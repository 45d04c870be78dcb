import CoLearnRPC
import GRPCCore
import Testing

@Suite struct BearerTokenTests {
  @Test func readsTheTokenItWrites() {
    var metadata = Metadata()
    metadata.addString(BearerToken.metadataValue(for: "s3cr3t"), forKey: BearerToken.metadataKey)
    #expect(BearerToken.token(in: metadata) == "s3cr3t")
  }

  @Test func acceptsTheSchemeInAnyCase() {
    #expect(BearerToken.token(in: ["authorization": "bearer abc"]) == "abc")
    #expect(BearerToken.token(in: ["authorization": "BEARER abc"]) == "abc")
  }

  @Test func refusesMissingMalformedAndRepeatedEntries() {
    #expect(BearerToken.token(in: [:]) == nil)
    #expect(BearerToken.token(in: ["authorization": "Bearer "]) == nil)
    #expect(BearerToken.token(in: ["authorization": "Bearer"]) == nil)
    #expect(BearerToken.token(in: ["authorization": "Basic abc"]) == nil)
    #expect(BearerToken.token(in: ["authorization": "Bearer a b"]) == nil)
    #expect(BearerToken.token(in: ["authorization": "Bearer  abc"]) == nil)
    var twice = Metadata()
    twice.addString("Bearer a", forKey: "authorization")
    twice.addString("Bearer b", forKey: "authorization")
    #expect(BearerToken.token(in: twice) == nil)
  }
}
