import CoLearnTestSupport
import Foundation
import Testing

@Suite struct SimulateCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  @Test func badSettingsAreRefusedUpFront() throws {
    let cases: [([String], String)] = [
      (["simulate", "--upload-fraction", "1.5"], "--upload-fraction"),
      (["simulate", "--download-fraction", "0"], "--download-fraction"),
      (["simulate", "--protocol", "gossip"], "gossip"),
      (["simulate", "--partition", "skewed"], "skewed"),
      (["simulate", "--participants", "0"], "--participants"),
    ]
    for (arguments, expected) in cases {
      let result = try runProcess(binary(), arguments)
      #expect(result.status != 0, "\(arguments) should fail")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
  }

  /// Three real MNIST participants, three rounds: the files are written and the federation learns.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func threeParticipantsTwoRoundsOnRealMNIST() throws {
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(
      binary(),
      [
        "simulate", "--participants", "3", "--shard-size", "500", "--rounds", "3",
        "--test-limit", "1000", "--lr", "0.1", "--threads", "1", "--out", out.path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    let csv = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(csv.count == 4)
    #expect(csv[0].hasPrefix("round,seconds,train_seconds,select_seconds,exchange_seconds,"))
    // The measured parts of a round add up to no more than the round (one worker).
    for row in csv.dropFirst() {
      let fields = row.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
      let (seconds, train, select, exchange) = (fields[1]!, fields[2]!, fields[3]!, fields[4]!)
      #expect(train > 0 && select > 0 && exchange > 0)
      #expect(train + select + exchange <= seconds + 3e-4, "\(row)")
    }
    let summary = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
    let accuracy = try #require(summary?["finalGlobalAccuracy"] as? Double)
    #expect(accuracy > 0.75, "global accuracy \(accuracy) (about 0.84 expected)")
  }

  /// `--transport grpc` sends every turn through a real server on 127.0.0.1 (gRPC, tokens, the
  /// write-ahead log) and, round-robin being deterministic, ends bit for bit where the
  /// in-process simulation ends.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func theGRPCTransportGivesTheInProcessResults() throws {
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    var columns: [[String]] = []
    for transport in ["inprocess", "grpc"] {
      let directory = out.appendingPathComponent(transport)
      let result = try runProcess(
        binary(),
        [
          "simulate", "--participants", "3", "--shard-size", "300", "--rounds", "2",
          "--test-limit", "500", "--lr", "0.1", "--threads", "1", "--transport", transport,
          "--out", directory.path,
        ])
      #expect(result.status == 0, "\(result.combined)")
      if transport == "grpc" { #expect(result.standardOutput.contains("over gRPC on 127.0.0.1:")) }
      let csv = try String(contentsOf: directory.appendingPathComponent("metrics.csv"), encoding: .utf8)
      // mean, min, max, global accuracy and the parameter counts both ways.
      columns.append(
        csv.split(separator: "\n").dropFirst().map { row in
          let fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
          return ([6, 7, 8, 9, 10, 12].map { fields[$0] }).joined(separator: ",")
        })
    }
    #expect(columns[0] == columns[1])
    #expect(columns[0].count == 2)
  }

  @Test func tooManyParticipantsForTheDataIsAClearError() throws {
    guard realDataDirectory() != nil else { return }
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(
      binary(), ["simulate", "--participants", "200", "--shard-size", "600", "--out", out.path])
    #expect(result.status != 0)
    #expect(result.combined.contains("120000"), "\(result.combined)")
  }
}

extension SimulateCommandTests {
  @Test func unknownAlgorithmAndBadLocalEpochsAreRefused() throws {
    let bad = try runProcess(binary(), ["simulate", "--algorithm", "gossip-sgd"])
    #expect(bad.status != 0)
    #expect(bad.standardError.contains("gossip-sgd"), "\(bad.standardError)")
    let epochs = try runProcess(binary(), ["simulate", "--algorithm", "fedavg", "--local-epochs", "0"])
    #expect(epochs.status != 0)
    #expect(epochs.standardError.contains("--local-epochs"), "\(epochs.standardError)")
  }
}

extension SimulateCommandTests {
  /// The privacy flags end to end: the seeded-noise warning, the stop line when the budget is
  /// spent, the ledger file and the table.
  @Test func privateUploadsWriteTheLedgerAndStopAtTheBudget() throws {
    guard realDataDirectory() != nil else { return }
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(
      binary(),
      [
        "simulate", "--participants", "3", "--shard-size", "200", "--rounds", "3",
        "--test-limit", "500", "--threads", "1", "--selection", "svt", "--bound", "0.001",
        "--dp-epsilon", "1", "--dp-budget", "2.5", "--insecure-seeded-noise", "--out", out.path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("This run is NOT differentially private"))
    #expect(
      result.standardOutput.contains(
        "participant 0 stopped uploading in round 3: privacy budget reached: spent ε = 2.0"),
      "\(result.standardOutput)")
    #expect(result.standardOutput.contains("privacy ledger (svt, SEEDED NOISE: NOT PRIVATE)"))
    let ledger = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("privacy-ledger.json"))) as? [String: Any]
    let entries = try #require(ledger?["participants"] as? [[String: Any]])
    #expect(entries.count == 3)
    #expect(entries.allSatisfy { ($0["totalEpsilon"] as? Double) == 2 && $0["epochs"] as? Int == 2 })
    #expect(ledger?["secureNoise"] as? Bool == false)
  }
}

