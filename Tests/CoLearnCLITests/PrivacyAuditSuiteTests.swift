import CoLearnAudit
import Foundation
import Testing

@testable import CoLearnCLI

/// The privacy-audit grid of `colearn reproduce` and its report.
@Suite struct PrivacyAuditSuiteTests {
  /// Both scales: 28 cells with unique names covering the grid the issue asks for, each of
  /// which parses as `colearn audit` and as `colearn simulate` (so no cell fails after hours).
  @Test(arguments: SuiteScale.allCases)
  func everyCellIsAValidAudit(scale: SuiteScale) throws {
    let cells = PrivacyAuditSuite.cells(at: scale)
    #expect(cells.count == 28)
    #expect(Set(cells.map(\.name)).count == cells.count)
    let families = Dictionary(grouping: cells, by: \.family).mapValues(\.count)
    #expect(families == ["DSSGD": 18, "FedAvg": 6, "DSSGD + SVT": 2, "DSSGD + DP-SGD": 2])
    for cell in cells {
      let audit = try AuditCommand.parse(["--out", "/tmp/x"] + cell.arguments)
      let simulate = try SimulateCommand.parse(audit.simulateArguments)
      #expect(simulate.training.seed == 1)
      if cell.family == "DSSGD + SVT" { #expect(simulate.upload.dpEpsilon != nil) }
    }
    let shards = Set(cells.map { $0.arguments[$0.arguments.firstIndex(of: "--shard-size")! + 1] })
    #expect(shards == ["1", "8", "600"])
  }

  /// A cell whose lower bound exceeds its ledger's ε is a BUG row; the figure has a panel per
  /// measure and a legend entry per family present.
  @Test func theReportFlagsABugAndDrawsThreePanels() throws {
    let canaries = try CanaryAudit().run(
      included: (0..<100).map { $0 % 2 == 0 }, guesses: (0..<100).map { $0 % 2 == 0 })
    let metrics = try MembershipMetrics(memberScores: [1, 2, 3], nonMemberScores: [0, 1, 2])
    func report(claim: Double?) throws -> AuditReport {
      AuditReport(
        model: "mnist-mlp", parameterCount: 10, algorithm: "DSSGD", participants: 3,
        shardSize: 8, rounds: 3, batchSize: 1, uploadFraction: 0.1, downloadFraction: 1,
        privacy: "none", seed: 1, globalAccuracy: 0.8, modelUser: metrics, referenceModels: nil,
        attackedRounds: "1", server: [], canaries: canaries,
        ledgerCheck: try claim.map {
          try PrivacyClaimCheck(
            canaries, against: PrivacyClaim(epsilon: $0, delta: 0, unit: "u", source: "ledger"))
        },
        ledgerNote: "", similarityThreshold: 0.99, reconstructionFigure: nil)
    }
    let cells = PrivacyAuditSuite.cells(at: .quick)
    let suite = PrivacyAuditSuiteReport(
      scale: .quick, settings: .of(.quick),
      results: [
        (cells[0], try report(claim: nil)), (cells[26], try report(claim: 1)),
        (cells[27], try report(claim: 100)),
      ],
      machine: "test", commit: "abc", seconds: 60, date: "today")
    let rows = suite.rows
    #expect(rows.map { $0.last! } == ["", "BUG", "ok"])
    #expect(suite.markdown.contains("| dpsgd-eps1 | DSSGD + DP-SGD |"))
    #expect(suite.markdown.contains("record-level"))
    #expect(suite.csv.split(separator: "\n").count == 4)
    let svg = suite.figure
    #expect(svg.components(separatedBy: "<svg").count - 1 == 4)
    #expect(svg.contains("ε lower bound (record-level, 95%)"))
    #expect(svg.contains(">DSSGD + DP-SGD<") && !svg.contains(">FedAvg<"))
  }
}
