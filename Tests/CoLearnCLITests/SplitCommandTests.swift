import CoLearnTestSupport
import Foundation
import Testing

/// `colearn split simulate` end to end, on tiny generated MNIST files.
@Suite struct SplitCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  /// Writes uncompressed MNIST IDX files of `train` and `test` learnable 28×28 images (each
  /// class a bright bar at its own row band) into `directory/mnist`.
  func writeTinyMNIST(to directory: URL, train: Int, test: Int) throws {
    let mnist = directory.appendingPathComponent("mnist")
    try FileManager.default.createDirectory(at: mnist, withIntermediateDirectories: true)
    func bigEndian(_ value: UInt32) -> [UInt8] {
      [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
    func write(prefix: String, count: Int, seed: Int) throws {
      var images = bigEndian(0x0000_0803) + bigEndian(UInt32(count)) + bigEndian(28) + bigEndian(28)
      var labels = bigEndian(0x0000_0801) + bigEndian(UInt32(count))
      for i in 0..<count {
        let label = (i * 7 + seed) % 10
        labels.append(UInt8(label))
        for row in 0..<28 {
          for column in 0..<28 {
            let onBar = row / 3 == label && column > 3 && column < 24
            let speckle = (row * 31 + column * 17 + i * 13) % 11 == 0
            images.append(onBar ? 230 : (speckle ? 60 : 0))
          }
        }
      }
      try Data(images).write(to: mnist.appendingPathComponent("\(prefix)-images-idx3-ubyte"))
      try Data(labels).write(to: mnist.appendingPathComponent("\(prefix)-labels-idx1-ubyte"))
    }
    try write(prefix: "train", count: train, seed: 0)
    try write(prefix: "t10k", count: test, seed: 3)
  }

  @Test func sweepWritesTheRunFilesAndTheAudit() throws {
    let root = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    try writeTinyMNIST(to: root, train: 96, test: 40)
    let out = root.appendingPathComponent("run")
    let result = try runProcess(
      binary(),
      [
        "split", "simulate", "--data-dir", root.path, "--participants", "2", "--batch-size", "8",
        "--epochs", "2", "--epsilon", "inf,2", "--lr", "0.1", "--insecure-seeded-noise",
        "--audit-values", "--threads", "1", "--out", out.path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.combined.contains("WARNING: --insecure-seeded-noise"))
    #expect(result.combined.contains("per sample, with BatchNorm's batch coupling"))
    let sweep = try String(contentsOf: out.appendingPathComponent("sweep.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(sweep.count == 3 && sweep[1].hasPrefix("inf,") && sweep[2].hasPrefix("2,"))

    let run = out.appendingPathComponent("epsilon-2")
    for name in ["config.json", "metrics.csv", "summary.json", "privacy.json", "audit.csv"] {
      #expect(FileManager.default.fileExists(atPath: run.appendingPathComponent(name).path), "\(name)")
    }
    // 2 participants × 48 samples, B = 8: 6 steps per participant and epoch, 24 in all.
    let audit = try String(contentsOf: run.appendingPathComponent("audit.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(audit.count == 1 + 24)
    let header = audit[0].split(separator: ",").map(String.init)
    let first = audit[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let field = { (name: String) in first[header.firstIndex(of: name)!] }
    #expect(field("values") == "\(8 * 1280)" && field("labels_in_clear") == "8")
    #expect(field("epsilon") == "2.0")
    let sensitivity = try #require(Double(field("sensitivity")))
    #expect(abs(sensitivity - 2 * 7.0.squareRoot()) < 1e-5)
    #expect(abs(Double(field("noise_scale"))! - sensitivity / 2) < 1e-5)
    // The dumped values: 24 steps × 8 × 1280 float32, and one int32 label per sample.
    let values = try Data(contentsOf: run.appendingPathComponent("audit-values.f32"))
    let labels = try Data(contentsOf: run.appendingPathComponent("audit-labels.i32"))
    #expect(values.count == 24 * 8 * 1280 * 4 && labels.count == 24 * 8 * 4)

    let metrics = try String(contentsOf: run.appendingPathComponent("metrics.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(metrics.count == 3 && metrics.dropFirst().allSatisfy { $0.hasSuffix(",1") })
    let summary = try JSONSerialization.jsonObject(
      with: Data(contentsOf: run.appendingPathComponent("summary.json"))) as? [String: Any]
    #expect(summary?["frontsIdentical"] as? Bool == true)
    let privacy = try JSONSerialization.jsonObject(
      with: Data(contentsOf: run.appendingPathComponent("privacy.json"))) as? [String: Any]
    let participants = try #require(privacy?["participants"] as? [[String: Any]])
    #expect(participants.count == 2)
    // No noise at ε = inf: the learnable bars are learned.
    let clean = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("epsilon-inf/summary.json")))
      as? [String: Any]
    let accuracy = try #require(clean?["finalTestAccuracy"] as? Double)
    #expect(accuracy > 0.5, "accuracy \(accuracy)")
  }

  @Test func badSettingsAreRefusedUpFront() throws {
    let cases: [([String], String)] = [
      (["split", "simulate", "--epsilon", "0"], "--epsilon"),
      (["split", "simulate", "--epsilon", "2,abc"], "abc"),
      (["split", "simulate", "--batch-size", "1"], "--batch-size"),
      (["split", "simulate", "--participants", "0"], "--participants"),
      (["split", "simulate", "--boundary", "logits"], "logits"),
      (["split", "simulate", "--insecure-seeded-noise"], "--insecure-seeded-noise"),
      (
        ["split", "participate", "--server", "127.0.0.1:1", "--key", "missing.key", "--epsilon",
         "0.001"], "below ε = 0.01"
      ),
    ]
    for (arguments, expected) in cases {
      let result = try runProcess(binary(), arguments)
      #expect(result.status != 0, "\(arguments) should fail")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
  }
}
