import ArgumentParser
import CoLearnData
import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn reproduce SUITE`: runs one of the paper's experiments (a suite of `train` and
/// `simulate` runs defined in `suites/`), then writes one CSV and one SVG per figure and a
/// REPORT.md comparing our numbers with the paper's.
struct ReproduceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "reproduce",
    abstract: "Run one of the paper's experiments and write its figures and a report.",
    discussion: """
      SUITE is the name of a suite in the repository's suites/ directory (paper-table4, \
      paper-figure9, paper-figure11, paper-figure13, dssgd-vs-fedavg; --list shows them) or \
      the path of a suite file; privacy-audit runs `colearn audit` over a grid instead (its \
      REPORT.md tabulates attack success against accuracy). The runs go into --out/runs/NAME (the same files as `colearn \
      train` and `colearn simulate` write); runs that finished earlier with the same settings \
      are skipped, so an interrupted suite resumes where it stopped. Then --out gets one CSV \
      and one SVG per figure and REPORT.md.

      --model and the data options (--data, --test-data, --test-fraction, --label-column, \
      --impute, --schema) replace the suite's settings in every run: the same experiment on \
      your own model and data, e.g. `colearn reproduce dssgd-vs-fedavg --quick --model \
      model.toml --data csv:FILE --label-column y --test-fraction 0.2`.
      """)

  @Argument(help: "Suite name or suite file.")
  var suite: String?

  @Flag(help: "The quick scale (about 15 minutes on two cores) instead of the paper's.")
  var quick = false

  @Option(help: "Output directory (default: runs/reproduce-SUITE[-quick]).")
  var out: String?

  @Option(help: "Threads of each run that does not set its own (default 1).")
  var threads: Int = 1

  @Option(
    name: .customLong("suites-dir"), help: "Where suite names are looked up (default: suites/).")
  var suitesDir: String?

  @Flag(help: "List the suites and exit.")
  var list = false

  @Flag(name: .customLong("dry-run"), help: "Print the runs' command lines without running them.")
  var dryRun = false

  @OptionGroup var data: DataOptions

  @Option(
    help: ArgumentHelp(
      "Run every run on this model (a preset or a model file) instead of the suite's.",
      valueName: "preset|file"))
  var model: String?

  @OptionGroup var source: DataSourceOptions

  @OptionGroup(title: "Running on a Slurm cluster (docs/CLUSTER.md)") var cluster: ReproduceClusterOptions

  /// The settings given on the command line that replace the suite's in every run.
  var overrides: [SuiteRun.Setting] {
    [
      ("model", model), ("data", source.source), ("test-data", source.testData),
      ("test-fraction", source.testFraction.map { "\($0)" }),
      ("label-column", source.labelColumn), ("impute", source.impute?.rawValue),
      ("schema", source.schema),
    ].compactMap { key, value in value.map { SuiteRun.Setting(key: key, value: $0) } }
  }

  func validate() throws {
    try requireAtLeast(1, threads, flag: "threads")
    if let model { _ = try ModelSpec.argument(model) }
    if suite == nil, !list {
      throw ValidationError("name a suite (see `colearn reproduce --list`)")
    }
  }

  func run() throws {
    let directories = Self.suiteDirectories(option: suitesDir)
    if list {
      for (name, path) in Self.availableSuites(in: directories) {
        let title = (try? ExperimentSuite(path: path).title) ?? "(unreadable)"
        print("\(name)  \(title)")
      }
      print("\(PrivacyAuditSuite.name)  \(PrivacyAuditSuite.title)")
      return
    }
    guard let suiteName = suite else { return }
    if suiteName == PrivacyAuditSuite.name {
      guard overrides.isEmpty else {
        throw CLIError(
          "the \(PrivacyAuditSuite.name) suite runs MNIST with mnist-mlp; drop --model and the "
            + "data options")
      }
      let outPath = out ?? "runs/reproduce-\(PrivacyAuditSuite.name)\(quick ? "-quick" : "")"
      try PrivacyAuditSuite(
        output: URL(fileURLWithPath: outPath), threads: threads, dataDir: data.dataDir
      ).execute(scale: quick ? .quick : .full, dryRun: dryRun)
      return
    }
    let start = monotonicSeconds()
    let path = try Self.locate(suiteName, in: directories)
    let suite = try ExperimentSuite(path: path)
    let scale: SuiteScale = quick ? .quick : .full
    let outPath = out ?? "runs/reproduce-\(suite.name)\(quick ? "-quick" : "")"
    let output = URL(fileURLWithPath: outPath)
    let runner = SuiteRunner(suite: suite, output: output, threads: threads, dataDir: data.dataDir)
    var runs = try suite.runs(at: scale).map { $0.overriding(overrides) }

    // Data: optional runs without their dataset are left out; others stop the suite up front.
    let dataDirectory = data.dataDirectory
    var leftOut: [(run: String, reason: String)] = []
    runs = try runs.filter { run in
      guard let dataset = SuiteRunner.missingDataset(for: run, in: dataDirectory) else {
        return true
      }
      if run.optional {
        leftOut.append(
          (run: run.name, reason: "no \(dataset) data in \(dataDirectory.explanation)"))
        return false
      }
      throw CLIError(
        "run `\(run.name)` needs \(dataset) data, which is not in "
          + "\(dataDirectory.explanation): run `colearn data fetch \(dataset)` or pass --data-dir")
    }
    print(
      "colearn reproduce \(suite.name) (\(scale.rawValue)): \(runs.count) runs into "
        + "\(output.path)" + (leftOut.isEmpty ? "" : ", \(leftOut.count) left out (no data)"))
    if dryRun {
      for run in runs {
        print("\(runner.isFinished(run) ? "done " : "")\(run.name): \(run.commandLine)")
      }
      return
    }
    if try runOnCluster(runs, suite: suite, path: path, output: output, runner: runner) { return }
    if !cluster.collect { try runner.execute(runs) }

    let report = SuiteReport(
      suite: suite, scale: scale,
      runs: try runs.map {
        (run: $0, metrics: try RunMetrics(directory: runner.directory(of: $0)))
      },
      leftOut: leftOut, threads: threads, machine: machineDescription(),
      commit: gitCommit(in: URL(fileURLWithPath: path).deletingLastPathComponent()),
      invocationSeconds: monotonicSeconds() - start, date: Self.now())
    let figures = try Self.write(report, to: output, suitePath: path)
    print(
      "wrote \(output.appendingPathComponent("REPORT.md").path) and \(figures.count) figures "
        + "(\(figures.joined(separator: ", ")))")
  }

  /// Writes each figure's CSV and SVG, REPORT.md and a copy of the suite file into `output`.
  ///
  /// - Returns: The identifiers of the figures written (those with at least one run).
  @discardableResult
  static func write(_ report: SuiteReport, to output: URL, suitePath: String) throws -> [String] {
    var written: [String] = []
    func write(_ text: String, _ name: String) throws {
      let url = output.appendingPathComponent(name)
      do {
        try Data(text.utf8).write(to: url, options: .atomic)
      } catch {
        throw CLIError("cannot write \(url.path): \(error.localizedDescription)")
      }
    }
    for figure in report.suite.figures {
      let entries = report.entries(for: figure)
      guard !entries.isEmpty else { continue }
      try write(figure.csv(entries), "\(figure.id).csv")
      try write(figure.chart(entries).svg(), "\(figure.id).svg")
      written.append(figure.id)
    }
    try write(report.markdown(), "REPORT.md")
    if let text = try? String(contentsOfFile: suitePath, encoding: .utf8) {
      try write(text, "suite.yaml")
    }
    return written
  }

  // MARK: - Finding suites

  /// Where suite names are looked up: `--suites-dir`, else `./suites`, else the `suites/`
  /// directory of the source tree this binary was built from.
  static func suiteDirectories(option: String?) -> [String] {
    if let option { return [option] }
    let sourceTree = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("suites").path
    return ["suites", sourceTree]
  }

  /// The suites (name, path) in the first of `directories` that has any.
  static func availableSuites(in directories: [String]) -> [(String, String)] {
    for directory in directories {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
      let suites = names.filter { $0.hasSuffix(".yaml") }.sorted()
        .map { (String($0.dropLast(5)), directory + "/" + $0) }
      if !suites.isEmpty { return suites }
    }
    return []
  }

  /// The file of suite `name` (a name in `directories`, or a path).
  ///
  /// - Throws: ``CLIError`` naming the suite and listing the available ones.
  static func locate(_ name: String, in directories: [String]) throws -> String {
    if name.contains("/") || name.hasSuffix(".yaml") {
      guard FileManager.default.fileExists(atPath: name) else {
        throw CLIError("suite file \(name) does not exist")
      }
      return name
    }
    let available = availableSuites(in: directories)
    if let match = available.first(where: { $0.0 == name }) { return match.1 }
    let names = available.map(\.0).joined(separator: ", ")
    throw CLIError(
      "unknown suite `\(name)`: "
        + (names.isEmpty
          ? "no suites found in \(directories.joined(separator: " or ")) (pass --suites-dir)"
          : "expected one of \(names)"))
  }

  static func now() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: Date())
  }
}
