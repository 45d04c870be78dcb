import ArgumentParser
import CoLearnRPC
import Foundation

/// `colearn token`: issue, revoke and list participant tokens (the server keeps only salted
/// hashes; a token is shown once, when issued).
struct TokenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "token",
    abstract: "Issue, revoke and list the participant tokens of a server's token file.",
    subcommands: [Add.self, Revoke.self, List.self])

  struct Add: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Issue a new token for each NAME (replacing its old one) and print it once.")

    @Argument(help: "Participant identities (letters, digits, '-', '_', '.', '@').")
    var names: [String]

    @Option(help: "The token file (created if missing).")
    var tokens: String

    @Option(
      name: .customLong("write-to"),
      help: "Also write each token to DIR/NAME.token (mode 0600) for `participate --token-file`.")
    var writeTo: String?

    func validate() throws {
      if names.isEmpty { throw ValidationError("name at least one participant") }
      for name in names where !TokenFile.isValidName(name) {
        throw ValidationError(TokenFileError.badName(name).description)
      }
    }

    func run() throws {
      do {
        var file = try TokenFile.load(tokens, missingIsEmpty: true)
        var issued: [(String, String)] = []
        for name in names { issued.append((name, try file.issue(for: name))) }
        if let writeTo {
          try FileManager.default.createDirectory(
            atPath: writeTo, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
          for (name, token) in issued {
            let path = writeTo + "/\(name).token"
            FileManager.default.createFile(
              atPath: path, contents: Data((token + "\n").utf8),
              attributes: [.posixPermissions: 0o600])
          }
        }
        try file.write(to: tokens)
        for (name, token) in issued { print("\(name) \(token)") }
      } catch let error as TokenFileError {
        throw CLIError(error.description)
      }
    }
  }

  struct Revoke: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke the tokens of NAME...; a running server refuses them within a second.")

    @Argument var names: [String]

    @Option(help: "The token file.")
    var tokens: String

    func run() throws {
      do {
        var file = try TokenFile.load(tokens)
        for name in names where !file.revoke(name) {
          throw CLIError("\(tokens) has no participant named \(name)")
        }
        try file.write(to: tokens)
        print("revoked: \(names.joined(separator: ", "))")
      } catch let error as TokenFileError {
        throw CLIError(error.description)
      }
    }
  }

  struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the identities and their state.")

    @Option(help: "The token file.")
    var tokens: String

    func run() throws {
      do {
        let file = try TokenFile.load(tokens)
        for entry in file.entries { print("\(entry.name) \(entry.revoked ? "revoked" : "active")") }
      } catch let error as TokenFileError {
        throw CLIError(error.description)
      }
    }
  }
}
