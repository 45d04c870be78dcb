import CoLearnPrivacy
import CoLearnTestSupport
import Foundation
import Testing

/// `colearn train --privacy dp-sgd` (issue 21) through the real binary: the ledger states ε with
/// its unit, a target ε is met without overshooting it by much, and models or flags DP-SGD
/// cannot honour are refused with the reason.
@Suite struct DPSGDTrainTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  func train(_ root: URL, _ extra: [String]) throws -> ProcessResult {
    try runProcess(
      binary(),
      [
        "train", "--model", root.appendingPathComponent("model.toml").path,
        "--data", "csv:\(root.path)/train.csv", "--label-column", "label", "--test-fraction", "0.25",
        "--batch-size", "16", "--lr", "0.2", "--out", root.appendingPathComponent("run").path,
      ] + extra)
  }

  func ledger(_ root: URL) throws -> [String: Any] {
    let data = try Data(contentsOf: root.appendingPathComponent("run/privacy-ledger.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  @Test func aTargetEpsilonIsMetAndTheLedgerSaysWhatItProtects() throws {
    let root = try makeTemporaryDirectory("colearn-dpsgd")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 400, seed: 8)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    let run = try train(root, ["--privacy", "dp-sgd", "--target-epsilon", "2", "--epochs", "4"])
    #expect(run.status == 0, "\(run.combined)")
    let ledger = try ledger(root)
    let epsilon = try #require(ledger["epsilon"] as? Double)
    // σ is the smallest meeting ε = 2 over the run's 4 × ⌈300/16⌉ = 76 steps at q = 16/300.
    #expect(epsilon <= 2 && epsilon > 1.95, "\(ledger)")
    #expect(ledger["steps"] as? Int == 76)
    #expect(abs((ledger["samplingRate"] as? Double ?? 0) - 16.0 / 300) < 1e-12)
    #expect((ledger["unit"] as? String)?.hasPrefix("record-level: training sets differing by one record added or removed") == true)
    #expect((ledger["notCovered"] as? [String])?.contains { $0.contains("schema") } == true)
    #expect(ledger["secureNoise"] as? Bool == true)
    #expect(run.standardOutput.contains("privacy: ε = "), "\(run.standardOutput)")
    #expect(
      FileManager.default.fileExists(atPath: root.appendingPathComponent("run/model.safetensors").path))
    // The metrics carry ε per epoch, increasing.
    let metrics = try String(contentsOf: root.appendingPathComponent("run/metrics.csv"), encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
    #expect(metrics[0].last == "epsilon")
    let perEpoch = metrics.dropFirst().compactMap { Double($0.last ?? "") }
    #expect(perEpoch.count == 4 && zip(perEpoch, perEpoch.dropFirst()).allSatisfy { $0 < $1 })
    #expect(abs(perEpoch.last! - epsilon) < 1e-12)
  }

  @Test func seededNoiseIsReproducibleAndSaysItIsNotPrivate() throws {
    let root = try makeTemporaryDirectory("colearn-dpsgd-seeded")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 200, seed: 9)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    var models: [Data] = []
    for _ in 0..<2 {
      let run = try train(
        root, ["--privacy", "dp-sgd", "--noise-multiplier", "1", "--epochs", "2", "--insecure-seeded-noise"])
      #expect(run.status == 0, "\(run.combined)")
      #expect(run.standardOutput.contains("NOT private"), "\(run.standardOutput)")
      models.append(try Data(contentsOf: root.appendingPathComponent("run/model.safetensors")))
      #expect(try ledger(root)["secureNoise"] as? Bool == false)
    }
    #expect(models[0] == models[1])
  }

  /// σ = 0 is allowed (clipping only) and its ledger says ε = ∞ — JSON has no number for it.
  @Test func noNoiseMeansAnInfiniteEpsilonInTheLedger() throws {
    let root = try makeTemporaryDirectory("colearn-dpsgd-nonoise")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 60, seed: 12)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    let run = try train(root, ["--privacy", "dp-sgd", "--noise-multiplier", "0", "--epochs", "1"])
    #expect(run.status == 0, "\(run.combined)")
    #expect(try ledger(root)["epsilon"] as? String == "inf")
    #expect(run.standardOutput.contains("privacy: ε = ∞"), "\(run.standardOutput)")
  }

  @Test func batchNormalisationAndSelectiveSGDAreRefused() throws {
    let root = try makeTemporaryDirectory("colearn-dpsgd-refused")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 60, seed: 10)
    try Data(
      syntheticTableModel.replacingOccurrences(
        of: "type = \"relu\"", with: "type = \"batchnorm\"\n[[layers]]\ntype = \"relu\"").utf8
    ).write(to: root.appendingPathComponent("model.toml"))
    let batchNorm = try train(root, ["--privacy", "dp-sgd", "--noise-multiplier", "1"])
    #expect(batchNorm.status != 0)
    #expect(batchNorm.standardError.contains("normalises over the batch"), "\(batchNorm.combined)")
    let selective = try train(
      root, ["--privacy", "dp-sgd", "--noise-multiplier", "1", "--select-fraction", "0.5"])
    #expect(selective.status != 0)
    #expect(selective.standardError.contains("leave out --select-fraction"), "\(selective.combined)")
    let both = try train(
      root, ["--privacy", "dp-sgd", "--noise-multiplier", "1", "--target-epsilon", "1"])
    #expect(both.standardError.contains("exactly one of --noise-multiplier"), "\(both.combined)")
  }

  /// `simulate --privacy dp-sgd`: every participant's ε is the accountant's for its own q and
  /// steps, the banner says so, a plain run says it has no guarantee, and --resume is refused.
  @Test func simulatedParticipantsEachGetTheirOwnRecordLevelEpsilon() throws {
    let root = try makeTemporaryDirectory("colearn-dpsgd-simulate")
    defer { try? FileManager.default.removeItem(at: root) }
    try writeSyntheticTable(root.appendingPathComponent("train.csv"), rows: 301, seed: 11)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    func simulate(_ extra: [String]) throws -> ProcessResult {
      try runProcess(
        binary(),
        [
          "simulate", "--model", root.appendingPathComponent("model.toml").path, "--data",
          "csv:\(root.path)/train.csv", "--label-column", "label", "--test-fraction", "0.2",
          "--participants", "3", "--rounds", "2", "--batch-size", "16", "--lr", "0.2",
          "--out", root.appendingPathComponent("sim").path,
        ] + extra)
    }
    let run = try simulate(["--privacy", "dp-sgd", "--noise-multiplier", "1.2"])
    #expect(run.status == 0, "\(run.combined)")
    #expect(run.standardOutput.contains("DP-SGD participants: C = 1.0, σ = 1.2000"), "\(run.standardOutput)")
    #expect(run.standardOutput.contains("DP-SGD privacy per participant (record-level"))
    let data = try Data(contentsOf: root.appendingPathComponent("sim/privacy-ledger.json"))
    let ledgers = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
    #expect(ledgers.count == 3)
    for ledger in ledgers {
      let q = try #require(ledger["samplingRate"] as? Double)
      let steps = try #require(ledger["steps"] as? Int)
      let sigma = try #require(ledger["chargedNoiseMultiplier"] as? Double)
      let epsilon = try #require(ledger["epsilon"] as? Double)
      // Each participant has n = 240/3 = 80 records: q = 16/80, 2 rounds of ⌈80/16⌉ = 5 steps.
      #expect(abs(q - 0.2) < 1e-12 && steps == 10, "\(ledger)")
      #expect(sigma < 1.2 && sigma > 1.19)
      var accountant = RDPAccountant(orders: (2...64).map(Double.init) + [128, 256, 512, 1024])
      try accountant.composePoissonSampled(samplingRate: q, noiseMultiplier: sigma, steps: steps)
      #expect(abs(try accountant.epsilon(delta: 1e-5).epsilon - epsilon) <= 1e-9 * epsilon)
    }
    let resumed = try simulate(["--privacy", "dp-sgd", "--noise-multiplier", "1.2", "--resume"])
    #expect(resumed.status != 0)
    #expect(resumed.standardError.contains("keeps no checkpoint"), "\(resumed.combined)")
    let plain = try simulate([])
    #expect(plain.status == 0, "\(plain.combined)")
    #expect(plain.standardOutput.contains("privacy: none — what participants share carries no formal guarantee"))
  }
}
