import CoLearnTestSupport
import Foundation
import Testing

/// `colearn provision` (issue 20 item 1): one project file gives a CA, a server certificate
/// naming what participants dial, the token file and a kit per participant; the kits' config
/// files run a TLS federation as they are, from any working directory.
@Suite(.serialized) struct ProvisionCommandTests {
  let deployment = DeploymentTests()

  func provision(_ project: String, in directory: URL) throws -> (status: Int32, combined: String) {
    let path = directory.appendingPathComponent("federation.yaml")
    try project.write(to: path, atomically: true, encoding: .utf8)
    let result = try runProcess(
      deployment.binary(),
      ["provision", "--project", path.path, "--out", directory.appendingPathComponent("fed").path])
    return (result.status, result.combined)
  }

  func permissions(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
  }

  /// The layout, the modes of the secrets, the certificate's names (checked by openssl, an
  /// outside verifier), and --add / --revoke / --renew-server. No data set needed.
  @Test func kitsCertificatesAndTokensAreWrittenAndManaged() throws {
    let directory = try makeTemporaryDirectory("colearn-provision")
    defer { try? FileManager.default.removeItem(at: directory) }
    let provisioned = try provision(
      """
      federation: demo
      server: fl.example.org:7443
      server-names: localhost, 127.0.0.1, ::1
      participants: hospital-a, hospital-b
      serve.participants: 3
      participate.rounds: 4
      """, in: directory)
    #expect(provisioned.status == 0, "\(provisioned.combined)")
    let fed = directory.appendingPathComponent("fed").path
    for secret in [
      "ca/ca.key", "server/server.key", "server/tokens", "kits/hospital-a/token", "operator/token",
    ] {
      #expect(try permissions("\(fed)/\(secret)") == 0o600, "\(secret)")
    }
    #expect(try permissions("\(fed)/kits/hospital-a") == 0o700)
    let serve = try String(contentsOfFile: "\(fed)/server/serve.yaml", encoding: .utf8)
    #expect(serve.contains("listen: 0.0.0.0:7443\n") && serve.contains("participants: 3\n"), "\(serve)")
    let kit = try String(contentsOfFile: "\(fed)/kits/hospital-b/participate.yaml", encoding: .utf8)
    for line in ["server: fl.example.org:7443", "tls-ca: ./ca.pem", "token-file: ./token", "rounds: 4"] {
      #expect(kit.contains(line + "\n"), "\(kit)")
    }
    // The token file holds hashes; the kit's token is the plain one and matches it.
    let tokenFile = try String(contentsOfFile: "\(fed)/server/tokens", encoding: .utf8)
    let token = try String(contentsOfFile: "\(fed)/kits/hospital-a/token", encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(token.hasPrefix("colearn_") && !tokenFile.contains(token))
    #expect(tokenFile.contains("hospital-a ") && tokenFile.contains("hospital-b "))
    // The operator's kit: a token of its own for `colearn status --config`.
    #expect(tokenFile.contains("\noperator ") || tokenFile.hasPrefix("operator "))
    let watch = try String(contentsOfFile: "\(fed)/operator/status.yaml", encoding: .utf8)
    for line in ["server: fl.example.org:7443", "tls-ca: ./ca.pem", "token-file: ./token"] {
      #expect(watch.contains(line + "\n"), "\(watch)")
    }

    let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
    func verify() throws -> String {
      let verified = try runProcess(
        openssl, ["verify", "-CAfile", "\(fed)/kits/hospital-a/ca.pem", "\(fed)/server/server.pem"])
      #expect(verified.status == 0 && verified.standardOutput.contains(": OK"), "\(verified.combined)")
      let text = try runProcess(openssl, ["x509", "-in", "\(fed)/server/server.pem", "-noout", "-text"])
      return text.standardOutput
    }
    if FileManager.default.isExecutableFile(atPath: openssl.path) {
      let text = try verify()
      #expect(
        text.contains("DNS:fl.example.org, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"),
        "\(text)")
      #expect(text.contains("TLS Web Server Authentication"))
    }

    // A participant added later gets a kit and a token; a revoked one is marked, not deleted.
    let binary = try deployment.binary()
    let added = try runProcess(binary, ["provision", "--out", fed, "--add", "hospital-c"])
    #expect(added.status == 0, "\(added.combined)")
    #expect(FileManager.default.fileExists(atPath: "\(fed)/kits/hospital-c/participate.yaml"))
    let again = try runProcess(binary, ["provision", "--out", fed, "--add", "hospital-c"])
    #expect(again.status != 0 && again.standardError.contains("hospital-c is already in"), "\(again.combined)")
    let revoked = try runProcess(binary, ["provision", "--out", fed, "--revoke", "hospital-b"])
    #expect(revoked.status == 0, "\(revoked.combined)")
    let listed = try runProcess(binary, ["token", "list", "--tokens", "\(fed)/server/tokens"])
    #expect(
      listed.standardOutput
        == "operator active\nhospital-a active\nhospital-b revoked\nhospital-c active\n",
      "\(listed.combined)")
    // Two more active participants than serve.yaml admits: its `participants` grows with them,
    // and the operator is told to restart the server.
    let grown = try runProcess(binary, ["provision", "--out", fed, "--add", "hospital-d", "hospital-e"])
    #expect(grown.status == 0 && grown.standardOutput.contains("restart the server"), "\(grown.combined)")
    let regrown = try String(contentsOfFile: "\(fed)/server/serve.yaml", encoding: .utf8)
    #expect(regrown.contains("\nparticipants: 4\n"), "\(regrown)")

