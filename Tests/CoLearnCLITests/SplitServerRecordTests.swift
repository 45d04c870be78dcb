import CoLearnRPC
import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// `split serve`'s run record continued by a coordinator resumed from its state directory:
/// metrics.csv holds exactly the epochs the state says are complete.
@Suite struct SplitServerRecordTests {
  static let configuration = SplitServerRecord.Configuration(
    model: "jiang-split-mnist", participants: 2, epochs: 4, maxBatchSize: 32, learningRate: 0.1,
    learningRateDecay: 0, seed: 1)

  static func summary(_ epoch: Int) -> SplitEpochSummary {
    SplitEpochSummary(
      epoch: epoch, participants: 2, steps: 10 + epoch, samples: 320, meanLoss: 2.0 / Double(epoch),
      accuracy: 0.1 * Double(epoch))
  }

  static func rows(_ directory: URL) throws -> [[String]] {
    try String(contentsOf: directory.appendingPathComponent("metrics.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst()
      .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
  }

  /// A row written after the last durable epoch (the crash lost that epoch's steps) goes; rows
  /// of durable epochs the crash kept no row for come back, with an empty elapsed_seconds; the
  /// rows that were there stay as they were.
  @Test func aResumedRecordHoldsExactlyTheDurableEpochs() throws {
    let directory = try makeTemporaryDirectory("colearn-split-record")
    defer { try? FileManager.default.removeItem(at: directory) }
    do {
      let record = try SplitServerRecord(path: directory.path, configuration: Self.configuration)
      for epoch in 1...3 { record.record(Self.summary(epoch)) }
      record.close()
    }
    let written = try Self.rows(directory)
    #expect(written.map(\.first) == ["1", "2", "3"])

    // The state knows epochs 1 and 2 only: epoch 3's row goes.
    do {
      let record = try SplitServerRecord(
        path: directory.path, configuration: Self.configuration,
        resuming: [Self.summary(1), Self.summary(2)])
      record.close()
    }
    #expect(try Self.rows(directory) == Array(written.prefix(2)))

    // The state knows four epochs: 3 and 4 are written from it.
    do {
      let record = try SplitServerRecord(
        path: directory.path, configuration: Self.configuration,
        resuming: (1...4).map(Self.summary))
      record.close()
    }
    let rows = try Self.rows(directory)
    #expect(Array(rows.prefix(2)) == Array(written.prefix(2)))
    #expect(rows.dropFirst(2).map { Array($0.prefix(4)) } == [["3", "2", "13", "320"], ["4", "2", "14", "320"]])
    #expect(rows.dropFirst(2).allSatisfy { $0.last == "" }, "\(rows)")
    let summary = try String(
      contentsOf: directory.appendingPathComponent("summary.json"), encoding: .utf8)
    #expect(summary.contains("\"steps\" : 50"), "\(summary)")
  }
}
