import CoLearnRPC
import Foundation

/// The project file of `colearn provision`: what an operator decides once for a federation —
/// its name, the address participants dial, who takes part, and the settings of `serve` and of
/// every `participate` — in the flat YAML or TOML of `--config` files.
///
/// ```yaml
/// federation: breast-cancer-study
/// server: fl.example.org:7443          # HOST:PORT the participants dial
/// server-names: fl.example.org, 10.0.0.5   # more names/addresses for the certificate (optional)
/// listen: 0.0.0.0:7443                 # the server's listen address (default 0.0.0.0:PORT)
/// participants: hospital-a, hospital-b, hospital-c
/// validity-days: 365                   # certificates (default 365)
/// serve.model: ./model.toml            # any `colearn serve` flag, prefixed `serve.`
/// serve.rounds: 20
/// participate.lr: 0.05                 # any `colearn participate` flag, prefixed `participate.`
/// kind: dssgd                          # or split: `split serve` / `split participate` kits
/// ```
///
/// With `kind: split` the `serve.` and `participate.` settings are those of `colearn split serve`
/// and `colearn split participate`, and the kits' configs name a federation key the
/// participants make among themselves (never the operator: it seals what the coordinator
/// relays).
///
/// `serve.` and `participate.` settings are copied into the kits' config files as written;
/// their names are checked when the commands read those files. A model or schema file named
/// with `serve.model` / `serve.schema` is copied into the server's kit (the server publishes
/// both to participants at Join).
struct ProvisionProject {
  /// What the federation runs: DSSGD (`serve` / `participate`) or split learning.
  enum Kind: String {
    case dssgd, split
  }

  var kind: Kind
  var federation: String
  var server: HostPort
  var serverNames: [String]
  var listen: String
  var participants: [String]
  var validityDays: Int
  var serveSettings: [(key: String, value: String)]
  var participateSettings: [(key: String, value: String)]
  /// Every setting as read, relative paths resolved: what `--add` reads back later.
  var entries: [(key: String, value: String)]

  static let plainKeys: Set<String> = [
    "federation", "server", "server-names", "listen", "participants", "validity-days", "kind",
  ]

  /// Settings the kits' files already hold (or that provisioning decides): refused in the
  /// project so a kit cannot end up with two values for one flag.
  static let reservedServeKeys: Set<String> = ["tls-cert", "tls-key", "tokens", "state-dir", "insecure", "listen"]
  static let reservedParticipateKeys: Set<String> = ["server", "tls-ca", "token-file", "insecure", "name"]

  /// Reads and checks `path`.
  ///
  /// - Throws: ``CLIError`` naming the file and the key.
  init(path: String) throws {
    let file = try ConfigFile(path: path, dottedKeys: true)
    entries = file.entries
    var values: [String: String] = [:]
    var serve: [(key: String, value: String)] = []
    var participate: [(key: String, value: String)] = []
    for (key, value) in file.entries {
      if key.hasPrefix("serve.") {
        let flag = String(key.dropFirst("serve.".count))
        guard !Self.reservedServeKeys.contains(flag) else {
          throw CLIError("\(path): `\(key)` is set by provisioning itself; leave it out")
        }
        serve.append((flag, value))
      } else if key.hasPrefix("participate.") {
        let flag = String(key.dropFirst("participate.".count))
        guard !Self.reservedParticipateKeys.contains(flag) else {
          throw CLIError("\(path): `\(key)` is set by provisioning itself; leave it out")
        }
        participate.append((flag, value))
      } else if Self.plainKeys.contains(key) {
        guard values.updateValue(value, forKey: key) == nil else {
          throw CLIError("\(path): `\(key)` is set twice")
        }
      } else {
        throw CLIError(
          "\(path): `\(key)` is not a project setting; the settings are "
            + Self.plainKeys.sorted().joined(separator: ", ")
            + ", and any serve.FLAG or participate.FLAG")
      }
    }
    func required(_ key: String) throws -> String {
      guard let value = values[key] else {
        throw CLIError("\(path): `\(key)` is missing (see `colearn provision --help` for an example)")
      }
      return value
    }
    federation = try required("federation")
    guard TokenFile.isValidName(federation) else {
      throw CLIError(
        "\(path): federation \"\(federation.prefix(40))\" must be 1 to 64 letters, digits, '-', '_', '.', '@'")
    }
    let server = try HostPort(parsing: try required("server"), flag: "server")
    self.server = server
    serverNames = [server.host] + Self.list(values["server-names"] ?? "").filter { $0 != server.host }
    for name in serverNames where !CertificateAuthority.isValidServerName(name) {
      throw CLIError("\(path): \(ProvisioningError.badServerName(name).description)")
    }
    listen = values["listen"] ?? "0.0.0.0:\(server.port)"
    _ = try HostPort(parsing: listen, flag: "listen")
    participants = Self.list(try required("participants"))
    guard !participants.isEmpty else { throw CLIError("\(path): `participants` lists nobody") }
    for name in participants where !TokenFile.isValidName(name) {
      throw CLIError("\(path): \(TokenFileError.badName(name).description)")
    }
    if participants.contains(Federation.operatorIdentity) {
      throw CLIError(
        "\(path): `\(Federation.operatorIdentity)` is the operator's token (fed/operator/, for "
          + "`colearn status`), not a participant; name the participant otherwise")
    }
    if let duplicate = Dictionary(grouping: participants, by: { $0 }).first(where: { $0.value.count > 1 }) {
      throw CLIError("\(path): participant \(duplicate.key) is listed twice")
    }
    guard let days = Int(values["validity-days"] ?? "365"), (1...3650).contains(days) else {
      throw CLIError("\(path): `validity-days` must be a whole number of days from 1 to 3650")
    }
    validityDays = days
    guard let kind = Kind(rawValue: values["kind"] ?? "dssgd") else {
      throw CLIError("\(path): `kind` is dssgd (the default) or split, not \(values["kind"] ?? "")")
    }
    self.kind = kind
    serveSettings = serve
    participateSettings = participate
  }

  /// The settings as a YAML project file (values quoted where a `#` would start a comment).
  var yaml: String {
    "# The project of federation \(federation) as `colearn provision` read it (paths resolved).\n"
      + entries.map { "\($0.key): \($0.value.contains("#") ? "\"\($0.value)\"" : $0.value)\n" }.joined()
  }

  /// The comma- or space-separated items of a list value.
  static func list(_ value: String) -> [String] {
    value.split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
  }
}
