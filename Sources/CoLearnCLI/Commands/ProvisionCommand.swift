import ArgumentParser
import CoLearnData
import CoLearnRPC
import Foundation

/// `colearn provision`: everything a federation needs before it starts, from one project file —
/// its own CA, the server's certificate (with every name participants dial), the token file,
/// and one kit per participant with a ready config for `colearn participate --config`.
///
/// The layout of `--out`:
///
///     ca/ca.pem, ca/ca.key        the CA; ca.key is needed only to issue a new server
///                                 certificate (`--renew-server`) — keep it offline
///     server/                     the server's kit: serve.yaml, server.pem, server.key,
///                                 tokens (salted hashes), ca.pem, a copy of the model file
///     kits/NAME/                  a participant's kit: participate.yaml, ca.pem, token, README.md
///     operator/                   the operator's: status.yaml (`colearn status --config`),
///                                 ca.pem, token (named `operator`: reads Status, never joins)
///     project.yaml                the project as read (paths resolved), kept for --add
///
/// Secrets (keys, tokens, the token file) are written with mode 0600 and their folders 0700.
struct ProvisionCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "provision",
    abstract: "Create a federation's CA, server certificate, token file and participant kits.",
    discussion: """
      colearn provision --project federation.yaml --out fed
      colearn provision --out fed --add hospital-d    # a kit for a newcomer
      colearn provision --out fed --revoke hospital-b # refused within a second
      colearn provision --out fed --renew-server      # needs ca/ca.key

      The project file (flat YAML or TOML):
        federation: breast-cancer-study
        server: fl.example.org:7443          # HOST:PORT participants dial
        server-names: 10.0.0.5               # more certificate names
        participants: hospital-a, hospital-b, hospital-c
        serve.model: ./model.toml            # any serve flag: serve.FLAG
        serve.rounds: 20
        participate.lr: 0.05                 # participate.FLAG
        kind: dssgd                          # or split (split serve/participate)

      Then `cd fed/server && colearn serve --config serve.yaml`, and hand \
      kits/NAME to each participant, who adds the flags naming its own data \
      to participate.yaml and runs `colearn participate --config \
      participate.yaml`.
      """)

  @Option(help: "The project file (new federations).")
  var project: String?

  @Option(help: "The federation's folder (created; for --add, --revoke, --renew-server: existing).")
  var out: String

  @Option(parsing: .upToNextOption, help: "Add kits for these new participants.")
  var add: [String] = []

  @Option(parsing: .upToNextOption, help: "Revoke these participants' tokens.")
  var revoke: [String] = []

  @Flag(name: .customLong("renew-server"), help: "Issue a new server certificate (needs ca/ca.key).")
  var renewServer = false

  func validate() throws {
    let actions = [project != nil, !add.isEmpty, !revoke.isEmpty, renewServer].filter { $0 }.count
    guard actions == 1 else {
      throw ValidationError(
        "give exactly one of --project FILE (a new federation), --add NAME, --revoke NAME or --renew-server")
    }
    for name in add + revoke where !TokenFile.isValidName(name) {
      throw ValidationError(TokenFileError.badName(name).description)
    }
  }

  func run() throws {
    let layout = ProvisionLayout(root: out)
    do {
      if let project {
        try create(ProvisionProject(path: project), layout)
      } else if !add.isEmpty {
        try addParticipants(layout)
      } else if !revoke.isEmpty {
        var file = try TokenFile.load(layout.tokens)
        for name in revoke where !file.revoke(name) {
          throw CLIError("\(layout.tokens) has no participant named \(name)")
        }
        try file.write(to: layout.tokens)
        print("revoked: \(revoke.joined(separator: ", ")) (a running server refuses them within a second)")
      } else {
        try renewServerCertificate(layout)
      }
    } catch let error as TokenFileError {
      throw CLIError(error.description)
    } catch let error as ProvisioningError {
      throw CLIError(error.description)
    }
  }

  /// A new federation in an empty (or missing) --out, written into a temporary folder beside it
  /// and renamed into place at the end: a failure leaves nothing half-provisioned behind.
  private func create(_ project: ProvisionProject, _ target: ProvisionLayout) throws {
    let manager = FileManager.default
    if let existing = try? manager.contentsOfDirectory(atPath: target.root) {
      guard existing.isEmpty else {
        throw CLIError(
          "\(target.root) is not empty; provision a new federation into a new folder, or use --add, --revoke or --renew-server on this one")
      }
      try? manager.removeItem(atPath: target.root)
    }
    let layout = ProvisionLayout(root: target.root + ".partial-\(getpid())")
    try? manager.removeItem(atPath: layout.root)
    do {
      try populate(project, layout)
      guard rename(layout.root, target.root) == 0 else {
        throw CLIError("cannot create \(target.root): \(String(cString: strerror(errno)))")
      }
    } catch {
      try? manager.removeItem(atPath: layout.root)
      throw error
    }
    print("federation \(project.federation): \(project.participants.count) kits in \(target.kits)")
    print("server: cd \(target.server) && colearn \(project.serveCommand) --config serve.yaml")
    if project.kind == .dssgd {
      print("watch: colearn status --config \(target.operator)/status.yaml")
    } else {
      print("the participants make their federation key themselves: colearn split keygen --out federation.key")
    }
    print("the CA key \(target.caKey) is needed only for --renew-server: keep it offline")
  }

  private func populate(_ project: ProvisionProject, _ layout: ProvisionLayout) throws {
    let manager = FileManager.default
    for folder in [layout.root, layout.ca, layout.server, layout.kits] { try layout.makeFolder(folder) }
    try layout.save(project.yaml, to: layout.project, secret: false)

    let validity = TimeInterval(project.validityDays) * 86_400
    let authority = try CertificateAuthority.create(
      commonName: "colearn \(project.federation) CA", validity: validity)
    try layout.save(try authority.certificatePEM(), to: layout.caCertificate, secret: false)
    try layout.save(authority.keyPEM, to: layout.caKey, secret: true)
    try layout.save(try authority.certificatePEM(), to: layout.server + "/ca.pem", secret: false)
    try issueServerCertificate(authority, project, layout)

    var settings = project.serveSettings
    for (index, setting) in settings.enumerated()
    where project.kind == .dssgd && ["model", "schema"].contains(setting.key)
      && manager.fileExists(atPath: setting.value)
    {
      let name = URL(fileURLWithPath: setting.value).lastPathComponent
      try layout.save(
        try String(contentsOfFile: setting.value, encoding: .utf8), to: layout.server + "/" + name,
        secret: false)
      settings[index].value = "./" + name
    }
    // A round is N uploads, N = `participants`: one turn of everyone provisioned (serve's own
    // default, 30, would make each of them take several turns a round).
    if !settings.contains(where: { $0.key == "participants" }) {
      settings.append(("participants", "\(project.participants.count)"))
    }
    // Round 1 waits for everyone provisioned unless the project says otherwise.
    if project.kind == .dssgd, !settings.contains(where: { $0.key == "min-participants" }) {
      settings.append(("min-participants", "\(project.participants.count)"))
    }
    let serveConfig = """
      # colearn \(project.serveCommand) --config serve.yaml — the \(project.kind == .split ? "coordinator" : "server") of
      # federation \(project.federation), written by `colearn provision`. Relative paths are
      # relative to this file.
      listen: \(project.listen)
      tls-cert: ./server.pem
      tls-key: ./server.key
      tokens: ./tokens
      state-dir: ./state

      """ + settings.map { "\($0.key): \($0.value)\n" }.joined()
    try layout.save(serveConfig, to: layout.server + "/serve.yaml", secret: false)

    var tokens = TokenFile()
    // `colearn status` reads the DSSGD server's Status; the coordinator has no such view yet.
    if project.kind == .dssgd { try writeOperatorKit(project: project, tokens: &tokens, layout) }
    try writeKits(for: project.participants, project: project, tokens: &tokens, layout)
  }

  /// The operator's folder: a token that reads the server's Status but cannot join, and the
  /// config for `colearn status --config operator/status.yaml`.
  private func writeOperatorKit(
    project: ProvisionProject, tokens: inout TokenFile, _ layout: ProvisionLayout
  ) throws {
    let token = try tokens.issue(for: Federation.operatorIdentity)
    try layout.makeFolder(layout.operator)
    try layout.save(
      try String(contentsOfFile: layout.server + "/ca.pem", encoding: .utf8),
      to: layout.operator + "/ca.pem", secret: false)
    try layout.save(token + "\n", to: layout.operator + "/token", secret: true)
    try layout.save(
      """
      # colearn status --config status.yaml — the operator's view of federation \
      \(project.federation), written by `colearn provision`. The token reads Status only: it
      # cannot join, so it takes no participant's slot.
      server: \(project.server.host):\(project.server.port)
      tls-ca: ./ca.pem
      token-file: ./token

      """, to: layout.operator + "/status.yaml", secret: false)
  }

  private func addParticipants(_ layout: ProvisionLayout) throws {
    let project = try ProvisionProject(path: layout.project)
    var tokens = try TokenFile.load(layout.tokens)
    for name in add where tokens.entries.contains(where: { $0.name == name }) {
      throw CLIError(
        "\(name) is already in \(layout.tokens); a new token for it: `colearn token add \(name) --tokens \(layout.tokens)`")
    }
    try writeKits(for: add, project: project, tokens: &tokens, layout)
    let members = tokens.entries.filter { $0.name != Federation.operatorIdentity && !$0.revoked }.count
    if try raiseParticipants(to: members, layout) {
      print(
        "added: \(add.joined(separator: ", ")); serve.yaml now says participants: \(members) (a "
          + "round is \(members) uploads): restart the server with --allow-settings-change to "
          + "admit them")
    } else {
      print("added: \(add.joined(separator: ", ")) (a running server accepts them within a second)")
    }
  }

  /// Raises serve.yaml's `participants` to `members` when it is lower (the server admits at
  /// most that many); returns whether it did.
  private func raiseParticipants(to members: Int, _ layout: ProvisionLayout) throws -> Bool {
    let path = layout.server + "/serve.yaml"
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return false }
    var lines = text.components(separatedBy: "\n")
    guard
      let index = lines.firstIndex(where: { $0.hasPrefix("participants:") }),
      let current = Int(lines[index].dropFirst("participants:".count).trimmingCharacters(in: .whitespaces)),
      current < members
    else { return false }
    lines[index] = "participants: \(members)"
    try layout.save(lines.joined(separator: "\n"), to: path, secret: false)
    return true
  }

  private func renewServerCertificate(_ layout: ProvisionLayout) throws {
    let project = try ProvisionProject(path: layout.project)
    guard
      let certificate = try? String(contentsOfFile: layout.caCertificate, encoding: .utf8),
      let key = try? String(contentsOfFile: layout.caKey, encoding: .utf8)
    else {
      throw CLIError(
        "--renew-server needs the CA: \(layout.caCertificate) and \(layout.caKey) (bring the key back from where it is kept)")
    }
    let authority = try CertificateAuthority(
      certificatePEM: certificate, keyPEM: key, certificatePath: layout.caCertificate,
      keyPath: layout.caKey)
    try issueServerCertificate(authority, project, layout)
    print("new server certificate for \(project.serverNames.joined(separator: ", ")): restart the server to use it")
  }

  private func issueServerCertificate(
    _ authority: CertificateAuthority, _ project: ProvisionProject, _ layout: ProvisionLayout
  ) throws {
    let issued = try authority.issueServerCertificate(
      names: project.serverNames, validity: TimeInterval(project.validityDays) * 86_400)
    try layout.save(issued.certificatePEM, to: layout.server + "/server.pem", secret: false)
    try layout.save(issued.keyPEM, to: layout.server + "/server.key", secret: true)
  }

  /// Issues a token for each name into the token file and writes each one's kit.
  private func writeKits(
    for names: [String], project: ProvisionProject, tokens: inout TokenFile, _ layout: ProvisionLayout
  ) throws {
    let caPEM = try String(contentsOfFile: layout.server + "/ca.pem", encoding: .utf8)
    for name in names {
      let token = try tokens.issue(for: name)
      let kit = layout.kits + "/" + name
      try layout.makeFolder(kit)
      try layout.save(caPEM, to: kit + "/ca.pem", secret: false)
      try layout.save(token + "\n", to: kit + "/token", secret: true)
      let guidance =
        project.kind == .dssgd
        ? """
          # Relative paths are relative to this file. The server publishes the model (and the
          # data schema) when you join. Add the flags that name your own data, e.g.
          #   data: csv:/path/to/your-records.csv
          #   label-column: diagnosis

          """
        : """
          # Relative paths are relative to this file. federation.key is the participants' shared
          # key: one of you makes it (`colearn split keygen --out federation.key`) and hands it
          # to the others, never to the operator. Add the flags that name your own data, e.g.
          #   data-dir: /data/our-mnist

          """
      let config = """
        # colearn \(project.participateCommand) --config participate.yaml — \(name) in federation \
        \(project.federation), written by `colearn provision`.

        """ + guidance + """
        server: \(project.server.host):\(project.server.port)
        tls-ca: ./ca.pem
        token-file: ./token
        name: \(name)
        out: ./run

        """ + (project.kind == .split ? "key: ./federation.key\n" : "")
        + project.participateSettings.map { "\($0.key): \($0.value)\n" }.joined()
      try layout.save(config, to: kit + "/participate.yaml", secret: false)
      try layout.save(Self.kitReadme(name: name, project: project), to: kit + "/README.md", secret: false)
    }
    try tokens.write(to: layout.tokens)
  }

  static func kitReadme(name: String, project: ProvisionProject) -> String {
    """
    # \(name): your kit for federation \(project.federation)

    - `participate.yaml` — the settings of `colearn participate`; add the flags that name your
      own data (your data never leaves your machine; only parameter updates do).
    - `token` — your secret: it identifies you to the server. Keep it private (mode 0600); if it
      leaks, ask the operator to revoke it and issue a new kit.
    - `ca.pem` — the federation's certificate authority: your connection trusts only the server
      certificate it signed, for \(project.serverNames.joined(separator: ", ")).

    \(project.kind == .split ? "- `federation.key` — not in the kit: the participants' shared key. One of you runs\n  `colearn split keygen --out federation.key` and gives a copy to each other participant\n  (into their kit folders) over a secure channel — never to the operator or the coordinator.\n" : "")
    Run, from anywhere: `colearn \(project.participateCommand) --config \(name)/participate.yaml`.
    The run's records go to `run/` beside this file.

    """
  }
}

