import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// `participate --token-file` (issue 20 item 4): the token alone, or the `NAME TOKEN` line
/// `colearn token add` prints, pasted as it is; anything else is refused with the format shown.
@Suite struct ParticipantTokenTests {
  @Test func theTokenAloneOrThePrintedLineIsAccepted() throws {
    let directory = try makeTemporaryDirectory("colearn-token-file")
    defer { try? FileManager.default.removeItem(at: directory) }
    let token = "colearn_" + String(repeating: "0f", count: 32)
    func read(_ text: String) throws -> String {
      let path = directory.appendingPathComponent("token").path
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      return try readParticipantToken(tokenFile: path)
    }
    #expect(try read(token + "\n") == token)
    #expect(try read("hospital-a \(token)\n") == token)
    #expect(try read("  hospital-a\t\(token)  \r\n") == token)
    #expect { try read("hospital-a \(token) extra") } throws: { error in
      "\(error)".contains("expected the token alone") && "\(error)".contains("found 3 words")
    }
    #expect { try read("hospital-a not-a-token") } throws: { "\($0)".contains("`NAME TOKEN` line") }
    #expect { try read("\n") } throws: { "\($0)".contains("is empty") }
  }
}
