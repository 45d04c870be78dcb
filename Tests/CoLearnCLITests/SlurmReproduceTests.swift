import CoLearnTestSupport
import Foundation
import Testing

@testable import CoLearnCLI

/// `colearn reproduce --launcher slurm` and `--collect` (issue 23 item 1): the job-array script
/// (pinned by a golden file), its tasks run as Slurm would run them, the report collected from
/// their run directories against the in-process runner's, and — with a Slurm up — the same
/// through a real submission.
@Suite(.serialized) struct SlurmReproduceTests {
  static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Golden")

  /// Compares `text` with the golden file `name` (rewritten with COLEARN_UPDATE_GOLDEN=1).
  static func expectGolden(_ text: String, _ name: String) throws {
    let url = golden.appendingPathComponent(name)
    if ProcessInfo.processInfo.environment["COLEARN_UPDATE_GOLDEN"] == "1" {
      try FileManager.default.createDirectory(at: golden, withIntermediateDirectories: true)
      try Data(text.utf8).write(to: url)
    }
    let expected = try String(contentsOf: url, encoding: .utf8)
    #expect(text == expected, "\(name) differs from the golden file")
  }

  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  func makeWorkspace() throws -> URL {
    let root = try makeTemporaryDirectory("colearn-slurm-reproduce")
    try writeTinyMNIST(in: root.appendingPathComponent("data"))
    try Data(tinySuite.utf8).write(to: root.appendingPathComponent("tiny.yaml"))
    return root
  }

  func reproduce(_ root: URL, out: String, _ extra: [String]) throws -> ProcessResult {
    try runProcess(
      binary(),
      [
        "reproduce", root.appendingPathComponent("tiny.yaml").path, "--quick", "--out",
        root.appendingPathComponent(out).path, "--data-dir", root.appendingPathComponent("data").path,
      ] + extra, currentDirectory: root)
  }

  /// The figures' data (what REPORT.md's numbers come from) of an output directory.
  func figureData(_ root: URL, out: String) throws -> [String] {
    try ["theta.csv", "curve.csv"].map {
      try String(contentsOf: root.appendingPathComponent("\(out)/\($0)"), encoding: .utf8)
    }
  }

  /// The tables of REPORT.md without the lines that differ between invocations (date, wall
  /// times, the machine).
  func reportNumbers(_ root: URL, out: String) throws -> [String] {
    try String(contentsOf: root.appendingPathComponent("\(out)/REPORT.md"), encoding: .utf8)
      .split(separator: "\n").map(String.init)
      .filter { $0.hasPrefix("| `") && !$0.contains("colearn ") }
  }

  @Test func theArrayScriptMatchesTheGoldenFile() throws {
    let suite = try ExperimentSuite(parsing: tinySuite, path: "/suites/tiny.yaml")
    let runs = try suite.runs(at: .quick)
    let launcher = SuiteSlurmLauncher(
      suite: suite, scale: .quick, output: "/shared/out",
      reproduceArguments: ReproduceClusterOptions.taskArguments(
        suitePath: "/suites/tiny.yaml", quick: true, output: "/shared/out", threads: 1,
        dataDir: "/shared/data", overrides: [.init(key: "data", value: "csv:my data.csv")]),
      colearn: "/opt/colearn/bin/colearn", workingDirectory: "/home/me",
      maxParallel: 2,
      resources: SuiteSlurmLauncher.resources(
        of: runs, threads: 1, memoryMB: nil, time: "0:30:00", partition: "cpu", account: nil))
    try Self.expectGolden(launcher.script(for: runs), "reproduce-tiny.sbatch")
    // One task per run, two at a time; the tiny runs need the estimate's base, 768 MiB.
    #expect(launcher.resources == .init(cpus: 1, memoryMB: 768, time: "0:30:00", partition: "cpu"))
  }

  @Test func memoryGrowsWithTheParticipantsAndTheModel() throws {
    func run(_ settings: [(String, String)]) -> SuiteRun {
      SuiteRun(
        name: "r", series: "s", figures: [], command: "simulate",
        settings: settings.map { .init(key: $0.0, value: $0.1) }, paper: nil, optional: false)
    }
    let small = SuiteSlurmLauncher.estimatedResources(of: run([("participants", "30")]), threads: 2)
    let large = SuiteSlurmLauncher.estimatedResources(of: run([("participants", "150")]), threads: 2)
    let svhn = SuiteSlurmLauncher.estimatedResources(
      of: run([("participants", "30"), ("model", "svhn-cnn"), ("threads", "4")]), threads: 2)
    #expect(small.cpus == 2 && svhn.cpus == 4)
    #expect(small.memoryMB < large.memoryMB && small.memoryMB < svhn.memoryMB)
    #expect([small, large, svhn].allSatisfy { $0.memoryMB % 256 == 0 })
  }

