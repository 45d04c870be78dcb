import Foundation

/// REPORT.md, privacy-audit.csv and privacy-audit.svg of `colearn reproduce privacy-audit`.
struct PrivacyAuditSuiteReport {
  var scale: SuiteScale
  var settings: PrivacyAuditSuite.Scale
  var results: [(cell: PrivacyAuditSuite.Cell, report: AuditReport)]
  var machine: String
  var commit: String
  var seconds: Double
  var date: String

  /// The families in legend order, each with its colour index.
  static let families = ["DSSGD", "FedAvg", "DSSGD + SVT", "DSSGD + DP-SGD"]

  /// One row per cell: its settings, accuracy and every attack's success.
  var rows: [[String]] {
    results.map { cell, report in
      let server = report.server.map(\.uploadMembership.auc)
      let serverAUC = server.isEmpty ? "" : format(server.reduce(0, +) / Double(server.count), 3)
      let recovered = report.server.compactMap(\.reconstruction?.recoveredFraction)
      let claim = report.ledgerCheck.map {
        $0.claim.epsilon.isFinite ? format($0.claim.epsilon, 3) : "∞"
      }
      return [
        cell.name, cell.family, "\(report.shardSize)", "\(report.batchSize)",
        "\(report.uploadFraction)", format(report.globalAccuracy, 4),
        format(report.modelUser.auc, 3), format(report.modelUser.tprAtOnePercentFPR, 3),
        report.referenceModels.map { format($0.metrics.auc, 3) } ?? "",
        report.referenceModels.map { format($0.metrics.tprAtOnePercentFPR, 3) } ?? "",
        serverAUC,
        recovered.isEmpty ? "" : format(recovered.reduce(0, +) / Double(recovered.count), 3),
        "\(report.canaries.canaries)", format(report.canaries.epsilonLowerBound, 3),
        claim ?? "",
        report.ledgerCheck.map { $0.violated ? "BUG" : "ok" } ?? "",
      ]
    }
  }

  static let headers = [
    "cell", "family", "shard", "batch", "θu", "accuracy", "loss AUC", "loss TPR@1%FPR",
    "LiRA AUC", "LiRA TPR@1%FPR", "upload AUC (mean)", "reconstructed (mean)", "canaries m",
    "ε lower bound", "ledger ε", "check",
  ]

  var csv: String {
    ([Self.headers] + rows).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
  }

  var markdown: String {
    let minutes = format(seconds / 60, 1)
    let scaleLine: String =
      "N = \(settings.participants) participants, \(settings.rounds) rounds, mnist-mlp, seed 1, "
      + "up to \(settings.canaries) canaries (m = max(10, min(\(settings.canaries), N × shard))), "
    let machineLine: String =
      "\(settings.referenceModels) reference models for LiRA. Machine: \(machine); commit "
      + "\(commit); \(date); \(minutes) minutes."
    var lines: [String] = [
      "# colearn reproduce privacy-audit (\(scale.rawValue))",
      "",
      PrivacyAuditSuite.title + ".",
      "",
      scaleLine + machineLine,
      "",
      """
        Units and attackers. *loss* and *LiRA* are membership inference on the final global \
        model by a user of it (members = the participants' shards without canaries, non-members \
        = as many held-out test records); AUC is the area under the ROC (0.5 = chance), TPR at \
        1% FPR the fraction of members found when 1% of non-members are wrongly accused. *upload \
        AUC* is the server's membership inference from each participant's round-1 upload \
        (gradient alignment), averaged over participants; *reconstructed* the mean fraction of a \
        participant's records rebuilt from its round-1 upload of the linear first layer at \
        cosine ≥ 0.99. *ε lower bound* (Steinke, Nasr & Jagielski 2023, confidence 0.95) is \
        record-level: one canary record in or out of one participant's shard, seen by a user of \
        the final model. *ledger ε* is the run's claimed upper bound: for SVT the selection \
        ledger summed over epochs (participant-level: any change of one shard, so it also bounds \
        one record), for DP-SGD the RDP accountant's ε at δ = 10⁻⁵ (record-level, one record \
        added or removed) — the largest over participants. *check* is BUG when the lower bound \
        exceeds the ledger's ε.
        """,
      "",
      "Canaries join shards, so a participant holds its shard plus about m/(2N) canaries: at "
        + "shard size 1 that is several records, which the upload attacks see mixed in.",
      "",
      "| " + Self.headers.joined(separator: " | ") + " |",
      "|" + Self.headers.map { _ in "---:" }.joined(separator: "|") + "|",
    ]
    for row in rows { lines.append("| " + row.joined(separator: " | ") + " |") }
    lines += [
      "",
      "![attack success against accuracy](privacy-audit.svg)",
      "",
      "Each cell's own REPORT.md (runs/NAME/REPORT.md) has per-participant upload findings, the "
        + "ledger check and, for image data, reconstructions.svg.",
      "",
    ]
    return lines.joined(separator: "\n")
  }

  /// Three panels stacked in one SVG: loss AUC, loss TPR at 1% FPR and the ε lower bound, each
  /// against the final accuracy, one colour per family.
  var figure: String {
    let panels: [(String, (AuditReport) -> Double)] = [
      ("membership AUC (loss threshold)", { $0.modelUser.auc }),
      ("TPR at 1% FPR (loss threshold)", { $0.modelUser.tprAtOnePercentFPR }),
      ("ε lower bound (record-level, 95%)", { $0.canaries.epsilonLowerBound }),
    ]
    var parts = [
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(LineChart.width))\" "
        + "height=\"\(Int(LineChart.height) * panels.count)\">"
    ]
    for (index, (label, value)) in panels.enumerated() {
      var chart = LineChart(
        title: "\(label) against accuracy", xLabel: "final global accuracy", yLabel: label)
      for (color, family) in Self.families.enumerated() {
        let points = results.filter { $0.cell.family == family }.map {
          (x: $0.report.globalAccuracy, y: value($0.report))
        }
        guard !points.isEmpty else { continue }
        chart.series.append(
          LineChart.Series(label: family, points: points, style: .reference, color: color))
      }
      let panel = chart.svg().replacingOccurrences(
        of: "<svg xmlns=\"http://www.w3.org/2000/svg\" ",
        with: "<svg y=\"\(Int(LineChart.height) * index)\" ")
      parts.append(panel.trimmingCharacters(in: .newlines))
    }
    parts.append("</svg>")
    return parts.joined(separator: "\n") + "\n"
  }
}
