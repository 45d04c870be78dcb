import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// Resumption of `colearn reproduce`: the runner runs in this process on a generated MNIST.
@Suite struct SuiteRunnerTests {
  /// A runner of the tiny suite over fresh data and output directories.
  func makeRunner() throws -> (SuiteRunner, [SuiteRun], URL) {
    let root = try makeTemporaryDirectory("colearn-suite")
    try writeTinyMNIST(in: root.appendingPathComponent("data"))
    let suite = try ExperimentSuite(parsing: tinySuite, path: "tiny.yaml")
    let runner = SuiteRunner(
      suite: suite, output: root.appendingPathComponent("out"), threads: 1,
      dataDir: root.appendingPathComponent("data").path, isTerminal: false)
    return (runner, try suite.runs(at: .quick), root)
  }

  func modificationDate(_ url: URL) throws -> Date? {
    try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date
  }

  @Test func finishedRunsAreSkippedAndInterruptedOnesRedone() throws {
    let (runner, runs, root) = try makeRunner()
    defer { try? FileManager.default.removeItem(at: root) }
    #expect(try runner.execute(runs).isEmpty)
    for run in runs {
      #expect(runner.isFinished(run), "\(run.name)")
      let metrics = try RunMetrics(directory: runner.directory(of: run))
      #expect(metrics.bestAccuracy != nil)
    }
    // The second time everything is skipped.
    #expect(try runner.execute(runs) == Set(runs.map(\.name)))

    // An interrupted run: a metrics row but no summary.json (it is written last).
    let interrupted = runner.directory(of: runs[2])
    try FileManager.default.removeItem(at: interrupted.appendingPathComponent("summary.json"))
    try Data("round,seconds\n1,0.1\n".utf8).write(
      to: interrupted.appendingPathComponent("metrics.csv"))
    #expect(!runner.isFinished(runs[2]))
    let kept = try modificationDate(
      runner.directory(of: runs[0]).appendingPathComponent("metrics.csv"))
    let skipped = try runner.execute(runs)
    #expect(skipped == Set(runs.map(\.name)).subtracting([runs[2].name]))
    #expect(runner.isFinished(runs[2]))
    let rows = try String(
      contentsOf: interrupted.appendingPathComponent("metrics.csv"), encoding: .utf8
    ).split(separator: "\n")
    #expect(rows.count == 3, "the run was redone from the start: \(rows)")
    #expect(
      try modificationDate(runner.directory(of: runs[0]).appendingPathComponent("metrics.csv"))
        == kept)
  }

  @Test func aRunWhoseSettingsChangedIsRedone() throws {
    let (runner, runs, root) = try makeRunner()
    defer { try? FileManager.default.removeItem(at: root) }
    try runner.execute([runs[0]])
    #expect(runner.isFinished(runs[0]))
    var changed = runs[0]
    changed.settings.append(.init(key: "lr", value: "0.01"))
    #expect(!runner.isFinished(changed))
    var otherThreads = runner
    otherThreads.threads = 2
    #expect(!otherThreads.isFinished(runs[0]))
  }

  @Test func aBadSettingStopsTheSuiteBeforeAnyRun() throws {
    let (runner, runs, root) = try makeRunner()
    defer { try? FileManager.default.removeItem(at: root) }
    var bad = runs[3]
    bad.settings.append(.init(key: "participants", value: "0"))
    let error = #expect(throws: CLIError.self) { try runner.execute([runs[0], bad]) }
    #expect(error?.description.contains("run `standalone`") == true, "\(error?.description ?? "")")
    #expect(error?.description.contains("--participants") == true)
    #expect(!FileManager.default.fileExists(atPath: runner.directory(of: runs[0]).path))
  }
}
