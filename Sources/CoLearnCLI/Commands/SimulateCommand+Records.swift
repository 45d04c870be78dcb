import CoLearnDSSGD
import CoLearnNN
import Foundation

extension SimulateCommand {
  /// Writes `simulation`'s state with `progress` as its annotation; a simulation that cannot be
  /// checkpointed (seeded privacy noise) says so once and the run goes on.
  func saveCheckpoint(
    of simulation: any CheckpointableSimulation, progress: SimulationRecord.Progress,
    to path: String
  ) throws {
    do {
      var checkpoint = try simulation.checkpoint()
      checkpoint.annotation = try JSONEncoder().encode(progress)
      try checkpoint.write(to: path)
    } catch let error as CheckpointError {
      if case .unsupported = error { return }
      throw CLIError("\(error)")
    }
  }

  /// Reads the checkpoint at `path` into `simulation` and returns the progress saved with it.
  func restoreCheckpoint(
    at path: String, into simulation: (any CheckpointableSimulation)?, settings: String
  ) throws -> SimulationRecord.Progress {
    guard let simulation else {
      throw CLIError("this simulation cannot be resumed (--transport grpc keeps no checkpoint)")
    }
    do {
      guard let checkpoint = try SimulationCheckpoint.read(from: path) else {
        throw CLIError(
          "no checkpoint at \(path): nothing to resume; run without --resume to start afresh")
      }
      guard
        let progress = try? JSONDecoder().decode(
          SimulationRecord.Progress.self, from: checkpoint.annotation)
      else {
        throw CLIError("\(path) was not written by colearn simulate; run without --resume")
      }
      guard progress.settings == settings else {
        throw CLIError(
          "the run in \((path as NSString).deletingLastPathComponent) was made with other "
            + "settings than these flags (only --rounds, --threads and --eval-every may "
            + "change): \(settingDifferences(saved: progress.settings, now: settings))")
      }
      guard progress.rounds < rounds, checkpoint.roundsCompleted == progress.rounds else {
        throw CLIError(
          "the checkpoint is at round \(checkpoint.roundsCompleted): give --rounds larger than "
            + "that to continue the run")
      }
      try simulation.restore(from: checkpoint)
      return progress
    } catch let error as CheckpointError {
      throw CLIError("\(error)")
    }
  }
}

/// The settings that differ between two ``SimulationRecord/Configuration/resumeKey`` strings, as
/// "key: saved X, now Y" (nested keys joined with dots).
func settingDifferences(saved: String, now: String) -> String {
  func flatten(_ json: String) -> [String: String] {
    var result: [String: String] = [:]
    func walk(_ value: Any, _ prefix: String) {
      if let object = value as? [String: Any] {
        for (key, inner) in object { walk(inner, prefix.isEmpty ? key : prefix + "." + key) }
      } else {
        result[prefix] = "\(value)"
      }
    }
    if let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) { walk(object, "") }
    return result
  }
  let before = flatten(saved)
  let after = flatten(now)
  let keys = Set(before.keys).union(after.keys).sorted()
  let differences = keys.compactMap { key -> String? in
    let old = before[key] ?? "none"
    let new = after[key] ?? "none"
    return old == new ? nil : "\(key): saved \(old), now \(new)"
  }
  return differences.isEmpty ? "unreadable saved settings" : differences.joined(separator: "; ")
}

/// The JSON records `colearn simulate` writes.
enum SimulationRecord {
  /// What a checkpoint carries besides the simulation's state: the settings it belongs to and
  /// the running totals of the summary.
  struct Progress: Codable {
    var settings: String
    var rounds = 0
    var wallSeconds = 0.0
    var roundSeconds = 0.0
    var trainSeconds = 0.0
    var selectSeconds = 0.0
    var exchangeSeconds = 0.0
    var bestMeanAccuracy = 0.0
    /// Seconds spent evaluating (optional: checkpoints written before it was kept lack it).
    var evaluationSeconds: Double?
    /// The last evaluation (the last round is always evaluated).
    var last: FederationEvaluation?

