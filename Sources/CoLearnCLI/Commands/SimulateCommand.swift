import ArgumentParser
import CoLearnDSSGD
import CoLearnData
import CoLearnNN
import Foundation

extension Algorithm: ExpressibleByArgument {}

/// `colearn simulate`: a whole federation on one machine — N participants with private shards
/// and one parameter server, running distributed selective SGD (SPEC §6).
///
/// The command is its options and three steps: ``SimulationSetup`` (data, shards, the
/// algorithm, the run record), ``runRounds(_:in:console:from:checkpointPath:)`` (the round loop with its
/// evaluations and checkpoints) and the records it writes (`SimulateCommand+Records.swift`).
struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Simulate distributed selective SGD with N participants on one machine.",
    discussion: """
      Each round, every participant downloads the --download-fraction of the global parameters \
      that were updated most, trains one epoch on its own shard, and uploads the \
      --upload-fraction of its parameter changes chosen by --selection. After every \
      --eval-every rounds each participant's model and the global model are evaluated on the \
      test set. Writes config.json, metrics.csv (one row per round), summary.json, \
      schema.json and model.safetensors (the global model; none for standalone) to --out.

      Settings can also come from --config FILE (flat YAML or TOML; keys are the flag \
      names without dashes); flags on the command line win over the file.
      """)

  @OptionGroup var training: TrainingOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var source: DataSourceOptions
  @OptionGroup var federation: FederationOptions
  @OptionGroup var upload: UploadOptions
  @OptionGroup(title: "Differential privacy of local training (DP-SGD)") var dp: DPSGDOptions

  @Option(help: "dssgd, fedavg, standalone (no exchange) or centralized (pooled shards).")
  var algorithm: Algorithm = .dssgd

  @Option(name: .customLong("local-epochs"), help: "FedAvg: local epochs per round (E).")
  var localEpochs: Int = 1

  @Option(help: "Rounds (each participant trains one epoch per round).")
  var rounds: Int = 10

  @Option(
    name: .customLong("eval-every"),
    help: """
      Evaluate every this many rounds, and after the last (default: about 20 evaluations per \
      run — every round up to 39 rounds, then every rounds/20: a learning curve with enough \
      points, while evaluating N + 1 models on the whole test set each round would otherwise \
      take as long as the training for N = 30 mnist-mlp).
      """)
  var evalEvery: Int?

  /// `--eval-every`, or its default: every `rounds / 20` rounds (at least every round).
  var evaluationPeriod: Int { evalEvery ?? Self.defaultEvaluationPeriod(rounds: rounds) }

  /// About 20 evaluations per run (see `--eval-every`).
  static func defaultEvaluationPeriod(rounds: Int) -> Int { max(1, rounds / 20) }

  @Option(name: .customLong("test-limit"), help: "Evaluate on only the first N test samples.")
  var testLimit: Int?

  @Option(help: "Output directory (default: runs/simulate-ALGORITHM-MODEL-N-SEED).")
  var out: String?

  @Option(
    help: """
      inprocess, or grpc: the participants talk to a real `colearn serve` stack on 127.0.0.1 \
      (one authenticated connection each; dssgd only).
      """)
  var transport: Transport = .inprocess

  @Option(
    name: .customLong("checkpoint-minutes"),
    help: """
      Save the whole simulation state to checkpoint.bin in --out after the first round that \
      ends this many minutes after the last save, and after the last round (0: never).
      """)
  var checkpointMinutes: Double = 5

  @Flag(
    name: .customLong("save-participant-models"),
    help: "Also save every participant's model as participants/I.safetensors in --out.")
  var saveParticipantModels = false

  @Flag(
    help: """
      Continue the run in --out from its checkpoint.bin: the same settings (--rounds may be \
      larger, --threads and --eval-every may differ); rounds after the checkpoint are redone.
      """)
  var resume = false

  enum Transport: String, ExpressibleByArgument, Encodable {
    case inprocess, grpc
  }

  /// The privacy of the uploads, from the shared privacy flags.
  var privacy: UploadPrivacy { UploadPrivacy(upload: upload, dp: dp) }

  func dssgdConfiguration() throws -> DSSGDConfiguration {
    try federation.dssgdConfiguration(upload: upload)
  }

  func validate() throws {
    try privacy.validate()
    _ = try dssgdConfiguration()
    try requireAtLeast(1, rounds, flag: "rounds")
    try requireAtLeast(1, localEpochs, flag: "local-epochs")
    try requireAtLeast(1, evalEvery, flag: "eval-every")
    try requireAtLeast(1, testLimit, flag: "test-limit")
    if transport == .grpc, algorithm != .dssgd {
      throw ValidationError("--transport grpc runs --algorithm dssgd only")
    }
    guard checkpointMinutes >= 0, checkpointMinutes.isFinite else {
      throw ValidationError("--checkpoint-minutes must be 0 or more, got \(checkpointMinutes)")
    }
    if resume, out == nil {
      throw ValidationError("--resume needs --out: the directory of the run to continue")
    }
    if resume, transport == .grpc {
      throw ValidationError("--resume works with --transport inprocess only")
    }
    if dp.privacy == .dpSGD, resume {
      throw ValidationError(
        "--resume: a DP-SGD simulation keeps no checkpoint (its participants' charges are not in "
          + "the checkpoint format yet); run it again without --resume")
    }
  }

  func run() throws {
    try execute(observer: .console)
  }

  /// Runs the simulation into its output directory, reporting to `observer` (the console for
  /// `colearn simulate`, a progress closure for `colearn reproduce`, which runs many in process).
  func execute(observer: RunObserver) throws {
    var setup = try SimulationSetup(command: self)
    defer { setup.local?.stop() }
    let checkpointPath = URL(fileURLWithPath: setup.outPath)
      .appendingPathComponent("checkpoint.bin").path
    var progress = SimulationRecord.Progress(settings: setup.record.resumeKey)
    if resume {
      progress = try restoreCheckpoint(
        at: checkpointPath, into: setup.checkpointable, settings: setup.record.resumeKey)
    }
    let run = try RunDirectory(
      path: setup.outPath, columns: SimulationRecord.metricsColumns, resume: resume,
      keepingRowsThrough: resume ? progress.rounds : nil)
    defer { run.close() }
    try run.writeJSON(setup.record, to: "config.json")
    try run.writeSchema(setup.schema)

    var console = RunConsole(observer: observer, total: rounds - progress.rounds, unit: "rounds")
    console.say(setup.banner)
    console.say("output: \(run.url.path)")
    if resume {
      console.say("resuming after round \(progress.rounds) from \(checkpointPath)")
    }
    progress = try runRounds(
      &setup, in: run, console: &console, from: progress, checkpointPath: checkpointPath)
    try writeSummary(of: setup, progress: progress, in: run, console: &console)
  }
}
