import CoLearnTestSupport
import Foundation
import Testing

/// `colearn audit` through the real binary on a generated MNIST.
@Suite struct AuditCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  /// Two participants with 8 records each, one round at θu = 1 and mini-batch 1: the report
  /// names every attack, and a participant's upload of a linear first layer gives back some of
  /// its records (one epoch over 8 records leaves rows dominated by the last record).
  @Test func aTinyFederationIsAudited() throws {
    let root = try makeTemporaryDirectory("colearn-audit")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTinyMNIST(in: root.appendingPathComponent("data"), trainCount: 100, testCount: 60)
    let out = root.appendingPathComponent("out")
    let result = try runProcess(
      binary(),
      [
        "audit", "--out", out.path, "--canaries", "20", "--participants", "2",
        "--shard-size", "8", "--rounds", "1", "--upload-fraction", "1", "--batch-size", "1",
        "--lr", "0.05", "--threads", "1", "--data-dir", root.appendingPathComponent("data").path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("ε lower bound"), "\(result.standardOutput)")
    let report = try String(contentsOf: out.appendingPathComponent("REPORT.md"), encoding: .utf8)
    for heading in ["A user of the final model", "The server", "Empirical ε lower bound"] {
      #expect(report.contains(heading), "REPORT.md lacks \(heading)")
    }
    let json = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: out.appendingPathComponent("audit.json"))) as? [String: Any])
    let server = try #require(json["server"] as? [[String: Any]])
    #expect(server.count == 2)
    let canaries = try #require(json["canaries"] as? [String: Any])
    #expect(canaries["canaries"] as? Int == 20)
    #expect(canaries["guesses"] as? Int == 10)
    let modelUser = try #require(json["modelUser"] as? [String: Any])
    #expect(modelUser["members"] as? Int == 16)
    let reconstruction = try #require(server[0]["reconstruction"] as? [String: Any])
    #expect(reconstruction["usableRows"] as? Int ?? 0 > 0)
  }

  /// Runs `colearn audit` on a fresh tiny MNIST with `arguments` (the audit's own options
  /// first, then simulate's; --data-dir, a simulate option, is added last).
  func audit(_ arguments: [String], testCount: Int = 60) throws -> (
    result: ProcessResult, out: URL, report: String, json: [String: Any]?
  ) {
    let root = try makeTemporaryDirectory("colearn-audit")
    try writeTinyMNIST(
      in: root.appendingPathComponent("data"), trainCount: 100, testCount: testCount)
    let out = root.appendingPathComponent("out")
    let result = try runProcess(
      binary(),
      ["audit", "--out", out.path] + arguments
        + ["--data-dir", root.appendingPathComponent("data").path])
    let report =
      (try? String(contentsOf: out.appendingPathComponent("REPORT.md"), encoding: .utf8)) ?? ""
    let json =
      (try? Data(contentsOf: out.appendingPathComponent("audit.json"))).flatMap {
        try? JSONSerialization.jsonObject(with: $0) as? [String: Any]
      }
    return (result, out, report, json)
  }

  /// An SVT run: the canary bound is held against the ledger (2 rounds × ε = 1 per epoch),
  /// whose unit the report names, and is consistent with it.
  @Test func aPrivateRunIsHeldAgainstItsLedger() throws {
    let (result, out, report, json) = try audit([
      "--canaries", "20", "--participants", "2", "--shard-size", "8", "--rounds", "2",
      "--selection", "svt", "--dp-epsilon", "1", "--bound", "0.01", "--threads", "1",
    ])
    defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
    #expect(result.status == 0, "\(result.combined)")
    #expect(report.contains("The ledger's ε against the lower bound"))
    #expect(report.contains("participant-level") && report.contains("consistent"), "\(report)")
    let check = try #require(json?["ledgerCheck"] as? [String: Any])
    #expect(check["violated"] as? Bool == false)
    let claim = try #require(check["claim"] as? [String: Any])
    #expect(claim["epsilon"] as? Double == 2)
  }

  /// A constructed bug: a non-private run that memorises its canaries, audited against a claim
  /// of ε = 0 (what a broken ledger could say). The lower bound exceeds it: REPORT.md says BUG
  /// and the command fails, naming the bound and the claim.
  @Test func aLowerBoundAboveTheClaimFailsTheAudit() throws {
    let (result, out, report, json) = try audit([
      "--canaries", "120", "--claimed-epsilon", "0", "--participants", "2", "--shard-size", "4",
      "--rounds", "40", "--upload-fraction", "1", "--batch-size", "1", "--lr", "0.05",
      "--threads", "1",
    ], testCount: 400)
    defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
    #expect(result.status != 0)
    #expect(result.standardError.contains("BUG"), "\(result.combined)")
    #expect(result.standardError.contains("--claimed-epsilon"))
    #expect(report.contains("**BUG**"), "\(report)")
    let check = try #require(json?["ledgerCheck"] as? [String: Any])
    #expect(check["violated"] as? Bool == true)
  }

  /// FedAvg with every round attacked and offline LiRA: one finding per participant and round,
  /// the reference models' metrics, and the reconstruction figure for MNIST's images.
  @Test func fedAvgEveryRoundAndReferenceModels() throws {
    let (result, out, report, json) = try audit([
      "--canaries", "10", "--attack-round", "all", "--reference-models", "2",
      "--algorithm", "fedavg", "--participants", "2", "--shard-size", "4", "--rounds", "3",
      "--batch-size", "1", "--threads", "1",
    ])
    defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
    #expect(result.status == 0, "\(result.combined)")
    let server = try #require(json?["server"] as? [[String: Any]])
    #expect(server.count == 6)
    #expect(Set(server.compactMap { $0["round"] as? Int }) == [1, 2, 3])
    let reference = try #require(json?["referenceModels"] as? [String: Any])
    #expect(reference["models"] as? Int == 2)
    #expect(report.contains("Offline LiRA") && report.contains("FedAvg"))
    let svg = try String(
      contentsOf: out.appendingPathComponent("reconstructions.svg"), encoding: .utf8)
    #expect(svg.contains("original") && svg.contains("<rect"))
  }

  @Test func badSettingsAreRefusedWithTheFlag() throws {
    let cases: [([String], String)] = [
      (["audit", "--out", "x", "--canaries", "1"], "--canaries"),
      (["audit", "--out", "x", "--confidence", "1"], "--confidence"),
      (["audit", "--out", "x", "--algorithm", "standalone"], "dssgd or fedavg"),
      (["audit", "--out", "x", "--attack-round", "0"], "--attack-round"),
      (["audit", "--out", "x", "--attack-round", "3", "--rounds", "2"], "--attack-round 3"),
      (["audit", "--out", "x", "--claimed-epsilon", "-1"], "--claimed-epsilon"),
      (["audit", "--out", "x", "--upload-fraction", "2"], "--upload-fraction"),
    ]
    for (arguments, expected) in cases {
      let result = try runProcess(binary(), arguments)
      #expect(result.status != 0, "\(arguments) should fail")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
  }
}
