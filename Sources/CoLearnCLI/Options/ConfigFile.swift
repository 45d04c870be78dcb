import Foundation

/// A `--config FILE` of command-line settings (SPEC §11): the keys are the flag names without the
/// dashes, the values what the flag would take, and flags given on the command line win over the
/// file. Flat YAML (`key: value`) and TOML (`key = value`) are accepted — the settings are a flat
/// list, so nested tables or lists are refused with a message rather than half-read.
///
/// ```yaml
/// # experiment.yaml
/// model: mnist-cnn
/// participants: 90
/// upload-fraction: 0.01
/// protocol: async
/// ```
///
/// A `true` value stands for a flag without a value (`no-evaluation: true`); `false` leaves it out.
/// A value starting with `./` or `../` is a path relative to the file's own folder (as in a
/// Compose file), so a folder of files with its config — a participant's kit from
/// `colearn provision` — works wherever it is copied and whatever the working directory.
struct ConfigFile {
  /// The settings in file order.
  var entries: [(key: String, value: String)]

  /// Reads and parses `path`; the format follows the extension (.yaml/.yml or .toml), and files
  /// with neither are read as YAML.
  ///
  /// `dottedKeys` admits keys such as `serve.rounds` (the project file of `colearn provision`).
  ///
  /// - Throws: ``CLIError`` naming the file, the line and what is wrong.
  init(path: String, dottedKeys: Bool = false) throws {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw CLIError("cannot read --config \(path): \(error.localizedDescription)")
    }
    let isTOML = path.lowercased().hasSuffix(".toml")
    entries = []
    for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let line = Self.stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line == "---" { continue }
      let location = "\(path):\(number + 1)"
      if line.hasPrefix("[") || line.hasPrefix("-") || rawLine.first == " " || rawLine.first == "\t" {
        throw CLIError(
          "\(location): nested tables and lists are not supported; write one `key\(isTOML ? " =" : ":") value` per line")
      }
      let separator: Character = isTOML ? "=" : ":"
      guard let split = line.firstIndex(of: separator) else {
        throw CLIError("\(location): expected `key\(isTOML ? " = " : ": ")value`, found `\(line)`")
      }
      let key = line[..<split].trimmingCharacters(in: .whitespaces)
      var value = line[line.index(after: split)...].trimmingCharacters(in: .whitespaces)
      guard !key.isEmpty,
        key.allSatisfy({
          $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || (dottedKeys && $0 == ".")
        })
      else {
        throw CLIError("\(location): `\(key)` is not a setting name (use the flag name without --)")
      }
      if value.count >= 2, let first = value.first, first == "\"" || first == "'",
        value.last == first
      {
        value = String(value.dropFirst().dropLast())
      }
      guard !value.isEmpty else { throw CLIError("\(location): `\(key)` has no value") }
      if value.hasPrefix("./") || value.hasPrefix("../") {
        value = URL(fileURLWithPath: path).deletingLastPathComponent()
          .appendingPathComponent(value).standardizedFileURL.path
      }
      entries.append((key.replacingOccurrences(of: "_", with: "-"), value))
    }
  }

  /// The settings as command-line arguments.
  var arguments: [String] {
    entries.flatMap { entry -> [String] in
      switch entry.value.lowercased() {
      case "true": return ["--\(entry.key)"]
      case "false": return []
      default: return ["--\(entry.key)", entry.value]
      }
    }
  }

  /// `line` without a `#` comment (outside quotes).
  static func stripComment(_ line: String) -> String {
    var quote: Character?
    for (offset, character) in line.enumerated() {
      if let open = quote {
        if character == open { quote = nil }
      } else if character == "\"" || character == "'" {
        quote = character
      } else if character == "#" {
        return String(line.prefix(offset))
      }
    }
    return line
  }

  /// `arguments` with every `--config FILE` (or `--config=FILE`) replaced by the file's settings,
  /// placed before the command line's own flags so that those win; and, for each key taken from
  /// a file, the file's path (to name it when the key turns out not to exist).
  static func expand(_ arguments: [String]) throws -> (arguments: [String], origins: [String: String]) {
    var files: [String] = []
    var rest: [String] = []
    var index = 0
    while index < arguments.count {
      let argument = arguments[index]
      if argument == "--config" {
        guard index + 1 < arguments.count else {
          throw CLIError("--config needs a file: --config experiment.yaml")
        }
        files.append(arguments[index + 1])
        index += 2
        continue
      }
      if argument.hasPrefix("--config=") {
        files.append(String(argument.dropFirst("--config=".count)))
      } else {
        rest.append(argument)
      }
      index += 1
    }
    guard !files.isEmpty else { return (arguments, [:]) }
    // Subcommand names come first; the file's flags go right after them.
    let commandWords = rest.prefix { !$0.hasPrefix("-") }
    let flags = rest.dropFirst(commandWords.count)
    var fromFiles: [String] = []
    var origins: [String: String] = [:]
    for path in files {
      let file = try ConfigFile(path: path)
      fromFiles += file.arguments
      for entry in file.entries { origins[entry.key] = path }
    }
    return (Array(commandWords) + fromFiles + Array(flags), origins)
  }

  /// A clearer message for a parse error caused by a key of a config file that is no setting of
  /// the command, or nil when the error is something else.
  static func unknownKeyMessage(
    _ parseMessage: String, origins: [String: String], command: [String]
  ) -> String? {
    guard let start = parseMessage.range(of: "Unknown option '--") else { return nil }
    let name = parseMessage[start.upperBound...].prefix { $0 != "'" }
    guard let path = origins[String(name)] else { return nil }
    let commandLine = (["colearn"] + command).joined(separator: " ")
    return "\(path): `\(name)` is not a setting of `\(commandLine)`; the keys are its flag names "
      + "without the dashes (see `\(commandLine) --help`)"
  }
}
