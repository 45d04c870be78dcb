import CoLearnTestSupport
import Foundation
import Testing

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// `colearn reproduce` and `colearn plot` through the real binary, on a generated MNIST.
@Suite struct ReproduceCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  /// A temporary directory with the tiny suite file and the tiny MNIST in `data/`.
  func makeWorkspace() throws -> URL {
    let root = try makeTemporaryDirectory("colearn-reproduce")
    try writeTinyMNIST(in: root.appendingPathComponent("data"))
    try Data(tinySuite.utf8).write(to: root.appendingPathComponent("tiny.yaml"))
    return root
  }

  @Test func aTinySuiteRunsEndToEndAndResumes() throws {
    let root = try makeWorkspace()
    defer { try? FileManager.default.removeItem(at: root) }
    let out = root.appendingPathComponent("out")
    let arguments = [
      "reproduce", root.appendingPathComponent("tiny.yaml").path, "--quick", "--out", out.path,
      "--data-dir", root.appendingPathComponent("data").path,
    ]
    let first = try runProcess(binary(), arguments)
    #expect(first.status == 0, "\(first.combined)")
    #expect(first.standardOutput.contains("[4/4] standalone"), "\(first.standardOutput)")
    for name in ["REPORT.md", "theta.csv", "theta.svg", "curve.csv", "curve.svg", "suite.yaml"] {
      #expect(
        FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
    }
    for run in ["train-theta1", "train-theta0.1", "dssgd", "standalone"] {
      let directory = out.appendingPathComponent("runs/\(run)")
      for file in ["config.json", "metrics.csv", "summary.json", "suite-run.json"] {
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path))
      }
    }
    let svg = try Data(contentsOf: out.appendingPathComponent("theta.svg"))
    #expect(XMLParser(data: svg).parse())
    let csv = try String(contentsOf: out.appendingPathComponent("theta.csv"), encoding: .utf8)
    #expect(csv.hasPrefix("series,run,select-fraction,best_accuracy,paper,difference\n"))
    #expect(csv.contains("selective SGD,train-theta0.1,0.1,"))
    let report = try String(contentsOf: out.appendingPathComponent("REPORT.md"), encoding: .utf8)
    for expected in [
      "# A tiny suite for tests", "| machine |", "| commit |", "| seeds | 3 |", "| wall time |",
      "## Selective SGD", "![Selective SGD](theta.svg)", "θ = 0.1 is almost as good", "90.00%",
      "`colearn train --seed 3 --batch-size 8 --lr 0.05 --epochs 2 --select-fraction 0.1",
    ] {
      #expect(report.contains(expected), "REPORT.md lacks \(expected)")
    }

    // Again: every run is skipped, the figures and report are rewritten.
    let second = try runProcess(binary(), arguments)
    #expect(second.status == 0, "\(second.combined)")
    #expect(second.standardOutput.components(separatedBy: "finished earlier, skipped").count == 5)

    // `colearn plot` draws the same runs.
    let plots = root.appendingPathComponent("plots")
    let plot = try runProcess(
      binary(),
      [
        "plot", out.appendingPathComponent("runs/dssgd").path,
        out.appendingPathComponent("runs/train-theta1").path, "--out", plots.path,
      ])
    #expect(plot.status == 0, "\(plot.combined)")
    for name in ["accuracy-vs-round.svg", "accuracy-vs-bytes.svg", "accuracy.csv"] {
      let url = plots.appendingPathComponent(name)
      #expect(FileManager.default.fileExists(atPath: url.path), "\(name)")
    }
    let bytesSVG = try Data(contentsOf: plots.appendingPathComponent("accuracy-vs-bytes.svg"))
    #expect(XMLParser(data: bytesSVG).parse())
    #expect(String(decoding: bytesSVG, as: UTF8.self).contains(">dssgd</text>"))
  }

  /// Issue 17: `--model` and `--data` (with the other data options) replace the suite's in
  /// every run, so a paper experiment runs on a user's model and CSV — and no run is left out
  /// for want of MNIST, which it no longer reads.
  @Test func aSuiteRunsOnTheUsersModelAndCSV() throws {
    let root = try makeTemporaryDirectory("colearn-reproduce-csv")
    defer { try? FileManager.default.removeItem(at: root) }
    try Data(tinySuite.utf8).write(to: root.appendingPathComponent("tiny.yaml"))
    try writeSyntheticTable(root.appendingPathComponent("table.csv"), rows: 300, seed: 5)
    try Data(syntheticTableModel.utf8).write(to: root.appendingPathComponent("model.toml"))
    let out = root.appendingPathComponent("out")
    let arguments = [
      "reproduce", root.appendingPathComponent("tiny.yaml").path, "--quick", "--out", out.path,
      "--data-dir", root.appendingPathComponent("no-mnist-here").path,
      "--model", root.appendingPathComponent("model.toml").path,
      "--data", "csv:\(root.path)/table.csv", "--label-column", "label", "--test-fraction", "0.2",
    ]
    let dry = try runProcess(binary(), arguments + ["--dry-run"])
    #expect(dry.status == 0, "\(dry.combined)")
    #expect(dry.standardOutput.contains("4 runs into"), "\(dry.standardOutput)")
    #expect(dry.standardOutput.components(separatedBy: "--model ").count == 5)
    #expect(dry.standardOutput.components(separatedBy: "--test-fraction 0.2").count == 5)
    let run = try runProcess(binary(), arguments)
    #expect(run.status == 0, "\(run.combined)")
    for name in ["train-theta1", "train-theta0.1", "dssgd", "standalone"] {
      let config = try String(
        contentsOf: out.appendingPathComponent("runs/\(name)/config.json"), encoding: .utf8)
      #expect(config.contains(#""model" : "table-mlp""#), "\(name): \(config.prefix(600))")
      #expect(config.contains("table.csv"), "\(name): \(config.prefix(600))")
      let schema = out.appendingPathComponent("runs/\(name)/schema.json").path
      #expect(FileManager.default.fileExists(atPath: schema), "\(name) has no schema.json")
    }
  }

  @Test func badInputIsRefusedWithItsName() throws {
    let root = try makeWorkspace()
    defer { try? FileManager.default.removeItem(at: root) }
    let malformed = root.appendingPathComponent("bad.yaml")
    try Data("suite: bad\ntitle: t\n---\nruns: a\nfigure: missing\n".utf8).write(to: malformed)
    let cases: [([String], String)] = [
      (["reproduce", "paper-figure99"], "unknown suite `paper-figure99`"),
      (["reproduce", malformed.path], "bad.yaml:4: figure `missing` is not defined"),
      (["reproduce", root.appendingPathComponent("none.yaml").path], "none.yaml does not exist"),
      (
        ["reproduce", root.appendingPathComponent("tiny.yaml").path, "--data-dir", root.path],
        "needs mnist data"
      ),
      (["plot", root.path], "metrics.csv not found"),
    ]
    for (arguments, expected) in cases {
      let result = try runProcess(
        binary(), arguments + ["--out", root.appendingPathComponent("o").path])
      #expect(result.status != 0, "\(arguments) should fail")
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
    }
    #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("o/runs").path))
  }

  @Test func theSuitesAreListed() throws {
    let result = try runProcess(binary(), ["reproduce", "--list"])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("paper-figure9  Distributed selective SGD"))
  }
}
