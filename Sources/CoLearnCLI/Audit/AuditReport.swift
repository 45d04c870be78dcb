import CoLearnAudit
import Foundation

/// What `colearn audit` found, written as audit.json (every number, with the settings) and
/// REPORT.md (the same for people).
struct AuditReport: Codable {
  /// The server's findings on one participant's first upload.
  struct ParticipantFindings: Codable {
    var participant: Int
    var uploadedValues: Int
    /// Gradient alignment with the upload: members = the shard, non-members = as many
    /// held-out records.
    var uploadMembership: MembershipMetrics
    /// The analytic attack on a linear first layer (nil for other first layers).
    var reconstruction: Reconstruction?
  }

  /// The reconstruction summary (the per-record similarities stay out of the report).
  struct Reconstruction: Codable {
    var usableRows: Int
    var rows: Int
    var recoveredFraction: Double
  }

  var model: String
  var parameterCount: Int
  var participants: Int
  var shardSize: Int
  var rounds: Int
  var uploadFraction: Double
  var downloadFraction: Double
  var privacy: String
  var seed: UInt64
  var globalAccuracy: Double
  /// The loss-threshold attack on the final global model.
  var modelUser: MembershipMetrics
  var server: [ParticipantFindings]
  var canaries: CanaryAuditResult
  var similarityThreshold: Double

  var summaryLine: String {
    "colearn audit: model-user AUC \(format(modelUser.auc, 3)), ε lower bound "
      + "\(format(canaries.epsilonLowerBound, 3)) at \(format(canaries.confidence, 3)) "
      + "(record-level: one canary record in or out of a shard)"
  }

  /// Writes audit.json and REPORT.md into `directory` (created if missing), each atomically.
  func write(to directory: URL) throws {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(self).write(
        to: directory.appendingPathComponent("audit.json"), options: .atomic)
      try Data(markdown.utf8).write(
        to: directory.appendingPathComponent("REPORT.md"), options: .atomic)
    } catch {
      throw CLIError(
        "cannot write the audit report to \(directory.path): \(error.localizedDescription)")
    }
  }

  var markdown: String {
    var lines = [
      "# colearn audit",
      "",
      "\(model) (|w| = \(parameterCount)), N = \(participants) × \(shardSize) records, "
        + "\(rounds) rounds of DSSGD, θu = \(uploadFraction), θd = \(downloadFraction), "
        + "privacy: \(privacy), seed \(seed). Final global accuracy on the held-out records: "
        + "\(format(globalAccuracy, 4)).",
      "",
      "## A user of the final model (loss threshold, Yeom et al.)",
      "",
      "| members | non-members | AUC | TPR @ 1% FPR | TPR @ 0.1% FPR |",
      "|---:|---:|---:|---:|---:|",
      "| \(modelUser.members) | \(modelUser.nonMembers) | \(format(modelUser.auc, 3)) | "
        + "\(format(modelUser.tprAtOnePercentFPR, 3)) | \(format(modelUser.tprAtTenthPercentFPR, 3)) |",
      "",
      "## The server (each participant's first upload)",
      "",
      "| participant | values uploaded | membership AUC | TPR @ 1% FPR | rows usable | recovered ≥ \(similarityThreshold) |",
      "|---:|---:|---:|---:|---:|---:|",
    ]
    for finding in server {
      let rows = finding.reconstruction.map { "\($0.usableRows) / \($0.rows)" } ?? "—"
      let recovered = finding.reconstruction.map { format($0.recoveredFraction, 3) } ?? "—"
      lines.append(
        "| \(finding.participant) | \(finding.uploadedValues) | "
          + "\(format(finding.uploadMembership.auc, 3)) | "
          + "\(format(finding.uploadMembership.tprAtOnePercentFPR, 3)) | \(rows) | \(recovered) |")
    }
    lines += [
      "",
      "## Empirical ε lower bound (Steinke, Nasr & Jagielski 2023, one run)",
      "",
      "\(canaries.canaries) canaries, \(canaries.guesses) guesses by a model user (loss), "
        + "\(canaries.correct) correct: ε ≥ \(format(canaries.epsilonLowerBound, 3)) with "
        + "confidence \(canaries.confidence) (δ = \(canaries.delta)). The unit is one record: "
        + "each canary is added to a participant's shard or left out on a fair coin, so this "
        + "bounds from below the record-level ε of the whole run as a user of the final model "
        + "sees it; it says nothing about what the server sees from the uploads.",
      "",
    ]
    return lines.joined(separator: "\n")
  }
}
