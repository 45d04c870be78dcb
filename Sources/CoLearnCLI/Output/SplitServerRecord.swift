import CoLearnRPC
import CoLearnTensor
import Foundation

/// The run record of `colearn split serve`, kept as `serve` keeps one: `config.json`,
/// `metrics.csv` — a row per epoch once every participant has passed it (the participants that
/// stepped in it, steps, samples, and the back's mean training loss and accuracy on the noised
/// features of those steps) — and `summary.json`, rewritten after every row. The coordinator
/// never sees test data: test accuracy is each participant's own (its `metrics.csv`).
///
/// Threading: rows arrive from the step and finish handlers; one lock orders them.
final class SplitServerRecord: @unchecked Sendable {
  static let columns = [
    "epoch", "participants", "steps", "samples", "train_loss", "train_accuracy", "elapsed_seconds",
  ]

  struct Configuration: Encodable {
    var command = "colearn split serve"
    var model: String
    var participants: Int
    var epochs: Int?
    var maxBatchSize: Int
    var learningRate: Float
    var learningRateDecay: Float
    var seed: UInt64
  }

  struct Summary: Encodable {
    var command = "colearn split serve"
    var epochs: Int
    var steps: Int
    var samples: Int
    var finalTrainLoss: Double
    var finalTrainAccuracy: Double
    var wallSeconds: Double
  }

  private let run: RunDirectory
  private let lock = NSLock()
  private let start = monotonicSeconds()
  private var steps = 0
  private var samples = 0

  /// A new record in `path`; or, with `completed` (a coordinator resumed from its state
  /// directory), the record there continued: `metrics.csv` keeps its rows of the epochs in
  /// `completed` (those after them were never durable, and go), and gets the rows of `completed`
  /// it lacks (lost in the crash; their `elapsed_seconds` is empty).
  init(path: String, configuration: Configuration, resuming completed: [SplitEpochSummary]? = nil)
    throws
  {
    run = try RunDirectory(
      path: path, columns: Self.columns, resume: completed != nil,
      keepingRowsThrough: completed.map { $0.last?.epoch ?? 0 })
    try run.writeJSON(configuration, to: "config.json")
    guard let completed, !completed.isEmpty else { return }
    let text =
      (try? String(contentsOf: run.url.appendingPathComponent("metrics.csv"), encoding: .utf8))
      ?? ""
    let present = Set(
      text.split(separator: "\n").dropFirst().compactMap {
        $0.split(separator: ",", maxSplits: 1).first.flatMap { Int($0) }
      })
    for epoch in completed {
      record(epoch, elapsed: "", writeRow: !present.contains(epoch.epoch))
    }
  }

  func record(_ epoch: SplitEpochSummary) {
    record(epoch, elapsed: nil, writeRow: true)
  }

  private func record(_ epoch: SplitEpochSummary, elapsed text: String?, writeRow: Bool) {
    lock.lock()
    defer { lock.unlock() }
    steps += epoch.steps
    samples += epoch.samples
    let elapsed = monotonicSeconds() - start
    if writeRow {
      run.append(row: [
        "\(epoch.epoch)", "\(epoch.participants)", "\(epoch.steps)", "\(epoch.samples)",
        format(epoch.meanLoss, 5), format(epoch.accuracy, 5), text ?? format(elapsed, 3),
      ])
    }
    try? run.writeJSON(
      Summary(
        epochs: epoch.epoch, steps: steps, samples: samples, finalTrainLoss: epoch.meanLoss,
        finalTrainAccuracy: epoch.accuracy, wallSeconds: elapsed),
      to: "summary.json")
  }

  func close() { run.close() }
}
