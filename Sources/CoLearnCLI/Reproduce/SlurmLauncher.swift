import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn reproduce SUITE --launcher slurm`: a suite's unfinished runs as one Slurm job array
/// (one array task per run, at most `%N` at a time), and `--collect`'s view of which runs
/// finished, failed or never ran.
///
/// Each array task runs `colearn reproduce SUITE … --run NAME`: the same code as the in-process
/// runner, into the same `OUT/runs/NAME/` on the shared file system, so `--collect` builds the
/// same CSV/SVG/REPORT.md from the finished run directories, and a later launch skips them.
///
/// Layout under `OUT/slurm/`: `reproduce.sbatch` (the script), `logs/JOB_TASK.out` (each task's
/// output), `jobs.json` (every submission: job id and the runs in task order).
struct SuiteSlurmLauncher {
  /// One submission of the array, as `jobs.json` records it.
  struct Submission: Codable, Equatable {
    var jobId: String
    /// The runs in array-task order (task I ran `runs[I]`).
    var runs: [String]
  }

  /// Where a run stands for `--collect`.
  enum RunState: Equatable {
    case finished
    /// Submitted (job `jobId`, its log at `log`) but without a finished result: failed,
    /// cancelled, or still running.
    case unfinished(jobId: String, log: String, logExists: Bool)
    /// Never submitted.
    case notSubmitted
  }

  var suite: ExperimentSuite
  var scale: SuiteScale
  /// The suite's output directory, absolute.
  var output: String
  /// `colearn reproduce` arguments every task repeats (suite path, scale, --out, --threads,
  /// --data-dir, the overrides), without `--run`.
  var reproduceArguments: [String]
  /// The `colearn` binary the tasks run.
  var colearn: String
  /// The directory the tasks start in (relative data paths in the settings are relative to it).
  var workingDirectory: String
  /// At most this many tasks at once (`%N`), if set.
  var maxParallel: Int?
  var resources: SlurmBatch.Resources

  var slurmDirectory: String { output + "/slurm" }
  var scriptPath: String { slurmDirectory + "/reproduce.sbatch" }
  var jobsPath: String { slurmDirectory + "/jobs.json" }

  /// The log of task `index` of job `jobId` (Slurm's `%A_%a`).
  func logPath(jobId: String, index: Int) -> String {
    slurmDirectory + "/logs/\(jobId)_\(index).out"
  }

  /// The resources of the array: each run's needs (``estimatedResources(of:threads:)``), the
  /// largest of them, since every task of a Slurm array gets the same.
  static func resources(
    of runs: [SuiteRun], threads: Int, memoryMB: Int?, time: String?, partition: String?,
    account: String?
  ) -> SlurmBatch.Resources {
    let each = runs.map { estimatedResources(of: $0, threads: threads) }
    return SlurmBatch.Resources(
      cpus: each.map(\.cpus).max() ?? threads,
      memoryMB: memoryMB ?? each.map(\.memoryMB).max() ?? 1024, time: time, partition: partition,
      account: account)
  }

  /// A run's CPUs (its `threads`, else `--threads`) and memory: 512 MiB for the process, the
  /// dataset as 32-bit floats (MNIST 220 MiB, SVHN 1.2 GiB), and per participant six copies of
  /// the model's parameters (model, gradient, optimiser and selection buffers), rounded up to
  /// 256 MiB. A generous estimate, not a measurement: `--mem` replaces it.
  static func estimatedResources(of run: SuiteRun, threads: Int) -> (cpus: Int, memoryMB: Int) {
    let cpus = run.value("threads").flatMap(Int.init) ?? threads
    let model = run.model
    let datasetMB = model.defaultData == "svhn" ? 1_200 : 220
    let participants = run.command == "train" ? 1 : (run.value("participants").flatMap(Int.init) ?? 30)
    let modelMB = Double(participants * model.parameterCount * 4 * 6) / 1_048_576
    let total = 512 + datasetMB + Int(modelMB.rounded(.up))
    return (cpus, (total + 255) / 256 * 256)
  }

  /// The job-array script for `runs` (the unfinished ones, in suite order).
  func script(for runs: [SuiteRun]) -> String {
    let throttle = maxParallel.map { "%\($0)" } ?? ""
    let flag = scale == .quick ? " --quick" : ""
    var lines = [
      "#!/bin/bash",
      "# colearn reproduce \(suite.name) (\(scale.rawValue) scale) as a Slurm job array, written by",
      "# `colearn reproduce --launcher slurm`: one array task per run that had not finished; task I",
      "# runs runs[I] into \(output)/runs/NAME. When the tasks are done:",
      "#   colearn reproduce \(SlurmBatch.quote(suite.path))\(flag) --out \(SlurmBatch.quote(output)) --collect",
      "#SBATCH --job-name=colearn-\(suite.name)",
      "#SBATCH --array=0-\(runs.count - 1)\(throttle)",
      "#SBATCH --output=\(slurmDirectory)/logs/%A_%a.out",
      "#SBATCH --chdir=\(workingDirectory)",
    ]
    lines += resources.directives
    lines += [
      "set -euo pipefail",
      "cd \(SlurmBatch.quote(workingDirectory))",
      "runs=\(SlurmBatch.array(runs.map(\.name)))",
      "run=${runs[$SLURM_ARRAY_TASK_ID]}",
      "echo \"colearn: task $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname) runs $run\"",
      "exec " + SlurmBatch.commandLine([colearn, "reproduce"] + reproduceArguments) + " --run \"$run\"",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes the script for `runs` and, with `submit`, submits it and records the submission.
  ///
  /// - Returns: The job id when submitted.
  @discardableResult
  func launch(_ runs: [SuiteRun], submit: Bool, sbatch: String = "sbatch") throws -> String? {
    try SlurmBatch.write(script(for: runs), to: scriptPath)
    try FileManager.default.createDirectory(
      atPath: slurmDirectory + "/logs", withIntermediateDirectories: true)
    guard submit else { return nil }
    let jobId = try SlurmBatch.submit(scriptPath, sbatch: sbatch)
    var submissions = try Self.submissions(at: jobsPath)
    submissions.append(Submission(jobId: jobId, runs: runs.map(\.name)))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try SlurmBatch.write(
      String(decoding: try encoder.encode(submissions), as: UTF8.self) + "\n", to: jobsPath,
      executable: false)
    return jobId
  }

  /// The submissions recorded at `path` (none when the file does not exist).
  ///
  /// - Throws: ``CLIError`` when the file exists but cannot be read as a submission list.
  static func submissions(at path: String) throws -> [Submission] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    do {
      return try JSONDecoder().decode([Submission].self, from: data)
    } catch {
      throw CLIError("\(path) is not colearn's record of Slurm submissions: \(error)")
    }
  }

  /// Where each of `runs` stands: finished (by `runner`'s resumption rule), else the last
  /// submission that included it, with its job id (`JOB_TASK`) and log.
  func states(of runs: [SuiteRun], runner: SuiteRunner) throws -> [(run: SuiteRun, state: RunState)] {
    let submissions = try Self.submissions(at: jobsPath)
    return runs.map { run -> (run: SuiteRun, state: RunState) in
      if runner.isFinished(run) { return (run, .finished) }
      for submission in submissions.reversed() {
        if let index = submission.runs.firstIndex(of: run.name) {
          let log = logPath(jobId: submission.jobId, index: index)
          return (
            run,
            .unfinished(
              jobId: "\(submission.jobId)_\(index)", log: log,
              logExists: FileManager.default.fileExists(atPath: log)))
        }
      }
      return (run, .notSubmitted)
    }
  }

  /// The lines `--collect` prints for runs that did not finish, and what to do.
  static func describe(_ states: [(run: SuiteRun, state: RunState)]) -> [String] {
    states.compactMap { item -> String? in
      switch item.state {
      case .finished: return nil
      case .notSubmitted: return "\(item.run.name): never submitted"
      case .unfinished(let jobId, let log, let logExists):
        return "\(item.run.name): not finished (Slurm job \(jobId); "
          + (logExists ? "log \(log)" : "no log at \(log): the task has not started") + ")"
      }
    }
  }
}
