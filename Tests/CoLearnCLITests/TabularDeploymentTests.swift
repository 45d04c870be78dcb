import CoLearnModelIO
import CoLearnTestSupport
import Foundation
import Testing

/// Issue 17's deployment on a user's own data: `colearn serve --model FILE --schema FILE` over
/// TLS and three `colearn participate --data csv:…` processes on 127.0.0.1, each with only its
/// own rows of the UCI breast-cancer table and no model or schema of its own (the server
/// publishes both at Join). A hospital whose CSV lacks a column is refused with the column
/// named before it trains (and gives its slot back); one with another model file is told which
/// layer differs, and one with another schema which statistics.
@Suite(.serialized, .enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with tabular/"))
struct TabularDeploymentTests {
  let deployment = DeploymentTests()

  @Test func threeHospitalsTrainOnTheirOwnCSVsOverTLS() throws {
    let data = try #require(realDataDirectory())
    let directory = try makeTemporaryDirectory("colearn-tabular")
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = try deployment.binary()
    let model = BringYourOwnDataTests.repository
      .appendingPathComponent("examples/breast-cancer/model.toml").path

    // Each hospital's rows: every third row of the table, with the header.
    let lines = try String(contentsOfFile: "\(data)/tabular/breast_cancer.csv", encoding: .utf8)
      .split(whereSeparator: \.isNewline).map(String.init)
    let header = lines[0]
    let names = ["hospital-a", "hospital-b", "hospital-c"]
    for (index, name) in names.enumerated() {
      let rows = lines.dropFirst().enumerated().filter { $0.offset % 3 == index }.map(\.element)
      try ([header] + rows).joined(separator: "\n")
        .write(to: directory.appendingPathComponent("\(name).csv"), atomically: true, encoding: .utf8)
    }
    // A CSV without the first column.
    let dropped = lines.map { $0.split(separator: ",", omittingEmptySubsequences: false).dropFirst().joined(separator: ",") }
    try dropped.prefix(100).joined(separator: "\n")
      .write(to: directory.appendingPathComponent("hospital-d.csv"), atomically: true, encoding: .utf8)

    // The schema the federation agreed on (here: fitted on hospital A's rows), and another.
    func describe(_ name: String) throws -> String {
      let schema = directory.appendingPathComponent("schema-\(name).json").path
      let describe = try runProcess(
        binary,
        ["data", "describe", "--data", "csv:\(directory.path)/\(name).csv", "--label-column",
         "diagnosis", "--out", schema])
      #expect(describe.status == 0, "\(describe.combined)")
      return schema
    }
    let schema = try describe("hospital-a")
    let otherSchema = try describe("hospital-b")
    // A model file with a wider hidden layer.
    let otherModel = directory.appendingPathComponent("wider.toml").path
    try String(contentsOfFile: model, encoding: .utf8)
      .replacingOccurrences(of: "outputs = 16", with: "outputs = 32")
      .write(toFile: otherModel, atomically: true, encoding: .utf8)

    let certificates = try makeTestCertificates(in: directory)
    let tokens = try deployment.issueTokens(names + ["hospital-d"], in: directory)
    let server = try BackgroundProcess(
      binary,
      [
        "serve", "--listen", "127.0.0.1:0", "--tokens", tokens, "--model", model,
        "--schema", schema,
        "--state-dir", directory.appendingPathComponent("state").path,
        "--tls-cert", certificates.certificate, "--tls-key", certificates.key,
        "--participants", "3", "--metrics-every", "1", "--rounds", "5",
      ])
    let port = try #require(
      server.waitFor("listening on 127\\.0\\.0\\.1:([0-9]+)").flatMap(Int.init), "\(server.combined)")
    func participate(
      _ name: String, data: String? = nil, extra: [String] = []
    ) throws -> BackgroundProcess {
      try BackgroundProcess(
        binary,
        [
          "participate", "--server", "127.0.0.1:\(port)", "--name", name,
          "--token-file", directory.appendingPathComponent("tokens.d/\(name).token").path,
          "--data", "csv:\(directory.path)/\(data ?? name).csv",
          "--label-column", "diagnosis", "--test-fraction", "0.25",
          "--rounds", "5", "--lr", "0.05", "--batch-size", "8", "--threads", "1",
          "--tls-ca", certificates.ca,
          "--out", directory.appendingPathComponent("out-\(name)").path,
        ] + extra)
    }
    // The refused ones first, all under hospital-d's token: each gives its slot back (or never
    // takes one), or one of the three hospitals below would find the federation full.
    let refused = try participate("hospital-d")
    #expect(refused.wait(timeout: 60) != 0)
    #expect(refused.standardError.contains("mean_radius"), "\(refused.combined)")
    let wider = try participate("hospital-d", data: "hospital-a", extra: ["--model", otherModel])
    #expect(wider.wait(timeout: 60) != 0)
    #expect(
      wider.standardError.contains(
        #"layer 1 ("linear"): outputs = 16 on the server, outputs = 32 in yours"#),
      "\(wider.combined)")
    let mismatched = try participate(
      "hospital-d", data: "hospital-a", extra: ["--schema", otherSchema])
    #expect(mismatched.wait(timeout: 60) != 0)
    #expect(
      mismatched.standardError.contains("is not the schema the server publishes"),
      "\(mismatched.combined)")
    #expect(mismatched.standardError.contains("column mean_radius mean: "))

    let participants = try names.map { try participate($0) }
    for (name, participant) in zip(names, participants) {
      #expect(participant.wait(timeout: 300) == 0, "\(name): \(participant.combined)")
      let accuracy = try deployment.accuracies(directory, name)
      #expect(accuracy.count == 5)
      // ~140 rows each, 48 test rows: about 0.9–0.98 after five rounds at α = 0.05 (the join
      // order, and with it the turn order, differs between runs).
      #expect(accuracy.last! > 0.8, "\(name): \(accuracy)")
      let local = directory.appendingPathComponent("out-\(name)/model.safetensors").path
      #expect(FileManager.default.fileExists(atPath: local), "\(name) saved no model")
    }
    // --rounds 5: the server stops by itself after the fifth round (15 uploads).
    #expect(server.wait(timeout: 30) == 0, "\(server.combined)")
    #expect(server.standardError.contains("msg=stopped sequence=15"), "\(server.standardError)")
    #expect(server.standardError.contains("all rounds complete, stopping"))

    // Issue 18: the operator's deliverable, w_global with the model file and the schema, is in
    // the state directory; a hospital evaluates it on its own rows.
    let global = directory.appendingPathComponent("state/global-model.safetensors").path
    let evaluate = try runProcess(
      binary, ["evaluate", "--model-file", global, "--data", "csv:\(directory.path)/hospital-b.csv"])
    #expect(evaluate.status == 0, "\(evaluate.combined)")
    let accuracy = evaluate.standardOutput.firstMatch(of: /accuracy ([0-9.]+)%/)
      .flatMap { Double($0.1) }
    #expect((accuracy ?? 0) > 80, "\(evaluate.standardOutput)")
    // Each hospital downloaded all of w_global after its last round; the last to finish saw
    // the final state, the server's model bit for bit.
    let serverParameters = try SavedModel(contentsOfFile: global).parameters
    let downloaded = try names.map { name in
      try SavedModel(
        contentsOfFile: directory.appendingPathComponent("out-\(name)/global-model.safetensors").path
      ).parameters
    }
    #expect(downloaded.contains { $0.map(\.bitPattern) == serverParameters.map(\.bitPattern) })
  }
}
