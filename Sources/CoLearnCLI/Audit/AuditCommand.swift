import ArgumentParser
import CoLearnAudit
import CoLearnDSSGD
import CoLearnModelIO
import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn audit`: runs a DSSGD or FedAvg federation with the attacks of CoLearnAudit
/// instrumented and writes what an honest-but-curious server and a user of the final model
/// could learn (issue 22).
///
/// The federation is the one `colearn simulate` would run with the same settings (its options
/// follow the audit's own), with two changes: the server records every upload with its sender
/// (``RecordingParameterServer`` for DSSGD; FedAvg's whole-model uploads are read after each
/// round), and `--canaries` records of the test set are canaries — each
/// joins a participant's shard on a fair coin — so that the one-run ε lower bound has something
/// to guess (those records are then neither tested on nor used as non-members).
struct AuditCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Run a federation and measure what its uploads and its final model leak.",
    discussion: """
      Give the audit's own options first, then any options of `colearn simulate` (--algorithm \
      dssgd or fedavg, in-process transport); for example: colearn audit --out audit-run --canaries 40 \
      --participants 3 --shard-size 100 --rounds 5. Writes REPORT.md and audit.json to --out: \
      membership inference on the final global model (loss threshold, members = the \
      participants' shards, non-members = held-out test records), membership and input \
      reconstruction from each participant's upload in --attack-round (the server's view; \
      reconstructions.svg for image data), and the \
      one-run empirical ε lower bound from the canaries. For a private run (--selection \
      svt/exponential with --dp-epsilon, or --privacy dp-sgd) the bound is held against the \
      ledger's ε (or --claimed-epsilon): a lower bound above the claimed upper bound is a bug, \
      reported in REPORT.md and by a non-zero exit status.
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

  @Option(
    name: .customLong("claimed-epsilon"),
    help: ArgumentHelp(
      "Hold the canaries against this ε instead of the run's ledger (a claim made elsewhere).",
      valueName: "ε"))
  var claimedEpsilon: Double?

  @Option(name: .customLong("claimed-delta"), help: "δ of --claimed-epsilon.")
  var claimedDelta: Double = 0

  @Option(
    name: .customLong("attack-round"),
    help: ArgumentHelp(
      "The round whose uploads the server's attacks read, or `all`.", valueName: "round|all"))
  var attackRounds: AttackRounds = .round(1)

  @Option(
    name: .customLong("reference-models"),
    help: """
      Reference models for offline LiRA on the final model (0: no LiRA), each trained like \
      the federation on held-out records no candidate is among.
      """)
  var referenceModels: Int = 0

  @Flag(
    name: .customLong("save-model"),
    help: """
      Also write the final global model (model.safetensors) and the loss attack's candidates \
      (candidates.csv: member 0/1, label, the features as the model reads them), for checking \
      the attack with another tool (scripts/audit-crosscheck.py).
      """)
  var saveModel = false

  @Argument(
    parsing: .captureForPassthrough,
    help: ArgumentHelp("Options of `colearn simulate`.", valueName: "simulate-options"))
  var simulateArguments: [String] = []

  func validate() throws {
    try requireAtLeast(2, canaries, flag: "canaries")
    try requireAtLeast(0, referenceModels, flag: "reference-models")
    guard confidence > 0, confidence < 1 else {
      throw ValidationError("invalid --confidence \(confidence): expected a probability in (0, 1)")
    }
    if let claimedEpsilon, !(claimedEpsilon >= 0) {
      throw ValidationError(
        "invalid --claimed-epsilon \(claimedEpsilon): expected a number at least 0")
    }
    guard claimedDelta >= 0, claimedDelta < 1 else {
      throw ValidationError("invalid --claimed-delta \(claimedDelta): expected a number in [0, 1)")
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
    guard simulate.algorithm == .dssgd || simulate.algorithm == .fedavg,
      simulate.transport == .inprocess
    else {
      throw ValidationError(
        "colearn audit runs --algorithm dssgd or fedavg with --transport inprocess (the "
          + "server's view is recorded in process); drop --transport, use dssgd or fedavg")
    }
    if case .round(let round) = attackRounds, round > simulate.rounds {
      throw ValidationError(
        "--attack-round \(round) is after the last of the \(simulate.rounds) rounds: "
          + "choose a round from 1 to \(simulate.rounds), or `all`")
    }
    let outcome = try AuditRun(command: self, simulate: simulate).execute()
    let report = outcome.report
    try report.write(to: URL(fileURLWithPath: out), pictures: outcome.pictures)
    if saveModel { try Self.saveModel(outcome, to: URL(fileURLWithPath: out)) }
    print(report.summaryLine)
    print("output: \(out)")
    if let check = report.ledgerCheck, check.violated {
      throw CLIError("colearn audit: \(check.verdict) (REPORT.md in \(out) has the details)")
    }
  }
}

extension AuditCommand {
  /// Writes model.safetensors and candidates.csv of `outcome` into `directory`.
  static func saveModel(_ outcome: AuditRun.Outcome, to directory: URL) throws {
    let saved = SavedModel(
      spec: outcome.spec, schema: outcome.schema, parameters: outcome.global,
      information: ["source": "colearn audit, the final global model"])
    do {
      try saved.write(toPath: directory.appendingPathComponent("model.safetensors").path)
    } catch {
      throw CLIError("\(error)")
    }
    var text = "member,label," + (0..<outcome.members.sampleSize).map { "x\($0)" }.joined(
      separator: ",") + "\n"
    for (isMember, samples) in [(1, outcome.members), (0, outcome.nonMembers)] {
      let size = samples.sampleSize
      for record in 0..<samples.count {
        text += "\(isMember),\(samples.labels[record]),"
        text += samples.features[record * size..<(record + 1) * size].map { "\($0)" }.joined(
          separator: ",") + "\n"
      }
    }
    do {
      try Data(text.utf8).write(
        to: directory.appendingPathComponent("candidates.csv"), options: .atomic)
    } catch {
      throw CLIError("cannot write \(directory.path)/candidates.csv: \(error.localizedDescription)")
    }
  }
}

/// `--attack-round`: one round (1-based) or every round.
enum AttackRounds: ExpressibleByArgument, CustomStringConvertible, Equatable {
  case round(Int)
  case all

  init?(argument: String) {
    if argument == "all" {
      self = .all
    } else if let round = Int(argument), round >= 1 {
      self = .round(round)
    } else {
      return nil
    }
  }

  /// Whether the uploads of `round` are attacked.
  func contains(_ round: Int) -> Bool {
    switch self {
    case .round(let chosen): chosen == round
    case .all: true
    }
  }

  var description: String {
    switch self {
    case .round(let round): "\(round)"
    case .all: "all"
    }
  }
}
