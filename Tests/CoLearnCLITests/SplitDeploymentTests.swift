import CoLearnTestSupport
import Foundation
import Testing

/// Networked split learning end to end: `colearn split serve` over TLS and three `colearn split
/// participate` processes on 127.0.0.1, on small shards of the real MNIST.
@Suite(.serialized, .enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
struct SplitDeploymentTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  func summary(_ directory: URL, _ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: directory.appendingPathComponent("out-\(name)/summary.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  /// Three participants train two epochs through a TLS coordinator: every one finishes, their
  /// fronts are bit-identical (same hash, same number of updates applied), test accuracy of
  /// front + downloaded back improves, the audit has a row per step with the sealed sizes, the
  /// coordinator logs what it received, the participants follow its `--epochs`, its run record
  /// has a row per epoch, and it stops by itself with status 0 once everyone is done.
  @Test func threeParticipantsTrainOverTLSWithIdenticalFronts() throws {
    let directory = try makeTemporaryDirectory("colearn-split-deploy")
    defer { try? FileManager.default.removeItem(at: directory) }
    let certificates = try makeTestCertificates(in: directory)
    let names = ["edge-a", "edge-b", "edge-c"]
    let tokens = directory.appendingPathComponent("tokens").path
    let issued = try runProcess(
      binary(),
      ["token", "add"] + names + [
        "--tokens", tokens, "--write-to", directory.appendingPathComponent("tokens.d").path,
      ])
    #expect(issued.status == 0, "\(issued.combined)")
    let key = directory.appendingPathComponent("federation.key").path
    let keygen = try runProcess(binary(), ["split", "keygen", "--out", key])
    #expect(keygen.status == 0, "\(keygen.combined)")
    // Never overwritten.
    #expect(try runProcess(binary(), ["split", "keygen", "--out", key]).status != 0)

    let server = try BackgroundProcess(
      binary(),
      [
        "split", "serve", "--listen", "127.0.0.1:0", "--tokens", tokens,
        "--tls-cert", certificates.certificate, "--tls-key", certificates.key,
        "--participants", "3", "--batch-size", "32", "--lr", "0.1", "--threads", "1",
        "--metrics-every", "1", "--epochs", "2",
        "--out", directory.appendingPathComponent("coordinator-run").path,
      ])
    let port = try #require(
      server.waitFor("listening on 127\\.0\\.0\\.1:([0-9]+)").flatMap(Int.init),
      "\(server.combined)")
    let participants = try names.enumerated().map { index, name in
      try BackgroundProcess(
        binary(),
        [
          "split", "participate", "--server", "127.0.0.1:\(port)", "--tls-ca", certificates.ca,
          "--name", name,
          "--token-file", directory.appendingPathComponent("tokens.d/\(name).token").path,
          "--key", key, "--shard", "\(index)/3", "--shard-size", "192", "--train-limit", "6000",
          "--test-limit", "500", "--batch-size", "32", "--threads", "1",
          "--out", directory.appendingPathComponent("out-\(name)").path,
        ] + (index == 2 ? ["--epsilon", "1000", "--insecure-seeded-noise"] : []))
    }
    var hashes: [String] = []
    for (index, (name, participant)) in zip(names, participants).enumerated() {
      #expect(participant.wait(timeout: 180) == 0, "\(name): \(participant.combined)")
      let record = try summary(directory, name)
      hashes.append(record["frontHash"] as? String ?? "")
      // 192 samples in batches of 32: 6 steps per epoch, 36 updates in all.
      #expect(record["steps"] as? Int == 12, "\(name): \(record)")
      #expect(record["updatesApplied"] as? Int == 36, "\(name): \(record)")
      let initial = try #require(record["initialTestAccuracy"] as? Double)
      let final = try #require(record["finalTestAccuracy"] as? Double)
      #expect(final > initial + 0.1, "\(name): \(initial) → \(final)")
      let audit = try String(
        contentsOfFile: directory.appendingPathComponent("out-\(name)/audit.csv").path,
        encoding: .utf8
      ).split(separator: "\n")
      #expect(audit.count == 13)
      #expect(audit.first?.hasSuffix("sealed_update_bytes,relay_sequence") == true)
      // 32 × 1,280 values per step; the sealed update is 4·60,860 + 36 bytes.
      #expect(audit.dropFirst().allSatisfy { $0.contains(",40960,32,") && $0.contains(",243476,") })
      // privacy.json: what its ε bounds (per crossing), its own ledger, what crossed un-noised.
      let privacyData = try Data(
        contentsOf: directory.appendingPathComponent("out-\(name)/privacy.json"))
      let privacy = try #require(
        try JSONSerialization.jsonObject(with: privacyData) as? [String: Any])
      let units = try #require(privacy["units"] as? [[String: Any]], "\(privacy)")
      #expect(units.count == 3 && units.allSatisfy { ($0["unit"] as? String)?.hasPrefix("per crossing") == true })
      #expect((privacy["participants"] as? [Any])?.count == 1)
      #expect(privacy["valuesPerSample"] as? Int == 1280 && privacy["epochs"] as? Int == 2)
      let notProtected = (privacy["notProtected"] as? [String]) ?? []
      #expect(notProtected.contains { $0.hasPrefix("labels") } && notProtected.contains { $0.hasPrefix("front gradients") })
      if index == 2 {
        #expect(units[0]["epsilonPerEpoch"] as? Double == 1000, "\(units)")
      } else {
        #expect(units[0]["epsilonPerEpoch"] == nil && (privacy["noise"] as? String)?.hasPrefix("none") == true, "\(privacy)")
      }
    }
    #expect(hashes.count == 3 && Set(hashes).count == 1 && hashes[0].count == 64, "\(hashes)")
    // The end: everyone finished and downloaded the back, so the coordinator stops by itself.
    #expect(server.wait(timeout: 30) == 0, "\(server.combined)")
    let log = server.standardError
    #expect(log.contains("every participant has finished: stopping"), "\(log)")
    // A row per epoch, once all three had passed it: 3 × 6 steps of 32.
    let rows = try String(
      contentsOfFile: directory.appendingPathComponent("coordinator-run/metrics.csv").path,
      encoding: .utf8
    ).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    #expect(rows.first == SplitServerRecordColumns.expected, "\(rows)")
    #expect(rows.dropFirst().map { Array($0.prefix(4)) } == [["1", "3", "18", "576"], ["2", "3", "18", "576"]], "\(rows)")
    #expect(rows.dropFirst().allSatisfy { Double($0[4]).map { $0 > 0 && $0.isFinite } == true }, "\(rows)")
    #expect(log.contains("msg=stopped steps=36"), "\(log)")
    // What the coordinator saw of edge-c: 12 steps of 32 × 1,280 noised values at ε = 1000,
    // 384 labels in the clear, and 12 sealed updates it could not read.
    let received = log.split(separator: "\n").last {
      $0.contains("msg=received") && $0.contains("participant=edge-c")
    }
    let line = try #require(received.map(String.init), "\(log)")
    for field in [
      "steps=12", "feature_values=491520", "labels_in_clear=384", "epsilon=1000.0",
      "sealed_updates=12", "sealed_bytes=2921712",
    ] {
      #expect(line.contains(field), "\(line) lacks \(field)")
    }
  }
}

enum SplitServerRecordColumns {
  static let expected = [
    "epoch", "participants", "steps", "samples", "train_loss", "train_accuracy", "elapsed_seconds",
  ]
}