extension ProvisionProject {
  /// The commands the kits are for.
  var serveCommand: String { kind == .split ? "split serve" : "serve" }
  var participateCommand: String { kind == .split ? "split participate" : "participate" }
}

/// Where `colearn provision` keeps each file of a federation's folder.
struct ProvisionLayout {
  let root: String
  var ca: String { root + "/ca" }
  var server: String { root + "/server" }
  var kits: String { root + "/kits" }
  var `operator`: String { root + "/operator" }
  var project: String { root + "/project.yaml" }
  var caCertificate: String { ca + "/ca.pem" }
  var caKey: String { ca + "/ca.key" }
  var tokens: String { server + "/tokens" }

  func makeFolder(_ path: String) throws {
    do {
      try FileManager.default.createDirectory(
        atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    } catch {
      throw CLIError("cannot create \(path): \(error.localizedDescription)")
    }
  }

  /// Writes `text` to `path` atomically (``FileIO/writeAtomically(_:toPath:mode:)``); a
  /// secret's file is created with mode 0600.
  func save(_ text: String, to path: String, secret: Bool) throws {
    do {
      try FileIO.writeAtomically(Array(text.utf8), toPath: path, mode: secret ? 0o600 : 0o644)
    } catch {
      throw CLIError("cannot write \(path): \(error)")
    }
  }
}