    /// Adds a round's timings to the totals.
    mutating func add(_ statistics: RoundStatistics) {
      roundSeconds += statistics.seconds
      trainSeconds += statistics.trainSeconds
      selectSeconds += statistics.selectSeconds
      exchangeSeconds += statistics.exchangeSeconds
    }
  }

  /// The columns of metrics.csv, one row per round (`participate` writes the same).
  static let metricsColumns = [
    "round", "seconds", "train_seconds", "select_seconds", "exchange_seconds",
    "elapsed_seconds", "mean_accuracy", "min_accuracy", "max_accuracy", "global_accuracy",
    "uploaded_parameters", "upload_bytes", "downloaded_parameters", "download_bytes",
  ]

  struct Configuration: Encodable {
    var command: String
    var algorithm: String
    var localEpochs: Int
    var model: String
    var parameterCount: Int
    var modelHash: String
    var dataset: String
    var dataDirectory: String
    var partition: String
    var shardSize: Int
    var testSamples: Int
    var dssgd: DSSGDConfiguration
    var sgd: SGDConfiguration
    var rounds: Int
    var evalEvery: Int
    var seed: UInt64
    var threads: Int
    var blas: String

    /// The settings that must not change when a run is resumed: everything but the number of
    /// rounds, the evaluation period, the thread count, the BLAS build and where the data is.
    var resumeKey: String {
      var fixed = self
      fixed.rounds = 0
      fixed.evalEvery = 0
      fixed.threads = 0
      fixed.blas = ""
      fixed.dataDirectory = ""
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      return (try? encoder.encode(fixed)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
  }

  struct Summary: Codable {
    var rounds: Int
    var finalMeanAccuracy: Double
    var finalMinAccuracy: Double
    var finalMaxAccuracy: Double
    var finalGlobalAccuracy: Double?
    /// Each participant's final test accuracy, in participant order (`colearn compare` reads
    /// them to show what each one gained by collaborating).
    var finalParticipantAccuracies: [Double]
    var bestMeanAccuracy: Double
    var wallSeconds: Double
    var roundSeconds: Double
    var trainSeconds: Double
    var selectSeconds: Double
    var exchangeSeconds: Double
    /// Seconds spent evaluating on the test set (not in ``roundSeconds``; in ``wallSeconds``).
    var evaluationSeconds: Double
    /// The shares of the rounds' worker-seconds spent in local training, selection and
    /// downloads/uploads; the rest is bookkeeping (w_old, statistics) and the turn order.
    var trainingShareOfRounds: Double
    var selectionShareOfRounds: Double
    var exchangeShareOfRounds: Double
  }
}

extension SimulationRecord.Summary {
  /// The summary of a run whose totals are `progress`, with `workers` turns overlapping (async).
  init(progress: SimulationRecord.Progress, workers: Int) {
    // Worker-seconds: with `async` the turns of several workers overlap.
    let workerSeconds = max(progress.roundSeconds * Double(workers), 1e-9)
    let accuracies = progress.last?.participantAccuracies ?? []
    self.init(
      rounds: progress.rounds, finalMeanAccuracy: progress.last?.meanAccuracy ?? 0,
      finalMinAccuracy: accuracies.min() ?? 0, finalMaxAccuracy: accuracies.max() ?? 0,
      finalGlobalAccuracy: progress.last?.globalAccuracy, finalParticipantAccuracies: accuracies,
      bestMeanAccuracy: progress.bestMeanAccuracy, wallSeconds: progress.wallSeconds,
      roundSeconds: progress.roundSeconds, trainSeconds: progress.trainSeconds,
      selectSeconds: progress.selectSeconds, exchangeSeconds: progress.exchangeSeconds,
      evaluationSeconds: progress.evaluationSeconds ?? 0,
      trainingShareOfRounds: progress.trainSeconds / workerSeconds,
      selectionShareOfRounds: progress.selectSeconds / workerSeconds,
      exchangeShareOfRounds: progress.exchangeSeconds / workerSeconds)
  }
}
