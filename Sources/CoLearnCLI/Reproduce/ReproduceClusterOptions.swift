import ArgumentParser
import Foundation

/// The options of `colearn reproduce` that run a suite on a Slurm cluster instead of in this
/// process: `--launcher slurm` (write, and with `--submit` submit, a job array), `--collect`
/// (the report from the finished run directories) and `--run NAME` (what each array task runs).
struct ReproduceClusterOptions: ParsableArguments {
  enum Launcher: String, ExpressibleByArgument, CaseIterable {
    case local, slurm
  }

  @Option(help: "local: run here, one run after another; slurm: write a Slurm job array.")
  var launcher: Launcher = .local

  @Flag(help: "With --launcher slurm: submit the array with sbatch (else only write it).")
  var submit = false

  @Flag(
    help: "Write the figures and REPORT.md from the finished run directories (after a Slurm array).")
  var collect = false

  @Option(help: "Run only this run of the suite, without the report (what each array task does).")
  var run: String?

  @Option(name: .customLong("max-parallel"), help: "With --launcher slurm: at most N tasks at once (%N).")
  var maxParallel: Int?

  @Option(help: "With --launcher slurm: the partition (sbatch --partition).")
  var partition: String?

  @Option(help: "With --launcher slurm: the account (sbatch --account).")
  var account: String?

  @Option(help: "With --launcher slurm: each task's time limit (sbatch --time, e.g. 2:00:00).")
  var time: String?

  @Option(
    name: .customLong("mem-mb"),
    help: "With --launcher slurm: each task's memory in MiB (default: estimated from the runs).")
  var memoryMB: Int?

  @Option(
    name: .customLong("colearn"),
    help: "With --launcher slurm: the colearn binary the tasks run (default: this one).")
  var colearn: String?

  func validate() throws {
    if let maxParallel { try requireAtLeast(1, maxParallel, flag: "max-parallel") }
    if let memoryMB { try requireAtLeast(1, memoryMB, flag: "mem-mb") }
    let slurmOnly: [(String, Bool)] = [
      ("--submit", submit), ("--max-parallel", maxParallel != nil), ("--partition", partition != nil),
      ("--account", account != nil), ("--time", time != nil), ("--mem-mb", memoryMB != nil),
      ("--colearn", colearn != nil),
    ]
    if launcher != .slurm, let flag = slurmOnly.first(where: { $0.1 })?.0 {
      throw ValidationError("\(flag) needs --launcher slurm")
    }
    if launcher == .slurm, collect || run != nil {
      throw ValidationError("--launcher slurm writes the array; --collect and --run come after it, without it")
    }
    if collect, run != nil {
      throw ValidationError("give --collect or --run, not both")
    }
  }

  /// The `colearn reproduce` arguments each array task repeats: the suite file, the scale, the
  /// output directory (absolute), --threads, --data-dir and the settings that replace the
  /// suite's.
  static func taskArguments(
    suitePath: String, quick: Bool, output: String, threads: Int, dataDir: String?,
    overrides: [SuiteRun.Setting]
  ) -> [String] {
    var arguments = [SlurmBatch.absolute(suitePath)] + (quick ? ["--quick"] : [])
    arguments += ["--out", output, "--threads", "\(threads)"]
    if let dataDir { arguments += ["--data-dir", SlurmBatch.absolute(dataDir)] }
    for setting in overrides { arguments += ["--\(setting.key)", setting.value] }
    return arguments
  }

  /// The run named `name` of `runs`.
  ///
  /// - Throws: ``CLIError`` listing the suite's runs when there is none of that name.
  static func select(_ name: String, from runs: [SuiteRun], suite: String) throws -> SuiteRun {
    guard let run = runs.first(where: { $0.name == name }) else {
      throw CLIError(
        "suite \(suite) has no run `\(name)` at this scale; its runs: "
          + runs.map(\.name).joined(separator: ", "))
    }
    return run
  }
}
