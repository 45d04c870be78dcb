import CoLearnCLI
import CoLearnTestSupport
import Foundation
import Testing

@Suite(.serialized) struct TrainCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  @Test func badFlagValuesAreRefusedWithTheirName() throws {
    let cases: [([String], String)] = [
      (["train", "--lr=-1"], "--lr"),
      (["train", "--batch-size", "0"], "--batch-size"),
      (["train", "--select-fraction", "1.5"], "--select-fraction"),
      (["train", "--model", "resnet"], "resnet"),
      (["train", "--epochs", "0"], "--epochs"),
    ]
    for (arguments, expected) in cases {
      let result = try runProcess(binary(), arguments)
      #expect(result.status != 0, "\(arguments) should fail")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
  }

  @Test func missingDataSaysWhereItLookedAndWhatToDo() throws {
    let empty = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: empty) }
    let result = try runProcess(
      binary(), ["train", "--data-dir", empty.path, "--out", empty.appendingPathComponent("run").path])
    #expect(result.status != 0)
    #expect(result.combined.contains("idx1-ubyte") || result.combined.contains("idx3-ubyte"), "\(result.combined)")
    #expect(result.combined.contains("--data-dir"), "\(result.combined)")
  }

  /// One epoch of mnist-mlp at mini-batch 1 on the real MNIST must pass 94% test accuracy (the
  /// PyTorch peer and the paper's setting reach about 95% after one epoch).
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func oneRealEpochOfMNISTPassesNinetyFourPercent() throws {
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(
      binary(),
      [
        "train", "--model", "mnist-mlp", "--epochs", "1", "--batch-size", "1", "--lr", "0.01",
        "--threads", "1", "--out", out.path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    let summaryData = try Data(contentsOf: out.appendingPathComponent("summary.json"))
    let summary = try #require(
      try JSONSerialization.jsonObject(with: summaryData) as? [String: Any])
    let accuracy = try #require(summary["finalTestAccuracy"] as? Double)
    #expect(accuracy > 0.94, "test accuracy \(accuracy)")
    let csv = try String(contentsOf: out.appendingPathComponent("metrics.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 2)
    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("config.json").path))
  }
}
