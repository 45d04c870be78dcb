import Foundation

/// A finished (or partly finished) run directory of `colearn train` or `colearn simulate`, read
/// back for plots and reports.
struct RunMetrics {
  /// One row of `metrics.csv`.
  struct Row: Equatable {
    /// The round (simulate) or epoch (train).
    var step: Int
    /// The test accuracy (mean over the participants for simulate), when evaluated this step.
    var accuracy: Double?
    /// Bytes uploaded and downloaded by all participants up to and including this step, as
    /// encoded on the wire (0 for `train`).
    var cumulativeBytes: Double
  }

  var directory: URL
  /// The metrics rows in order.
  var rows: [Row]
  /// Whether the metrics carry communication (simulate) columns.
  var hasBytes: Bool
  /// From summary.json: the best test accuracy over the run (mean over participants), and the
  /// wall time; nil while the run has no summary.
  var bestAccuracy: Double?
  var wallSeconds: Double?

  /// The rows that were evaluated.
  var evaluated: [Row] { rows.filter { $0.accuracy != nil } }

  /// Metrics given directly (tests, or runs held in memory).
  init(
    directory: URL, rows: [Row], hasBytes: Bool, bestAccuracy: Double?, wallSeconds: Double?
  ) {
    self.directory = directory
    self.rows = rows
    self.hasBytes = hasBytes
    self.bestAccuracy = bestAccuracy
    self.wallSeconds = wallSeconds
  }

  /// Reads `metrics.csv` and, if present, `summary.json` from `directory`.
  ///
  /// - Throws: ``CLIError`` naming the file when `metrics.csv` is missing or has neither a
  ///   `round` nor an `epoch` column.
  init(directory: URL) throws {
    self.directory = directory
    let csvURL = directory.appendingPathComponent("metrics.csv")
    guard let text = try? String(contentsOf: csvURL, encoding: .utf8) else {
      throw CLIError(
        "\(csvURL.path) not found: pass run directories written by `colearn train`, "
          + "`colearn simulate` or `colearn serve` (its --out)")
    }
    let lines = text.split(separator: "\n").map {
      $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }
    guard let header = lines.first,
      let stepColumn = header.firstIndex(of: "round") ?? header.firstIndex(of: "epoch")
    else {
      throw CLIError("\(csvURL.path) has no `round` or `epoch` column")
    }
    let accuracyColumn =
      header.firstIndex(of: "mean_accuracy") ?? header.firstIndex(of: "test_accuracy")
      ?? header.firstIndex(of: "global_accuracy")
    let byteColumns = ["upload_bytes", "download_bytes"].compactMap { header.firstIndex(of: $0) }
    hasBytes = byteColumns.count == 2
    var total = 0.0
    rows = lines.dropFirst().compactMap { fields in
      guard fields.count == header.count, let step = Int(fields[stepColumn]) else { return nil }
      for column in byteColumns { total += Double(fields[column]) ?? 0 }
      return Row(
        step: step, accuracy: accuracyColumn.flatMap { Double(fields[$0]) }, cumulativeBytes: total)
    }
    let summaryURL = directory.appendingPathComponent("summary.json")
    if let data = try? Data(contentsOf: summaryURL),
      let summary = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    {
      bestAccuracy =
        (summary["bestMeanAccuracy"] as? Double) ?? (summary["bestTestAccuracy"] as? Double)
      wallSeconds = summary["wallSeconds"] as? Double
    }
  }
}
