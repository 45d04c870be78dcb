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

  init(path: String, configuration: Configuration) throws {
    run = try RunDirectory(path: path, columns: Self.columns)
    try run.writeJSON(configuration, to: "config.json")
  }

  func record(_ epoch: SplitEpochSummary) {
    lock.lock()
    defer { lock.unlock() }
    steps += epoch.steps
    samples += epoch.samples
    let elapsed = monotonicSeconds() - start
    run.append(row: [
      "\(epoch.epoch)", "\(epoch.participants)", "\(epoch.steps)", "\(epoch.samples)",
      format(epoch.meanLoss, 5), format(epoch.accuracy, 5), format(elapsed, 3),
    ])
    try? run.writeJSON(
      Summary(
        epochs: epoch.epoch, steps: steps, samples: samples, finalTrainLoss: epoch.meanLoss,
        finalTrainAccuracy: epoch.accuracy, wallSeconds: elapsed),
      to: "summary.json")
  }

  func close() { run.close() }
}
