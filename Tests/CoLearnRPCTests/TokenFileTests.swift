import CoLearnRPC
import Foundation
import Testing

@Suite struct TokenFileTests {
  @Test func issuedTokensAreFoundByTheirSaltedHashOnly() throws {
    var file = TokenFile()
    let alice = try file.issue(for: "alice")
    let bob = try file.issue(for: "bob")
    #expect(alice.hasPrefix("colearn_") && alice.count == 8 + 64)
    #expect(alice != bob)
    #expect(file.lookup(alice) == .identity("alice"))
    #expect(file.lookup(bob) == .identity("bob"))
    #expect(file.lookup(alice + "x") == .unknown)
    #expect(!file.text.contains(alice) && !file.text.contains(String(alice.dropFirst(8))))
    // Round trip through the text, then revocation.
    var reread = try TokenFile(text: file.text, path: "tokens")
    #expect(reread == file)
    let revokedAlice = reread.revoke("alice")
    let revokedCarol = reread.revoke("carol")
    #expect(revokedAlice && !revokedCarol)
    #expect(reread.lookup(alice) == .revoked("alice"))
    // Re-issuing replaces the old token.
    let again = try reread.issue(for: "alice")
    #expect(reread.lookup(again) == .identity("alice"))
    #expect(reread.lookup(alice) == .unknown)
  }

  /// Found writing the fuzz target's seeds (docs/FUZZING.md): a file saved with CRLF line ends
  /// (an editor on Windows) was one long line to the reader ("\r\n" is one Character, not
  /// "\n"); as the file starts with a comment, all of it was a comment: an empty list, every
  /// participant refused as unknown, and no error.
  @Test func crlfLineEndsAreLineEnds() throws {
    var file = TokenFile()
    _ = try file.issue(for: "alice")
    _ = try file.issue(for: "bob")
    _ = file.revoke("bob")
    let crlf = file.text.split(separator: "\n", omittingEmptySubsequences: false)
      .joined(separator: "\r\n")
    #expect(crlf.contains("\r\n"))
    #expect(try TokenFile(text: crlf, path: "tokens") == file)
  }

  @Test func malformedFilesAreRefusedWithTheLine() throws {
    let salt = String(repeating: "ab", count: 16)
    let hash = String(repeating: "cd", count: 32)
    let cases: [(String, String)] = [
      ("alice \(salt) \(hash)", "tokens:1: expected `NAME SALT HASH active|revoked`"),
      ("# c\nalice \(salt) \(hash) maybe", "tokens:2: the state must be"),
      ("alice abc \(hash) active", "the salt must be 32 hex digits"),
      ("alice \(salt) \(hash) active\nalice \(salt) \(hash) active", "alice appears twice"),
      ("al ice \(salt) \(hash) active", "found 5 fields"),
      ("a/b \(salt) \(hash) active", "bad name"),
      // The line `colearn token add` prints, pasted into the server's file: the format is shown.
      ("alice colearn_\(hash)", "is a participant's token as `colearn token add` prints it"),
      ("alice colearn_\(hash)", "one `NAME SALT HASH active|revoked` line per participant"),
    ]
    for (text, expected) in cases {
      #expect {
        try TokenFile(text: text, path: "tokens")
      } throws: { error in
        "\(error)".contains(expected)
      }
    }
    #expect(throws: TokenFileError.badName("no spaces")) {
      var file = TokenFile()
      _ = try file.issue(for: "no spaces")
    }
  }

  /// The authenticator sees a revocation written to the file, without a restart.
  @Test func revocationTakesEffectWithoutARestart() async throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("colearn-tokens-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("tokens").path
    var file = TokenFile()
    let token = try file.issue(for: "alice")
    try file.write(to: path)
    let authenticator = try TokenAuthenticator(path: path)
    #expect(authenticator.authenticate(token) == .identity("alice"))
    try await Task.sleep(for: .milliseconds(20))
    _ = file.revoke("alice")
    try file.write(to: path)
    try await Task.sleep(for: .milliseconds(1100))
    #expect(authenticator.authenticate(token) == .revoked("alice"))
    #expect(throws: TokenFileError.missing(path: path + ".none")) {
      try TokenAuthenticator(path: path + ".none")
    }
  }
}