  /// The array's tasks run as Slurm runs them (bash, SLURM_ARRAY_TASK_ID = 0…3), then
  /// --collect writes the same figure data and report numbers as the in-process runner.
  /// Before the last task, --collect refuses and names the missing run.
  @Test func collectedTasksGiveTheInProcessReport() throws {
    let root = try makeWorkspace()
    defer { try? FileManager.default.removeItem(at: root) }
    let local = try reproduce(root, out: "local", [])
    #expect(local.status == 0, "\(local.combined)")

    let written = try reproduce(
      root, out: "cluster", ["--launcher", "slurm", "--max-parallel", "2", "--colearn", binary().path])
    #expect(written.status == 0, "\(written.combined)")
    let script = root.appendingPathComponent("cluster/slurm/reproduce.sbatch")
    let text = try String(contentsOf: script, encoding: .utf8)
    #expect(text.contains("#SBATCH --array=0-3%2"), "\(text)")
    let bash = URL(fileURLWithPath: "/bin/bash")
    for index in 0..<3 {
      let task = try runProcess(bash, [script.path], environment: ["SLURM_ARRAY_TASK_ID": "\(index)"])
      #expect(task.status == 0, "task \(index): \(task.combined)")
    }
    let early = try reproduce(root, out: "cluster", ["--collect"])
    #expect(early.status != 0)
    #expect(early.standardError.contains("1 of 4 runs have not finished"), "\(early.combined)")
    #expect(early.standardError.contains("standalone: never submitted"), "\(early.combined)")
    #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("cluster/REPORT.md").path))

    let last = try runProcess(bash, [script.path], environment: ["SLURM_ARRAY_TASK_ID": "3"])
    #expect(last.status == 0, "\(last.combined)")
    let collected = try reproduce(root, out: "cluster", ["--collect"])
    #expect(collected.status == 0, "\(collected.combined)")
    #expect(try figureData(root, out: "cluster") == figureData(root, out: "local"))
    let numbers = try reportNumbers(root, out: "cluster")
    let localNumbers = try reportNumbers(root, out: "local")
    #expect(numbers.count == 5 && numbers == localNumbers, "\(numbers)")

    // Launching again finds nothing left to run.
    let again = try reproduce(root, out: "cluster", ["--launcher", "slurm"])
    #expect(again.standardOutput.contains("every run has finished"), "\(again.combined)")
  }

  @Test func slurmFlagsWithoutTheLauncherAreRefused() throws {
    let root = try makeWorkspace()
    defer { try? FileManager.default.removeItem(at: root) }
    let result = try reproduce(root, out: "x", ["--submit"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("--submit needs --launcher slurm"), "\(result.combined)")
    let unknown = try reproduce(root, out: "x", ["--run", "nope"])
    #expect(unknown.status != 0)
    #expect(unknown.standardError.contains("no run `nope`"), "\(unknown.combined)")
  }

  /// The done-when of item 1 on a real Slurm: the tiny suite's four runs as a job array of two
  /// at a time, then --collect gives the in-process runner's numbers.
  @Test func aRealSlurmArrayGivesTheInProcessReport() throws {
    guard SlurmTestCluster.required() else { return }
    let root = try makeWorkspace()
    defer { try? FileManager.default.removeItem(at: root) }
    let local = try reproduce(root, out: "local", [])
    #expect(local.status == 0, "\(local.combined)")
    let submitted = try reproduce(
      root, out: "cluster",
      [
        "--launcher", "slurm", "--submit", "--max-parallel", "2", "--time", "10:00", "--colearn",
        SlurmTestCluster.jobBinary(binary()),
      ])
    #expect(submitted.status == 0, "\(submitted.combined)")
    let jobId = try #require(
      submitted.standardOutput.components(separatedBy: "submitted job ").dropFirst().first
        .map { String($0.prefix { $0.isNumber }) }, "\(submitted.combined)")
    #expect(try SlurmTestCluster.waitForJobs([jobId], timeout: 300), "job \(jobId) still queued after 300 s")
    let collected = try reproduce(root, out: "cluster", ["--collect"])
    var logs = ""
    if collected.status != 0 {
      let folder = root.appendingPathComponent("cluster/slurm/logs")
      for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
        logs += "\n--- \(name)\n" + ((try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)) ?? "")
      }
    }
    #expect(collected.status == 0, "\(collected.combined)\(logs)")
    #expect(try figureData(root, out: "cluster") == figureData(root, out: "local"))
    #expect(try reportNumbers(root, out: "cluster") == reportNumbers(root, out: "local"))
    let jobs = try String(contentsOf: root.appendingPathComponent("cluster/slurm/jobs.json"), encoding: .utf8)
    #expect(jobs.contains("\"jobId\" : \"\(jobId)\""), "\(jobs)")
  }
}
