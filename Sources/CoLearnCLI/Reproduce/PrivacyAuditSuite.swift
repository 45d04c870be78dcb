import ArgumentParser
import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn reproduce privacy-audit` (issue 22): `colearn audit` over a grid of federations,
/// then one table (REPORT.md, privacy-audit.csv) and one figure (privacy-audit.svg) of attack
/// success — membership AUC, TPR at 1% FPR, the empirical ε lower bound — against accuracy.
///
/// The grid, at either scale (participants N, rounds R, canaries m differ; see ``Scale``):
/// * DSSGD without privacy: shard size {1, 8, 600} × mini-batch {1, 32} × θu {1, 0.1, 0.01};
/// * FedAvg (E = 1): shard size {1, 8, 600} × mini-batch {1, 32};
/// * DSSGD with SVT selection (θu = 0.01, shard 600, mini-batch 32): ε/c {0.001, 0.01};
/// * DSSGD with DP-SGD (θu = 0.1, shard 600, mini-batch 32): target ε {1, 8} at δ = 10⁻⁵.
///
/// Every cell is an ordinary `colearn audit` whose directory (OUT/runs/NAME) holds its
/// audit.json and REPORT.md; a cell whose audit.json was written with the same arguments is
/// skipped, so an interrupted suite resumes. A cell whose ε lower bound exceeds its ledger's ε
/// is marked BUG in the table and makes the suite exit non-zero after the report is written.
///
/// Not a `suites/` file: those run `train` and `simulate`, whose results are learning curves;
/// an audit's are attack metrics.
struct PrivacyAuditSuite {
  static let name = "privacy-audit"
  static let title = "What the shared updates and the final model leak (issue 22)"

  /// One audit of the grid.
  struct Cell: Equatable {
    /// Directory name under runs/, unique.
    var name: String
    /// The legend group: "DSSGD", "FedAvg", "DSSGD + SVT", "DSSGD + DP-SGD".
    var family: String
    /// `colearn audit` arguments (its own options, then simulate's), without --out.
    var arguments: [String]
  }

  /// The settings that differ between the scales.
  struct Scale {
    var participants: Int
    var rounds: Int
    /// The largest m; a cell uses m = max(10, min(this, N × shard)), so that the canaries
    /// (about m/2N per participant) at most half again a shard.
    var canaries: Int
    var referenceModels: Int

    static func of(_ scale: SuiteScale) -> Scale {
      switch scale {
      case .quick: Scale(participants: 3, rounds: 3, canaries: 100, referenceModels: 2)
      case .full: Scale(participants: 30, rounds: 30, canaries: 1000, referenceModels: 8)
      }
    }
  }

  /// The cells at `scale`, in table order.
  static func cells(at scale: SuiteScale) -> [Cell] {
    let settings = Scale.of(scale)
    func cell(
      _ name: String, _ family: String, shard: Int, batch: Int, simulate: [String]
    ) -> Cell {
      let canaries = max(10, min(settings.canaries, settings.participants * shard))
      return Cell(
        name: name, family: family,
        arguments: [
          "--canaries", "\(canaries)", "--reference-models", "\(settings.referenceModels)",
          "--participants", "\(settings.participants)", "--rounds", "\(settings.rounds)",
          "--shard-size", "\(shard)", "--batch-size", "\(batch)", "--eval-every",
          "\(settings.rounds)", "--seed", "1",
        ] + simulate)
    }
    var cells: [Cell] = []
    for shard in [1, 8, 600] {
      for batch in [1, 32] {
        for upload in ["1", "0.1", "0.01"] {
          cells.append(
            cell(
              "dssgd-s\(shard)-b\(batch)-u\(upload)", "DSSGD", shard: shard, batch: batch,
              simulate: ["--upload-fraction", upload]))
        }
        cells.append(
          cell(
            "fedavg-s\(shard)-b\(batch)", "FedAvg", shard: shard, batch: batch,
            simulate: ["--algorithm", "fedavg"]))
      }
    }
    // SVT: ε per epoch = ε/c × c with c = ⌈0.01 · |w|⌉ (SPEC §8), as the paper's Figure 13 axis.
    let c = fractionCount(0.01, of: ModelSpec.mnistMLP.parameterCount)
    for perUpload in [0.001, 0.01] {
      cells.append(
        cell(
          "svt-eps-per-upload-\(perUpload)", "DSSGD + SVT", shard: 600, batch: 32,
          simulate: [
            "--upload-fraction", "0.01", "--selection", "svt", "--bound", "0.001",
            "--dp-epsilon", String(format: "%.10g", perUpload * Double(c)),
          ]))
    }
    for epsilon in [1, 8] {
      cells.append(
        cell(
          "dpsgd-eps\(epsilon)", "DSSGD + DP-SGD", shard: 600, batch: 32,
          simulate: [
            "--upload-fraction", "0.1", "--privacy", "dp-sgd", "--target-epsilon", "\(epsilon)",
            "--max-grad-norm", "1",
          ]))
    }
    return cells
  }

  var output: URL
  var threads: Int
  var dataDir: String?

  /// The audit arguments of `cell` as run (with --threads and --data-dir).
  func arguments(of cell: Cell) -> [String] {
    cell.arguments + ["--threads", "\(threads)"] + (dataDir.map { ["--data-dir", $0] } ?? [])
  }

  /// Runs the unfinished cells, then writes REPORT.md, privacy-audit.csv and privacy-audit.svg.
  ///
  /// - Throws: a cell's error (finished cells stay finished), or ``CLIError`` after the report
  ///   when some cell's lower bound exceeds its ledger's ε.
  func execute(scale: SuiteScale, dryRun: Bool) throws {
    let cells = Self.cells(at: scale)
    // Parse everything first, so that a bad setting stops the suite before any work.
    let commands = try cells.map { cell -> AuditCommand in
      let arguments = ["--out", directory(of: cell).path] + arguments(of: cell)
      do {
        return try AuditCommand.parse(arguments)
      } catch {
        throw CLIError(
          "privacy-audit: cell `\(cell.name)`: \(AuditCommand.message(for: error))")
      }
    }
    print("colearn reproduce \(Self.name) (\(scale.rawValue)): \(cells.count) audits into \(output.path)")
    if dryRun {
      for cell in cells {
        print("\(cell.name): colearn audit \(arguments(of: cell).joined(separator: " "))")
      }
      return
    }
    let start = monotonicSeconds()
    var results: [(cell: Cell, report: AuditReport)] = []
    for (index, (cell, command)) in zip(cells, commands).enumerated() {
      let label = "[\(index + 1)/\(cells.count)] \(cell.name)"
      if let report = finished(cell) {
        print("\(label): finished earlier, skipped")
        results.append((cell, report))
        continue
      }
      let simulate: SimulateCommand
      do {
        simulate = try SimulateCommand.parse(command.simulateArguments)
      } catch {
        throw CLIError("privacy-audit: cell `\(cell.name)`: \(SimulateCommand.message(for: error))")
      }
      let cellStart = monotonicSeconds()
      let outcome = try AuditRun(command: command, simulate: simulate).execute()
      let report = outcome.report
      try report.write(to: directory(of: cell), pictures: outcome.pictures)
      try write(
        Data(arguments(of: cell).joined(separator: "\n").utf8),
        to: directory(of: cell).appendingPathComponent("suite-arguments.txt"))
      print(
        "\(label): accuracy \(format(report.globalAccuracy, 4)), AUC "
          + "\(format(report.modelUser.auc, 3)), ε ≥ \(format(report.canaries.epsilonLowerBound, 3)), "
          + "\(format(monotonicSeconds() - cellStart, 1)) s")
      fflush(nil)
      results.append((cell, report))
    }
    let report = PrivacyAuditSuiteReport(
      scale: scale, settings: Scale.of(scale), results: results, machine: machineDescription(),
      commit: gitCommit(in: URL(fileURLWithPath: #filePath).deletingLastPathComponent()),
      seconds: monotonicSeconds() - start, date: ReproduceCommand.now())
    try write(Data(report.markdown.utf8), to: output.appendingPathComponent("REPORT.md"))
    try write(Data(report.csv.utf8), to: output.appendingPathComponent("\(Self.name).csv"))
    try write(Data(report.figure.utf8), to: output.appendingPathComponent("\(Self.name).svg"))
    print("wrote \(output.appendingPathComponent("REPORT.md").path) and \(Self.name).svg")
    let bugs = results.filter { $0.report.ledgerCheck?.violated == true }.map(\.cell.name)
    if !bugs.isEmpty {
      throw CLIError(
        "privacy-audit: the ε lower bound exceeds the ledger's ε in \(bugs.joined(separator: ", ")): "
          + "a bug in the accounting or the mechanism (see their REPORT.md)")
    }
  }

  func directory(of cell: Cell) -> URL {
    output.appendingPathComponent("runs").appendingPathComponent(cell.name)
  }

  /// The report of `cell` when it finished earlier with the same arguments.
  func finished(_ cell: Cell) -> AuditReport? {
    let directory = directory(of: cell)
    guard
      let recorded = try? String(
        contentsOf: directory.appendingPathComponent("suite-arguments.txt"), encoding: .utf8),
      recorded == arguments(of: cell).joined(separator: "\n"),
      let data = try? Data(contentsOf: directory.appendingPathComponent("audit.json"))
    else { return nil }
    return try? JSONDecoder().decode(AuditReport.self, from: data)
  }

  private func write(_ data: Data, to url: URL) throws {
    do {
      try FileManager.default.createDirectory(
        at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try data.write(to: url, options: .atomic)
    } catch {
      throw CLIError("cannot write \(url.path): \(error.localizedDescription)")
    }
  }
}
