import Foundation

extension ReproduceCommand {
  /// `--run NAME` (one run, no report), `--launcher slurm` (write and maybe submit the array)
  /// and `--collect` (check that every run finished before the report is written).
  ///
  /// - Returns: Whether the command is done (no in-process runs, no report).
  /// - Throws: ``CLIError`` for an unknown run, a failed submission, or, with `--collect`, runs
  ///   that did not finish (each with its Slurm job id and log).
  func runOnCluster(
    _ runs: [SuiteRun], suite: ExperimentSuite, path: String, output: URL, runner: SuiteRunner
  ) throws -> Bool {
    let outputPath = SlurmBatch.absolute(output.path)
    let launcher = SuiteSlurmLauncher(
      suite: suite, scale: quick ? .quick : .full, output: outputPath,
      reproduceArguments: ReproduceClusterOptions.taskArguments(
        suitePath: path, quick: quick, output: outputPath, threads: threads, dataDir: data.dataDir,
        overrides: overrides),
      colearn: cluster.colearn.map(SlurmBatch.absolute) ?? SlurmBatch.currentExecutable(),
      workingDirectory: FileManager.default.currentDirectoryPath,
      maxParallel: cluster.maxParallel,
      resources: SuiteSlurmLauncher.resources(
        of: runs, threads: threads, memoryMB: cluster.memoryMB, time: cluster.time,
        partition: cluster.partition, account: cluster.account))
    if let name = cluster.run {
      let run = try ReproduceClusterOptions.select(name, from: runs, suite: suite.name)
      try runner.execute([run])
      return true
    }
    if cluster.launcher == .slurm {
      let unfinished = runs.filter { !runner.isFinished($0) }
      guard !unfinished.isEmpty else {
        print("every run has finished: `--collect` writes the figures and REPORT.md")
        return true
      }
      let jobId = try launcher.launch(unfinished, submit: cluster.submit)
      print(
        "wrote \(launcher.scriptPath): a job array of \(unfinished.count) runs"
          + (runs.count > unfinished.count ? " (\(runs.count - unfinished.count) finished earlier)" : "")
          + ", \(launcher.resources.cpus) CPUs and \(launcher.resources.memoryMB) MiB each")
      if let jobId {
        print("submitted job \(jobId); logs in \(launcher.slurmDirectory)/logs/\(jobId)_TASK.out")
      } else {
        print("submit it with `sbatch \(launcher.scriptPath)` (or add --submit)")
      }
      print("when it is done: colearn reproduce \(suite.name)\(quick ? " --quick" : "") --out \(outputPath) --collect")
      return true
    }
    if cluster.collect {
      let states = try launcher.states(of: runs, runner: runner)
      let missing = SuiteSlurmLauncher.describe(states)
      guard missing.isEmpty else {
        throw CLIError(
          "\(missing.count) of \(runs.count) runs have not finished, so no report was written:\n  "
            + missing.joined(separator: "\n  ")
            + "\nlaunch again (`--launcher slurm --submit` submits only the unfinished runs), then --collect")
      }
      print("collected \(runs.count) finished runs from \(outputPath)/runs")
    }
    return false
  }
}