    // A new server certificate from the kept CA key; without the key it says where it looked.
    let before = try String(contentsOfFile: "\(fed)/server/server.pem", encoding: .utf8)
    let renewed = try runProcess(binary, ["provision", "--out", fed, "--renew-server"])
    #expect(renewed.status == 0, "\(renewed.combined)")
    #expect(try String(contentsOfFile: "\(fed)/server/server.pem", encoding: .utf8) != before)
    if FileManager.default.isExecutableFile(atPath: openssl.path) { _ = try verify() }
    try FileManager.default.moveItem(atPath: "\(fed)/ca/ca.key", toPath: "\(fed)/ca.key.offline")
    let keyless = try runProcess(binary, ["provision", "--out", fed, "--renew-server"])
    #expect(keyless.status != 0 && keyless.standardError.contains("ca/ca.key"), "\(keyless.combined)")

    // A second provisioning into the same folder is refused: it would replace the CA.
    let twice = try provision("federation: demo\nserver: a:1\nparticipants: x\n", in: directory)
    #expect(twice.status != 0 && twice.combined.contains("is not empty"), "\(twice.combined)")
  }

  /// Each mistake in a project file is named with the file and the key.
  @Test(arguments: [
    ("server: a:1\nparticipants: x\n", "`federation` is missing"),
    ("federation: f\nserver: a\nparticipants: x\n", "expected HOST:PORT"),
    ("federation: f\nserver: a:1\nparticipants: x\ncolour: red\n", "`colour` is not a project setting"),
    ("federation: f\nserver: a:1\nparticipants: x, x\n", "participant x is listed twice"),
    ("federation: f\nserver: a:1\nparticipants: x\nserve.tokens: t\n", "`serve.tokens` is set by provisioning"),
    ("federation: f\nserver: bad_host!:1\nparticipants: x\n", "is neither a host name nor an IP address"),
    ("federation: f\nserver: a:1\nparticipants: x y/z\n", "is not a valid participant name"),
    ("federation: f\nserver: a:1\nparticipants: x, operator\n", "`operator` is the operator's token"),
  ])
  func projectMistakesAreNamed(project: String, message: String) throws {
    let directory = try makeTemporaryDirectory("colearn-provision-bad")
    defer { try? FileManager.default.removeItem(at: directory) }
    let result = try provision(project, in: directory)
    #expect(result.status != 0)
    #expect(result.combined.contains(message), "\(result.combined)")
    #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("fed/ca/ca.key").path))
  }

  /// The done-when of items 1 and 2: a provisioned federation runs over TLS from the kits as
  /// written — the server from its folder, each hospital from elsewhere with only its data
  /// flags added, no --rounds of their own. Round 1 waits for all three (one starts 2 s after
  /// the others), all 5 rounds run with all three, and everyone exits 0 at the server's end.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with tabular/"))
  func aProvisionedFederationRunsFromItsKits() throws {
    let data = try #require(realDataDirectory())
    let directory = try makeTemporaryDirectory("colearn-provision-run")
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = try deployment.binary()
    let model = BringYourOwnDataTests.repository
      .appendingPathComponent("examples/breast-cancer/model.toml").path
    let names = ["hospital-a", "hospital-b", "hospital-c"]
    let lines = try String(contentsOfFile: "\(data)/tabular/breast_cancer.csv", encoding: .utf8)
      .split(whereSeparator: \.isNewline).map(String.init)
    // The hospitals' rows from the first 450; the server's held-out rows are the rest.
    let records = lines.dropFirst()
    for (index, name) in names.enumerated() {
      let rows = records.prefix(450).enumerated().filter { $0.offset % 3 == index }.map(\.element)
      try ([lines[0]] + rows).joined(separator: "\n")
        .write(to: directory.appendingPathComponent("\(name).csv"), atomically: true, encoding: .utf8)
    }
    try ([lines[0]] + records.dropFirst(450)).joined(separator: "\n")
      .write(to: directory.appendingPathComponent("held-out.csv"), atomically: true, encoding: .utf8)
    let schema = directory.appendingPathComponent("schema.json").path
    let described = try runProcess(
      binary,
      ["data", "describe", "--data", "csv:\(directory.path)/hospital-a.csv", "--label-column",
       "diagnosis", "--out", schema])
    #expect(described.status == 0, "\(described.combined)")
    let port = try freeLocalPort()
    let provisioned = try provision(
      """
      federation: study
      server: localhost:\(port)
      listen: 127.0.0.1:\(port)
      participants: \(names.joined(separator: ", "))
      serve.model: \(model)
      serve.schema: \(schema)
      serve.eval-data: csv:\(directory.path)/held-out.csv
      serve.rounds: 5
      participate.lr: 0.05
      participate.threads: 1
      """, in: directory)
    #expect(provisioned.status == 0, "\(provisioned.combined)")
    let fed = directory.appendingPathComponent("fed").path
    // The server's kit holds its own copy of the model file, and waits for all three.
    let serveConfig = try String(contentsOfFile: "\(fed)/server/serve.yaml", encoding: .utf8)
    #expect(serveConfig.contains("model: ./model.toml\n") && serveConfig.contains("min-participants: 3\n"))
    let server = try BackgroundProcess(
      binary, ["serve", "--config", "\(fed)/server/serve.yaml", "--metrics-every", "1"])
    #expect(server.waitFor("listening on") != nil, "\(server.combined)")
    // The operator's kit reads Status before round 1, and its token cannot take a slot.
    let watched = try runProcess(binary, ["status", "--config", "\(fed)/operator/status.yaml"])
    #expect(watched.status == 0, "\(watched.combined)")
    #expect(watched.standardOutput.contains("0 (no end set)") == false, "\(watched.combined)")
    #expect(watched.standardOutput.contains("0 of 5 — waiting for participants to start"), "\(watched.combined)")
    let intruder = try runProcess(
      binary,
      [
        "participate", "--config", "\(fed)/kits/hospital-a/participate.yaml",
        "--token-file", "\(fed)/operator/token", "--data", "csv:\(directory.path)/hospital-a.csv",
        "--out", directory.appendingPathComponent("intruder").path,
      ])
    #expect(intruder.status != 0)
    #expect(intruder.combined.contains("the token of operator is the operator's"), "\(intruder.combined)")
    func participate(_ name: String) throws -> BackgroundProcess {
      try BackgroundProcess(
        binary,
        [
          "participate", "--config", "\(fed)/kits/\(name)/participate.yaml",
          "--data", "csv:\(directory.path)/\(name).csv", "--test-fraction", "0.25",
          "--batch-size", "8",
        ])
    }
    var participants = try names.dropLast().map(participate)
    Thread.sleep(forTimeInterval: 2)
    participants.append(try participate(names[2]))
    for (name, participant) in zip(names, participants) {
      #expect(participant.wait(timeout: 300) == 0, "\(name): \(participant.combined)")
      #expect(participant.standardOutput.contains("the federation has finished"), "\(participant.combined)")
      // The run directory is the kit's `out: ./run`, beside the config file.
      let run = "\(fed)/kits/\(name)/run"
      let metrics = try String(contentsOfFile: "\(run)/metrics.csv", encoding: .utf8)
      #expect(metrics.split(separator: "\n").count == 1 + 5, "\(name): \(metrics)")
      let summary = try String(contentsOfFile: "\(run)/summary.json", encoding: .utf8)
      #expect(summary.contains(#""federationFinished" : true"#), "\(summary)")
      #expect(FileManager.default.fileExists(atPath: "\(run)/global-model.safetensors"))
    }
    #expect(server.wait(timeout: 60) == 0, "\(server.combined)")
    let log = server.standardError
    #expect(log.contains(#"msg="round 1 starts" participants=3"#), "\(log)")
    #expect(log.contains("msg=stopped sequence=15"), "\(log)")
    #expect(FileManager.default.fileExists(atPath: "\(fed)/server/state/global-model.safetensors"))

    // Item 3: the server's run record, a row per round with the global model's accuracy on the
    // held-out rows, drawn by `colearn plot` as a simulation is.
    let record = "\(fed)/server/state/run"
    let rows = try String(contentsOfFile: "\(record)/metrics.csv", encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    #expect(rows.first?.joined(separator: ",")
      == "round,participants,uploads,upload_bytes,download_bytes,global_accuracy,global_loss,"
      + "participant_accuracy_mean,participant_accuracy_min,participant_accuracy_max,"
      + "participant_reports,elapsed_seconds")
    #expect(rows.dropFirst().map { String($0[0]) } == ["1", "2", "3", "4", "5"], "\(rows)")
    // A row counts the uploads since the row before (the hand-over may see the next round's
    // first uploads already): 15 in all.
    // Participants joined when the row was written: all three until the last round, after
    // which they may already have left (they leave as soon as they learn of the end).
    #expect(rows.dropFirst().dropLast().allSatisfy { $0[1] == "3" }, "\(rows)")
    #expect(rows.dropFirst().compactMap { Int($0[2]) }.reduce(0, +) == 15, "\(rows)")
    // 119 held-out rows: the final global model is well above the 63% of the majority class.
    let final = try #require(rows.last.flatMap { Double($0[5]) })
    #expect(final > 0.85, "\(rows)")
    // The participants' own evaluations, reported after each of their rounds: by the last
    // round all three have reported, and the mean lies between the lowest and the highest.
    let last = try #require(rows.last)
    #expect(last[10] == "3", "\(rows)")
    let (mean, lowest, highest) = try (
      #require(Double(last[7])), #require(Double(last[8])), #require(Double(last[9])))
    #expect(lowest <= mean && mean <= highest && lowest > 0.5, "\(rows)")
    let plot = try runProcess(binary, ["plot", record, "--out", directory.appendingPathComponent("plot").path])
    #expect(plot.status == 0, "\(plot.combined)")
    #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("plot/accuracy-vs-round.svg").path))
  }

  /// Split learning gets the same kits (issue 20 item 6): `kind: split` writes the
  /// coordinator's serve.yaml and participants' configs naming the federation key they make
  /// among themselves; the coordinator's --epochs drive everyone, and it stops by itself.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func aProvisionedSplitFederationRunsFromItsKits() throws {
    let directory = try makeTemporaryDirectory("colearn-provision-split")
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = try deployment.binary()
    let port = try freeLocalPort()
    let names = ["edge-a", "edge-b", "edge-c"]
    let provisioned = try provision(
      """
      kind: split
      federation: split-study
      server: localhost:\(port)
      listen: 127.0.0.1:\(port)
      participants: \(names.joined(separator: ", "))
      serve.batch-size: 32
      serve.lr: 0.1
      serve.threads: 1
      serve.epochs: 1
      serve.out: ./run
      participate.batch-size: 32
      participate.threads: 1
      """, in: directory)
    #expect(provisioned.status == 0, "\(provisioned.combined)")
    let fed = directory.appendingPathComponent("fed").path
    let serveConfig = try String(contentsOfFile: "\(fed)/server/serve.yaml", encoding: .utf8)
    #expect(serveConfig.contains("colearn split serve --config serve.yaml"), "\(serveConfig)")
    // The coordinator's state survives a restart (split serve --state-dir).
    #expect(serveConfig.contains("state-dir: ./state\n") && serveConfig.contains("participants: 3\n"), "\(serveConfig)")
    #expect(!FileManager.default.fileExists(atPath: "\(fed)/operator"))
    let kit = try String(contentsOfFile: "\(fed)/kits/edge-a/participate.yaml", encoding: .utf8)
    #expect(kit.contains("key: ./federation.key\n") && kit.contains("colearn split keygen"), "\(kit)")
    // The participants' key: made by one of them, copied into the others' kits.
    let key = "\(fed)/kits/edge-a/federation.key"
    #expect(try runProcess(binary, ["split", "keygen", "--out", key]).status == 0)
    for name in names.dropFirst() {
      try FileManager.default.copyItem(atPath: key, toPath: "\(fed)/kits/\(name)/federation.key")
    }
    let server = try BackgroundProcess(binary, ["split", "serve", "--config", "\(fed)/server/serve.yaml"])
    #expect(server.waitFor("listening on") != nil, "\(server.combined)")
    let participants = try names.enumerated().map { index, name in
      try BackgroundProcess(
        binary,
        [
          "split", "participate", "--config", "\(fed)/kits/\(name)/participate.yaml",
          "--shard", "\(index)/3", "--shard-size", "192", "--train-limit", "6000",
          "--test-limit", "500",
        ])
    }
    for (name, participant) in zip(names, participants) {
      #expect(participant.wait(timeout: 180) == 0, "\(name): \(participant.combined)")
      #expect(participant.standardOutput.contains("epoch 1/1"), "\(name): \(participant.combined)")
    }
    #expect(server.wait(timeout: 60) == 0, "\(server.combined)")
    // The project's `./run` is relative to the project file, as every path in it.
    let rows = try String(contentsOfFile: "\(directory.path)/run/metrics.csv", encoding: .utf8)
      .split(separator: "\n")
    #expect(rows.count == 2 && rows[1].hasPrefix("1,3,18,576,"), "\(rows)")
  }
}
