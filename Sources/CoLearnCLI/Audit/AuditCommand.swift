import ArgumentParser
import CoLearnAudit
import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn audit`: runs a DSSGD federation with the attacks of CoLearnAudit instrumented and
/// writes what an honest-but-curious server and a user of the final model could learn
/// (issue 22, first slice).
///
/// The federation is the one `colearn simulate` would run with the same settings (its options
/// follow the audit's own), with two changes: the server records every upload with its sender
/// (``RecordingParameterServer``), and `--canaries` records of the test set are canaries — each
/// joins a participant's shard on a fair coin — so that the one-run ε lower bound has something
/// to guess (those records are then neither tested on nor used as non-members).
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Run a federation and measure what its uploads and its final model leak.",
    discussion: """
      Give the audit's own options first, then any options of `colearn simulate` (--algorithm \
      dssgd, in-process transport); for example: colearn audit --out audit-run --canaries 40 \
      --participants 3 --shard-size 100 --rounds 5. Writes REPORT.md and audit.json to --out: \
      membership inference on the final global model (loss threshold, members = the \
      participants' shards, non-members = held-out test records), membership and input \
      reconstruction from each participant's first upload (the server's view), and the \
      one-run empirical ε lower bound from the canaries.
      """)

  @Option(help: "Output directory for REPORT.md and audit.json.")
  var out: String

  @Option(help: "Canaries taken from the end of the test set (each included on a fair coin).")
  var canaries: Int = 50

  @Option(help: "Confidence of the ε lower bound (1 − β).")
  var confidence: Double = 0.95

  @Option(
    name: .customLong("similarity-threshold"),
    help: "Cosine similarity at which a reconstructed record counts as recovered.")
  var similarityThreshold: Double = 0.99

  @Argument(
    parsing: .captureForPassthrough,
    help: ArgumentHelp("Options of `colearn simulate`.", valueName: "simulate-options"))
  var simulateArguments: [String] = []

  func validate() throws {
    try requireAtLeast(2, canaries, flag: "canaries")
    guard confidence > 0, confidence < 1 else {
      throw ValidationError("invalid --confidence \(confidence): expected a probability in (0, 1)")
    }
    guard similarityThreshold > -1, similarityThreshold <= 1 else {
      throw ValidationError(
        "invalid --similarity-threshold \(similarityThreshold): expected a cosine in (−1, 1]")
    }
  }

  func run() throws {
    let simulate: SimulateCommand
    do {
      simulate = try SimulateCommand.parse(simulateArguments)
    } catch {
      throw ValidationError(
        "colearn audit: the simulate options are not valid: \(SimulateCommand.message(for: error))")
    }
    guard simulate.algorithm == .dssgd, simulate.transport == .inprocess else {
      throw ValidationError(
        "colearn audit runs --algorithm dssgd with --transport inprocess (the server's view is "
          + "recorded in process); drop --algorithm/--transport")
    }
    let report = try AuditRun(command: self, simulate: simulate).execute()
    try report.write(to: URL(fileURLWithPath: out))
    print(report.summaryLine)
    print("output: \(out)")
  }
}
