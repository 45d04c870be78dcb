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

  @Test func badSettingsAreRefusedWithTheFlag() throws {
    let cases: [([String], String)] = [
      (["audit", "--out", "x", "--canaries", "1"], "--canaries"),
      (["audit", "--out", "x", "--confidence", "1"], "--confidence"),
      (["audit", "--out", "x", "--algorithm", "fedavg"], "--algorithm dssgd"),
      (["audit", "--out", "x", "--upload-fraction", "2"], "--upload-fraction"),
    ]
    for (arguments, expected) in cases {
      let result = try runProcess(binary(), arguments)
      #expect(result.status != 0, "\(arguments) should fail")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
  }
}
