import CoLearnNN
import CoLearnRPC
import CoLearnTensor
import Foundation

/// The record of a deployed federation, kept by `colearn serve` in its run directory as
/// `simulate` keeps one (so `colearn plot` draws a deployment as it draws a simulation):
/// `config.json` (the settings), `metrics.csv` — one row per completed round the server handed
/// over (participants joined, the uploads and bytes both ways since the row before — the
/// hand-over may already see the next round's first uploads — with `--eval-data` the global
/// model's accuracy and loss on it, and the mean, lowest and highest of the participants'
/// latest self-reported local accuracies with the number of reports) — and `summary.json`,
/// rewritten after every row.
///
/// Rows come from the federation's coalesced round hand-over: when rounds complete faster than
/// a row is written, one row covers them (its `round` is the latest; the counts are the sums).
/// Threading: `record` runs on the hand-over's background task, one at a time.
final class ServerRunRecord: @unchecked Sendable {
  static let columns = [
    "round", "participants", "uploads", "upload_bytes", "download_bytes", "global_accuracy",
    "global_loss", "participant_accuracy_mean", "participant_accuracy_min",
    "participant_accuracy_max", "participant_reports", "elapsed_seconds",
  ]

  /// The held-out data the global model is evaluated on, and how often.
  struct Evaluation {
    var network: Network
    var samples: LabeledSamples
    var batchSize: Int
    var every: Int
    var source: String
  }

  struct Summary: Encodable {
    var command = "colearn serve"
    var rounds: UInt64
    var uploads: UInt64
    var evaluatedOn: String?
    var finalGlobalAccuracy: Double?
    var bestGlobalAccuracy: Double?
    /// What `colearn plot` reads as the run's best accuracy.
    var bestMeanAccuracy: Double?
    var wallSeconds: Double
  }

  private let run: RunDirectory
  private let evaluation: Evaluation?
  /// Where the global evaluations go for `colearn status`, and the reports come from.
  private let roster: ParticipantRoster
  private let lock = NSLock()
  private let start = monotonicSeconds()
  /// The counters at the last row (nil: none yet; the server's counters start at zero).
  private var previous: FederationMetrics?
  private var finalAccuracy: Double?
  private var bestAccuracy: Double?

  /// Opens the record in `path`, or after a restart continues it through `roundsCompleted`
  /// (later rows, from a state that did not survive, are dropped).
  init(
    path: String, configuration: some Encodable, evaluation: Evaluation?,
    roster: ParticipantRoster, resumingAfter roundsCompleted: UInt64?
  ) throws {
    run = try RunDirectory(
      path: path, columns: Self.columns, resume: roundsCompleted != nil,
      keepingRowsThrough: roundsCompleted.map { Int($0) })
    self.evaluation = evaluation
    self.roster = roster
    try run.writeJSON(configuration, to: "config.json")
  }

  /// Writes the row of `rounds` completed rounds, with w_global `parameters` and the
  /// federation's counters now.
  func record(rounds: UInt64, parameters: [Float], metrics: FederationMetrics) {
    lock.lock()
    defer { lock.unlock() }
    var accuracy = ""
    var loss = ""
    if let evaluation, rounds % UInt64(evaluation.every) == 0 {
      let result = CoLearnNN.evaluate(
        evaluation.network, parameters: parameters, on: evaluation.samples,
        batchSize: evaluation.batchSize)
      accuracy = format(result.accuracy, 5)
      loss = format(result.meanLoss, 5)
      finalAccuracy = result.accuracy
      bestAccuracy = max(bestAccuracy ?? 0, result.accuracy)
      roster.evaluated(round: rounds, accuracy: result.accuracy, loss: result.meanLoss)
    }
    let reported = roster.reportedAccuracy
    run.append(row: [
      "\(rounds)", "\(metrics.participantsJoined)",
      "\(metrics.uploadsAccepted - (previous?.uploadsAccepted ?? 0))",
      "\(metrics.uploadBytes - (previous?.uploadBytes ?? 0))",
      "\(metrics.downloadBytes - (previous?.downloadBytes ?? 0))", accuracy, loss,
      reported.map { format($0.mean, 5) } ?? "", reported.map { format($0.min, 5) } ?? "",
      reported.map { format($0.max, 5) } ?? "", "\(reported?.reports ?? 0)",
      format(monotonicSeconds() - start, 3),
    ])
    previous = metrics
    try? run.writeJSON(
      Summary(
        rounds: rounds, uploads: metrics.uploadsAccepted, evaluatedOn: evaluation?.source,
        finalGlobalAccuracy: finalAccuracy, bestGlobalAccuracy: bestAccuracy,
        bestMeanAccuracy: bestAccuracy, wallSeconds: monotonicSeconds() - start),
      to: "summary.json")
  }

  func close() { run.close() }
}
