import CoLearnAudit
import Foundation

/// What `colearn audit` found, written as audit.json (every number, with the settings) and
/// REPORT.md (the same for people).
struct AuditReport: Codable {
  /// The server's findings on one participant's upload in one attacked round.
  struct ParticipantFindings: Codable {
    var participant: Int
    var round: Int
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

  /// Offline LiRA: how many reference models, their training, and the attack's metrics.
  struct ReferenceModels: Codable {
    var models: Int
    var recordsEach: Int
    var epochs: Int
    var metrics: MembershipMetrics
  }

  var model: String
  var parameterCount: Int
  /// "DSSGD" or "FedAvg (E = …)".
  var algorithm: String
  var participants: Int
  var shardSize: Int
  var rounds: Int
  var batchSize: Int
  var uploadFraction: Double
  var downloadFraction: Double
  var privacy: String
  var seed: UInt64
  var globalAccuracy: Double
  /// The loss-threshold attack on the final global model.
  var modelUser: MembershipMetrics
  /// Offline LiRA on the final global model (nil without --reference-models).
  var referenceModels: ReferenceModels?
  /// The rounds whose uploads were attacked ("1", "all", …).
  var attackedRounds: String
  var server: [ParticipantFindings]
  var canaries: CanaryAuditResult
  /// The canary bound held against the ledger's ε (or --claimed-epsilon); nil without a claim.
  var ledgerCheck: PrivacyClaimCheck?
  /// How the units of the claim and of the canary bound relate, or why there is no claim.
  var ledgerNote: String
  var similarityThreshold: Double
  /// reconstructions.svg when the input is an image and some row of a linear first layer was
  /// usable, else nil.
  var reconstructionFigure: String?

  static let reconstructionFigureName = "reconstructions.svg"

  var summaryLine: String {
    "colearn audit: model-user AUC \(format(modelUser.auc, 3)), ε lower bound "
      + "\(format(canaries.epsilonLowerBound, 3)) at \(format(canaries.confidence, 3)) "
      + "(record-level: one canary record in or out of a shard)"
  }

  /// Writes audit.json, REPORT.md and (with `pictures`) reconstructions.svg into `directory`
  /// (created if missing), each atomically.
  func write(to directory: URL, pictures: [ReconstructionPicture] = []) throws {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(self).write(
        to: directory.appendingPathComponent("audit.json"), options: .atomic)
      if let reconstructionFigure, !pictures.isEmpty {
        try Data(ReconstructionPicture.svg(pictures).utf8).write(
          to: directory.appendingPathComponent(reconstructionFigure), options: .atomic)
      }
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
        + "\(rounds) rounds of \(algorithm), mini-batch \(batchSize), θu = \(uploadFraction), "
        + "θd = \(downloadFraction), "
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
    ]
    if let reference = referenceModels {
      let metrics = reference.metrics
      lines += [
        "Offline LiRA (Carlini et al. 2022) with \(reference.models) reference models, each "
          + "trained centrally on \(reference.recordsEach) held-out records (disjoint from every "
          + "candidate) for \(reference.epochs) epochs:",
        "",
        "| members | non-members | AUC | TPR @ 1% FPR | TPR @ 0.1% FPR |",
        "|---:|---:|---:|---:|---:|",
        "| \(metrics.members) | \(metrics.nonMembers) | \(format(metrics.auc, 3)) | "
          + "\(format(metrics.tprAtOnePercentFPR, 3)) | \(format(metrics.tprAtTenthPercentFPR, 3)) |",
        "",
      ]
    }
    lines += [
      "## The server (each participant's uploads in round(s) \(attackedRounds))",
      "",
      "Membership by gradient alignment with the upload (members = the shard, non-members = as "
        + "many held-out records) and input reconstruction from a linear first layer.",
      "",
      "| participant | round | values uploaded | membership AUC | TPR @ 1% FPR | rows usable | recovered ≥ \(similarityThreshold) |",
      "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for finding in server {
      let rows = finding.reconstruction.map { "\($0.usableRows) / \($0.rows)" } ?? "—"
      let recovered = finding.reconstruction.map { format($0.recoveredFraction, 3) } ?? "—"
      lines.append(
        "| \(finding.participant) | \(finding.round) | \(finding.uploadedValues) | "
          + "\(format(finding.uploadMembership.auc, 3)) | "
          + "\(format(finding.uploadMembership.tprAtOnePercentFPR, 3)) | \(rows) | \(recovered) |")
    }
    if let reconstructionFigure {
      lines += [
        "", "Reconstructions (original | reconstruction, best matches): "
          + "[\(reconstructionFigure)](\(reconstructionFigure))",
      ]
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
      "## The ledger's ε against the lower bound",
      "",
    ]
    if let check = ledgerCheck {
      let claimed = check.claim.epsilon.isFinite ? format(check.claim.epsilon, 4) : "∞"
      lines += [
        "| claimed ε (upper bound) | claimed δ | claim's unit | ε lower bound at the claim's δ | p-value of the claim | verdict |",
        "|---:|---:|---|---:|---:|---|",
        "| \(claimed) | \(check.claim.delta) | \(check.claim.unit) | "
          + "\(format(check.lowerBound, 3)) | \(format(check.pValueOfClaim, 4)) | "
          + "\(check.violated ? "**BUG**" : "consistent") |",
        "",
        check.verdict + ".",
        "",
      ]
    }
    lines += [ledgerNote, ""]
    return lines.joined(separator: "\n")
  }
}
