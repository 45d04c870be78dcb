import CoLearnRPC

/// The server's token file (``FuzzTarget/tokens``): the input is the file's bytes, read as the
/// server reads them (UTF-8, invalid sequences replaced).
enum TokenFileTarget {
  static func run(_ input: [UInt8]) throws(FuzzFailure) -> Bool {
    let text = String(decoding: input, as: UTF8.self)
    guard let file = try? TokenFile(text: text, path: "tokens") else { return false }
    func fail(_ message: String) -> FuzzFailure {
      FuzzFailure(target: .tokens, message: message, input: input)
    }
    for entry in file.entries {
      guard TokenFile.isValidName(entry.name), entry.salt.count == 16, entry.hash.count == 32
      else { throw fail("read an invalid entry for \"\(entry.name.prefix(40))\"") }
    }
    guard Set(file.entries.map(\.name)).count == file.entries.count else {
      throw fail("read a name twice")
    }
    guard let reread = try? TokenFile(text: file.text, path: "tokens"), reread == file else {
      throw fail("the file read does not read back the same once written")
    }
    return true
  }

  static func seeds() -> [[UInt8]] {
    var file = TokenFile()
    var seeds = [Array(file.text.utf8)]
    for name in ["alice", "bob.example@h-1", "c_3"] {
      _ = try? file.issue(for: name)
      seeds.append(Array(file.text.utf8))
    }
    _ = file.revoke("bob.example@h-1")
    seeds.append(Array(file.text.utf8))
    seeds.append(
      Array(file.text.split(separator: "\n", omittingEmptySubsequences: false)
        .joined(separator: "\r\n").utf8))
    seeds.append(Array(("  # comment only\n\n\t" + file.text + "# trailing").utf8))
    return seeds
  }
}