extension SimulateCommandTests {
  /// A run stopped after 2 rounds and resumed to 4 gives, row for row, the run that never
  /// stopped (round-robin, every algorithm); changed settings and a finished checkpoint are
  /// refused with the reason.
  @Test(
    .enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"),
    arguments: ["dssgd", "fedavg", "standalone", "centralized"])
  func aResumedRunEqualsTheUninterruptedOne(algorithm: String) throws {
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let common = [
      "simulate", "--algorithm", algorithm, "--participants", "3", "--shard-size", "200",
      "--test-limit", "300", "--lr", "0.1", "--threads", "1",
    ]
    let whole = out.appendingPathComponent("whole").path
    let parts = out.appendingPathComponent("parts").path
    let straight = try runProcess(binary(), common + ["--rounds", "4", "--out", whole])
    #expect(straight.status == 0, "\(straight.combined)")
    let first = try runProcess(binary(), common + ["--rounds", "2", "--out", parts])
    #expect(first.status == 0, "\(first.combined)")
    let second = try runProcess(binary(), common + ["--rounds", "4", "--out", parts, "--resume"])
    #expect(second.status == 0, "\(second.combined)")
    #expect(second.standardOutput.contains("resuming after round 2"))

    func accuracies(_ directory: String) throws -> [String] {
      let csv = try String(contentsOfFile: directory + "/metrics.csv", encoding: .utf8)
      return csv.split(separator: "\n").dropFirst().map { row in
        let fields = row.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return ([0, 6, 7, 8, 9, 10, 12].map { fields[$0] }).joined(separator: ",")
      }
    }
    let expected = try accuracies(whole)
    #expect(expected.count == 4)
    #expect(try accuracies(parts) == expected)

    let finished = try runProcess(binary(), common + ["--rounds", "4", "--out", parts, "--resume"])
    #expect(finished.status != 0)
    #expect(finished.standardError.contains("give --rounds larger"), "\(finished.standardError)")
    let changed = try runProcess(
      binary(), common + ["--rounds", "6", "--out", parts, "--resume", "--batch-size", "16"])
    #expect(changed.status != 0)
    #expect(
      changed.standardError.contains("sgd.batchSize: saved 32, now 16"), "\(changed.standardError)")
  }

  @Test func resumeWithoutACheckpointIsAClearError() throws {
    guard realDataDirectory() != nil else { return }
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(
      binary(),
      ["simulate", "--participants", "2", "--shard-size", "50", "--rounds", "2", "--out", out.path, "--resume"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("nothing to resume"), "\(result.standardError)")
    let noOut = try runProcess(binary(), ["simulate", "--resume"])
    #expect(noOut.status != 0)
    #expect(noOut.standardError.contains("--resume needs --out"), "\(noOut.standardError)")
  }
}

extension SimulateCommandTests {
  /// Issue 24: the printed round time left evaluation out (a 100-round N = 30 run reported
  /// 0.125 s per round and took 124.5 s). The lines now give the wall time per round with
  /// evaluation beside the training figure, summary.json keeps the evaluation seconds, and
  /// without --eval-every a 40-round run evaluates every 2 rounds (about 20 times) and after the
  /// last.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func roundTimesIncludeEvaluationAndTheDefaultPeriodScales() throws {
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(
      binary(),
      [
        "simulate", "--participants", "2", "--shard-size", "20", "--rounds", "41",
        "--test-limit", "300", "--threads", "2", "--out", out.path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("s/round wall with evaluation"), "\(result.standardOutput)")
    #expect(result.standardOutput.contains("s per round wall with"), "\(result.standardOutput)")
    let rows = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst()
      .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    let evaluated = rows.filter { !$0[6].isEmpty }.map { Int($0[0])! }
    #expect(evaluated == Array(stride(from: 2, through: 40, by: 2)) + [41], "\(evaluated)")
    let summary = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
    let seconds = try #require(summary?["evaluationSeconds"] as? Double)
    #expect(seconds > 0)
    let config = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("config.json"))) as? [String: Any]
    #expect(config?["evalEvery"] as? Int == 2)
  }
}
