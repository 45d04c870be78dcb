import Foundation
import Testing

@testable import CoLearnCLI

@Suite struct SuiteTests {
  /// Parses `text` as a suite file.
  func parse(_ text: String) throws -> ExperimentSuite {
    try ExperimentSuite(parsing: text, path: "test.yaml")
  }

  @Test func sweepsMultiplyAndTemplatesNameTheRuns() throws {
    let suite = try parse(tinySuite)
    #expect(suite.name == "tiny")
    #expect(suite.figures.map(\.id) == ["theta", "curve"])
    let runs = try suite.runs(at: .quick)
    #expect(runs.map(\.name) == ["train-theta1", "train-theta0.1", "dssgd", "standalone"])
    #expect(runs.map(\.command) == ["train", "train", "simulate", "simulate"])
    #expect(runs.map(\.paper) == [0.9, 0.85, nil, 0.5])
    #expect(runs[3].figures == ["curve", "theta"])
    // Shared settings reach only the commands that have them: no `rounds` for `train`.
    #expect(
      runs[0].arguments == [
        "--seed", "3", "--batch-size", "8", "--lr", "0.05", "--epochs", "2",
        "--select-fraction", "1",
      ])
    #expect(runs[2].value("rounds") == "2")
    #expect(runs[2].value("epochs") == nil)
    // Full scale: the plain value where no `full.` value is given.
    let full = try suite.runs(at: .full)
    #expect(full[0].value("epochs") == "3")
    #expect(full[2].value("rounds") == nil)
  }

  @Test func aGroupsSettingWinsOverTheSuitesAndAScaledOneOverThePlain() throws {
    let suite = try parse(
      """
      suite: s
      title: t
      rounds: 10
      quick.rounds: 5
      ---
      figure: f
      kind: curve
      ---
      runs: a-{participants}
      figure: f
      participants: [2, 3]
      quick.participants: 4
      ---
      runs: b
      figure: f
      rounds: 7
      """)
    let quick = try suite.runs(at: .quick)
    #expect(quick.map(\.name) == ["a-4", "b"])
    #expect(quick.map { $0.value("rounds") } == ["5", "7"])
    let full = try suite.runs(at: .full)
    #expect(full.map(\.name) == ["a-2", "a-3", "b"])
    #expect(full[0].value("rounds") == "10")
  }

  @Test func epsilonPerUploadBecomesEpsilonPerEpoch() throws {
    let suite = try parse(
      """
      suite: s
      title: t
      ---
      figure: f
      x: dp-epsilon-per-upload
      ---
      runs: r{dp-epsilon-per-upload}
      figure: f
      upload-fraction: 0.1
      dp-epsilon-per-upload: [0.5, 10]
      """)
    let runs = try suite.runs(at: .quick)
    // c = ⌈0.1 · 140,106⌉ = 14,011 for mnist-mlp.
    #expect(runs[0].arguments == ["--upload-fraction", "0.1", "--dp-epsilon", "7005.5"])
    #expect(runs[1].arguments.last == "140110")
  }

  @Test func malformedSuitesAreRefusedWithFileLineAndValue() throws {
    let cases: [(String, String)] = [
      ("title: t\n---\nruns: a\nfigure: f", "must start with `suite: NAME`"),
      ("suite: s\n---\nfigure: f\nkind: curve\n---\nruns: a\nfigure: f", "no `title:`"),
      ("suite: s\ntitle: t\n---\nruns: a\nfigure: nowhere", "figure `nowhere` is not defined"),
      ("suite: s\ntitle: t\n---\nfigure: f\nkind: pie\n---\nruns: a\nfigure: f", "test.yaml:5"),
      ("suite: s\ntitle: t\n---\nfigure: f\ncolour: red\n---\nruns: a\nfigure: f", "`colour`"),
      (
        "suite: s\ntitle: t\n---\nfigure: f\nkind: curve\n---\nruns: a\nfigure: f\n  rounds: 3",
        "test.yaml:9"
      ),
      ("suite: s\ntitle: t\nrounds 3", "expected `key: value`"),
      ("suite: s\ntitle: t\nsoon.rounds: 3", "`quick.` or `full.`"),
      (
        "suite: s\ntitle: t\n---\nfigure: f\nkind: curve\n---\nruns: a\nfigure: f\nlr: [0.1, 0.01]\npaper: [1, 2, 3]",
        "3 paper values"
      ),
      ("suite: s\ntitle: t\n---\nfigure: f\nx: lr\n", "no `runs:` document"),
      (
        "suite: s\ntitle: t\n---\nfigure: f\nkind: curve\n---\nruns: a\nfigure: f\ncommand: serve",
        "`serve`"
      ),
    ]
    for (text, expected) in cases {
      let error = #expect(throws: CLIError.self) { try parse(text) }
      #expect(error?.description.contains(expected) == true, "\(text): \(error?.description ?? "")")
    }
  }

  @Test func badRunsAreRefusedWhenExpanded() throws {
    let cases: [(String, String)] = [
      // Two runs with one name: the sweep is missing from the template.
      ("runs: a\nfigure: f\nlr: [0.1, 0.01]", "two runs are named `a`"),
      ("runs: a-{rounds}\nfigure: f", "`{rounds}`"),
    ]
    for (group, expected) in cases {
      let suite = try parse("suite: s\ntitle: t\n---\nfigure: f\nkind: curve\n---\n" + group)
      let error = #expect(throws: CLIError.self) { try suite.runs(at: .quick) }
      #expect(error?.description.contains(expected) == true, "\(error?.description ?? "")")
    }
    let typo = try parse(
      "suite: s\ntitle: t\nrunds: 3\n---\nfigure: f\nkind: curve\n---\nruns: a\nfigure: f")
    let error = #expect(throws: CLIError.self) { try typo.runs(at: .quick) }
    #expect(error?.description.contains("test.yaml:3: `runds` is not a setting") == true)
  }

  /// Every suite in the repository parses, expands at both scales, and every run parses as its
  /// command (so that `colearn reproduce` does not fail on a setting after hours of work).
  @Test func theRepositorysSuitesAreValid() throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../suites").standardized
    let suites = ReproduceCommand.availableSuites(in: [directory.path])
    #expect(
      suites.map(\.0) == [
        "dssgd-vs-fedavg", "paper-figure11", "paper-figure13", "paper-figure9", "paper-table4",
      ])
    for (_, path) in suites {
      let suite = try ExperimentSuite(path: path)
      for scale in SuiteScale.allCases {
        let runs = try suite.runs(at: scale)
        let runner = SuiteRunner(
          suite: suite, output: URL(fileURLWithPath: "/tmp/unused"), threads: 1, dataDir: nil)
        for run in runs { _ = try runner.command(for: run) }
        #expect(!runs.isEmpty)
      }
    }
    // The quick grids keep every grid point of the issue.
    let figure9 = try ExperimentSuite(
      path: directory.appendingPathComponent("paper-figure9.yaml").path)
    #expect(try figure9.runs(at: .quick).count == 2 * 3 * 4 + 2)
    let table4 = try ExperimentSuite(
      path: directory.appendingPathComponent("paper-table4.yaml").path)
    #expect(try table4.runs(at: .quick).filter { $0.model.defaultData == "mnist" }.count == 10)
  }
}
