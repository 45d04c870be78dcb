import ArgumentParser
import CoLearnDSSGD
import CoLearnData
import CoLearnNN
import CoLearnPrivacy
import CoLearnRPC
import CoLearnTensor
import Foundation

extension SelectionCriterion: ExpressibleByArgument {}
extension ExchangeOrder: ExpressibleByArgument {}
extension Algorithm: ExpressibleByArgument {}

/// `colearn simulate`: a whole federation on one machine — N participants with private shards
/// and one parameter server, running distributed selective SGD (SPEC §6).
struct SimulateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "simulate",
    abstract: "Simulate distributed selective SGD with N participants on one machine.",
    discussion: """
      Each round, every participant downloads the --download-fraction of the global parameters \
      that were updated most, trains one epoch on its own shard, and uploads the \
      --upload-fraction of its parameter changes chosen by --selection. After every \
      --eval-every rounds each participant's model and the global model are evaluated on the \
      test set. Writes config.json, metrics.csv (one row per round) and summary.json to --out. \

      Settings can also come from --config FILE (flat YAML or TOML; keys are the flag \
      names without dashes); flags on the command line win over the file.
      """)

  @OptionGroup var training: TrainingOptions
  @OptionGroup var data: DataOptions

  @Option(help: "dssgd, fedavg, standalone (no exchange) or centralized (pooled shards).")
  var algorithm: Algorithm = .dssgd

  @Option(name: .customLong("local-epochs"), help: "FedAvg: local epochs per round (E).")
  var localEpochs: Int = 1

  @Option(help: "Number of participants N.")
  var participants: Int = 30

  @Option(name: .customLong("shard-size"), help: "Training samples per participant (default: 1% of the training set).")
  var shardSize: Int?

  @Option(help: "How the training set is split: iid, dirichlet:ALPHA or classes:K.")
  var partition: String = "iid"

  @Option(name: .customLong("upload-fraction"), help: "θ_u: fraction of parameters uploaded per round.")
  var uploadFraction: Double = 0.1

  @Option(name: .customLong("download-fraction"), help: "θ_d: fraction of parameters downloaded per round.")
  var downloadFraction: Double = 1

  @Option(
    help: """
      Selection criterion: largest, threshold, svt (the sparse vector technique, differentially \
      private) or exponential (the exponential mechanism, differentially private).
      """)
  var selection: SelectionCriterion = .largest

  @Option(help: "τ for --selection threshold and svt.")
  var threshold: Float = 1e-4

  @Option(
    name: .customLong("dp-epsilon"),
    help: "ε per participant and epoch, for --selection svt or exponential.")
  var dpEpsilon: Double?

  @Option(
    name: .customLong("dp-budget"),
    help: """
      Total ε per participant over the run (basic composition); a participant stops uploading \
      before the epoch that would exceed it.
      """)
  var dpBudget: Double?

  @Option(help: "δ′ of the advanced-composition totals in the privacy ledger.")
  var delta: Double = 1e-5

  @Flag(
    name: .customLong("insecure-seeded-noise"),
    help: """
      Draw privacy noise from the seeded generator (reproducible runs). The result is NOT \
      differentially private: anyone with the seed can remove the noise.
      """)
  var insecureSeededNoise = false

  @Option(help: "γ: bound every uploaded value to [−γ, γ] (default: no bound).")
  var bound: Float?

  @Option(name: .customLong("stat-decay"), help: "β: the server's per-round decay of its update counts.")
  var statDecay: Float = 0.8

  @Option(name: .customLong("protocol"), help: "Exchange protocol: round-robin, random-order or async.")
  var order: ExchangeOrder = .roundRobin

  @Option(
    name: .customLong("stale-probability"),
    help: "p_stale for async: chance that a download is served from the previous round's state.")
  var staleProbability: Double = 0.5

  @Option(help: "Rounds (each participant trains one epoch per round).")
  var rounds: Int = 10

  @Option(name: .customLong("eval-every"), help: "Evaluate every this many rounds.")
  var evalEvery: Int = 1

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
    help: """
      Continue the run in --out from its checkpoint.bin: the same settings (--rounds may be \
      larger, --threads and --eval-every may differ); rounds after the checkpoint are redone.
      """)
  var resume = false

  enum Transport: String, ExpressibleByArgument, Encodable {
    case inprocess, grpc
  }

  func dssgdConfiguration() throws -> DSSGDConfiguration {
    do {
      if dpEpsilon == nil, dpBudget != nil || insecureSeededNoise {
        throw ConfigurationError.outOfRange(
          setting: dpBudget != nil ? "dp-budget" : "insecure-seeded-noise",
          value: dpBudget.map { "\($0)" } ?? "", expected: "--dp-epsilon with it")
      }
      let privacy = try dpEpsilon.map { epsilon throws(ConfigurationError) in
        try PrivacySettings(
          epsilon: epsilon, budget: dpBudget, delta: delta,
          insecureSeededNoise: insecureSeededNoise)
      }
      return try DSSGDConfiguration(
        participants: participants, uploadFraction: uploadFraction,
        downloadFraction: downloadFraction, selection: selection, threshold: threshold,
        bound: bound, statDecay: statDecay, order: order, staleProbability: staleProbability,
        privacy: privacy)
    } catch {
      throw ValidationError("\(error)")
    }
  }

  func validate() throws {
    _ = try dssgdConfiguration()
    do {
      _ = try Partition(parsing: partition)
    } catch {
      throw ValidationError(error.description)
    }
    try requireAtLeast(1, rounds, flag: "rounds")
    try requireAtLeast(1, localEpochs, flag: "local-epochs")
    try requireAtLeast(1, evalEvery, flag: "eval-every")
    try requireAtLeast(1, shardSize, flag: "shard-size")
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
  }

  func run() throws {
    try execute(observer: .console)
  }

  /// Runs the simulation into its output directory, reporting to `observer` (the console for
  /// `colearn simulate`, a progress closure for `colearn reproduce`, which runs many in process).
  func execute(observer: RunObserver) throws {
    var console = RunConsole(observer: observer, total: rounds, unit: "rounds")
    let spec = training.model
    let sgd = try training.sgdConfiguration()
    let dssgd = try dssgdConfiguration()
    let threads = training.threads ?? ProcessInfo.processInfo.activeProcessorCount
    BLAS.setThreadCount(threads)
    let partitionScheme = try Partition(parsing: partition)

    let loaded = try data.load(for: spec, options: DatasetLoadOptions(testLimit: testLimit))
    let directory = loaded.directory
    let datasetName = loaded.name
    let size = shardSize ?? max(1, loaded.train.count / 100)
    var generator = SeededGenerator(seed: training.seed)
    var partitionGenerator = generator.derived(stream: 0x5EED)
    let shards: [[Int]]
    do {
      shards = try partitionScheme.shards(
        labels: loaded.train.labels, classCount: loaded.train.classCount,
        participants: participants, shardSize: size, using: &partitionGenerator)
    } catch {
      throw CLIError(error.description)
    }
    let shardSamples = shards.map { loaded.train.subset($0).labeledSamples }
    let test = loaded.test.labeledSamples

    let network = spec.makeNetwork()
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    let federation: any FederatedAlgorithm
    var local: LocalGRPCFederation?
    defer { local?.stop() }
    switch algorithm {
    case .dssgd:
      if transport == .grpc {
        local = try LocalGRPCFederation(
          settings: FederationSettings(
            model: spec.identity(parameterCount: network.parameterCount),
            downloadFraction: downloadFraction, uploadFraction: uploadFraction,
            statDecay: statDecay, order: order, participants: participants),
          initialParameters: initial)
      }
      federation = DSSGDSimulation(
        makeNetwork: { spec.makeNetwork() }, training: sgd, configuration: dssgd,
        initialParameters: initial, shards: shardSamples, generator: generator,
        concurrency: threads, remote: local?.remoteServers)
    case .fedavg:
      federation = FedAvgSimulation(
        network: network, training: sgd, localEpochs: localEpochs, initialParameters: initial,
        shards: shardSamples, generator: generator)
    case .standalone:
      federation = StandaloneSimulation(
        network: network, training: sgd, initialParameters: initial, shards: shardSamples,
        generator: generator)
    case .centralized:
      federation = CentralizedSimulation(
        network: network, training: sgd, initialParameters: initial, shards: shardSamples,
        generator: generator)
    }
    let evaluator = spec.makeNetwork()

    let outPath =
      out ?? "runs/simulate-\(algorithm.rawValue)-\(spec.name)-N\(participants)-\(training.seed)"
    let record = SimulationRecord.Configuration(
      command: "simulate", algorithm: algorithm.rawValue, localEpochs: localEpochs,
      model: spec.name, parameterCount: network.parameterCount,
      modelHash: spec.specificationHash, dataset: datasetName.rawValue,
      dataDirectory: directory.path, partition: partitionScheme.description, shardSize: size,
      testSamples: test.count, dssgd: dssgd, sgd: sgd, rounds: rounds, evalEvery: evalEvery,
      seed: training.seed, threads: threads, blas: BLAS.configuration)
    let checkpointPath = URL(fileURLWithPath: outPath).appendingPathComponent("checkpoint.bin").path
    let checkpointable = local == nil ? federation as? any CheckpointableSimulation : nil
    var progressSoFar = SimulationRecord.Progress(settings: record.resumeKey)
    if resume {
      progressSoFar = try restoreCheckpoint(
        at: checkpointPath, into: checkpointable, settings: record.resumeKey)
    }
    let firstRound = progressSoFar.rounds + 1
    let run = try RunDirectory(
      path: outPath,
      columns: [
        "round", "seconds", "train_seconds", "select_seconds", "exchange_seconds",
        "elapsed_seconds", "mean_accuracy", "min_accuracy",
        "max_accuracy", "global_accuracy", "uploaded_parameters", "upload_bytes",
        "downloaded_parameters", "download_bytes",
      ], resume: resume, keepingRowsThrough: resume ? progressSoFar.rounds : nil)
    defer { run.close() }
    try run.writeJSON(record, to: "config.json")

    let exchange =
      switch algorithm {
      case .dssgd:
        "θu = \(uploadFraction), θd = \(downloadFraction), \(selection.rawValue), \(order.rawValue)"
          + (local.map { ", over gRPC on 127.0.0.1:\($0.port)" } ?? "")
      case .fedavg: "FedAvg, E = \(localEpochs)"
      case .standalone: "standalone"
      case .centralized: "centralized on the pooled shards"
      }
    console.say(
      "colearn simulate: \(spec) (|w| = \(network.parameterCount)), N = \(participants) × "
        + "\(size) samples (\(partitionScheme)), \(exchange), M = \(sgd.batchSize), "
        + "α = \(sgd.learningRate)")
    console.say("output: \(run.url.path)")
    if resume {
      console.say("resuming after round \(progressSoFar.rounds) from \(checkpointPath)")
      // Progress and ETA over the rounds this process runs.
      console = RunConsole(observer: observer, total: rounds - progressSoFar.rounds, unit: "rounds")
    }
    let simulation = federation as? DSSGDSimulation
    var privacyReport = dssgd.privacy.map {
      PrivacyReport(settings: $0, selection: dssgd.selection)
    }
    if algorithm == .dssgd, let privacyReport { console.say(privacyReport.banner) }
    let start = monotonicSeconds() - progressSoFar.wallSeconds
    var best = progressSoFar.bestMeanAccuracy
    var last: FederationEvaluation?
    var turnSeconds = progressSoFar.roundSeconds
    var trainSeconds = progressSoFar.trainSeconds
    var selectSeconds = progressSoFar.selectSeconds
    var exchangeSeconds = progressSoFar.exchangeSeconds
    var lastCheckpoint = monotonicSeconds()
    for round in firstRound...rounds {
      let statistics = try federation.runRound()
      if let simulation, privacyReport != nil {
        for line in privacyReport!.newStops(in: simulation.participants, round: round) {
          console.line(line)
        }
      }
      turnSeconds += statistics.seconds
      trainSeconds += statistics.trainSeconds
      selectSeconds += statistics.selectSeconds
      exchangeSeconds += statistics.exchangeSeconds
      var row = [
        "\(round)", format(statistics.seconds, 4), format(statistics.trainSeconds, 4),
        format(statistics.selectSeconds, 4), format(statistics.exchangeSeconds, 4),
        format(monotonicSeconds() - start, 3),
      ]
      if round % evalEvery == 0 || round == rounds {
        let evaluation = federation.evaluate(
          on: test, with: evaluator, batchSize: spec.evaluationBatchSize)
        last = evaluation
        best = max(best, evaluation.meanAccuracy)
        let accuracies = evaluation.participantAccuracies
        row += [
          format(evaluation.meanAccuracy, 5), format(accuracies.min() ?? 0, 5),
          format(accuracies.max() ?? 0, 5), evaluation.globalAccuracy.map { format($0, 5) } ?? "",
        ]
        let global = evaluation.globalAccuracy.map { "global \(format(100 * $0, 2))%  " } ?? ""
        console.line(
          "round \(round)/\(rounds)  mean acc \(format(100 * evaluation.meanAccuracy, 2))%  "
            + "max \(format(100 * (accuracies.max() ?? 0), 2))%  \(global)"
            + "(\(format(statistics.seconds, 2)) s/round)")
      } else {
        row += ["", "", "", ""]
      }
      console.update(done: round - progressSoFar.rounds, label: "round \(round)/\(rounds)")
      row += [
        "\(statistics.uploadedParameters)", "\(statistics.uploadBytes)",
        "\(statistics.downloadedParameters)", "\(statistics.downloadBytes)",
      ]
      run.append(row: row)
      let now = monotonicSeconds()
      if let checkpointable, checkpointMinutes > 0,
        round == rounds || now - lastCheckpoint >= 60 * checkpointMinutes
      {
        let soFar = SimulationRecord.Progress(
          settings: record.resumeKey, rounds: round, wallSeconds: now - start,
          roundSeconds: turnSeconds, trainSeconds: trainSeconds, selectSeconds: selectSeconds,
          exchangeSeconds: exchangeSeconds, bestMeanAccuracy: best)
        try saveCheckpoint(of: checkpointable, progress: soFar, to: checkpointPath)
        lastCheckpoint = monotonicSeconds()
      }
    }
    let wall = monotonicSeconds() - start
    // Worker-seconds: with `async` the turns of several workers overlap.
    let workerSeconds = max(turnSeconds * Double(federation.workerCount), 1e-9)
    let summary = SimulationRecord.Summary(
      rounds: rounds, finalMeanAccuracy: last?.meanAccuracy ?? 0,
      finalMinAccuracy: last?.participantAccuracies.min() ?? 0,
      finalMaxAccuracy: last?.participantAccuracies.max() ?? 0,
      finalGlobalAccuracy: last?.globalAccuracy, bestMeanAccuracy: best,
      wallSeconds: wall, roundSeconds: turnSeconds, trainSeconds: trainSeconds,
      selectSeconds: selectSeconds, exchangeSeconds: exchangeSeconds,
      trainingShareOfRounds: trainSeconds / workerSeconds,
      selectionShareOfRounds: selectSeconds / workerSeconds,
      exchangeShareOfRounds: exchangeSeconds / workerSeconds)
    try run.writeJSON(summary, to: "summary.json")
    if let simulation, let privacyReport {
      let ledger = privacyReport.ledger(
        for: simulation.participants,
        capacity: fractionCount(dssgd.uploadFraction, of: network.parameterCount))
      try run.writeJSON(ledger, to: "privacy-ledger.json")
      console.say(privacyReport.table(ledger))
    }
    let globalText = summary.finalGlobalAccuracy.map { ", global \(format(100 * $0, 2))%" } ?? ""
    console.say(
      "done: mean participant accuracy \(format(100 * summary.finalMeanAccuracy, 2))%"
        + "\(globalText), \(format(turnSeconds / Double(rounds), 3)) s per round "
        + "(\(format(100 * summary.trainingShareOfRounds, 1))% local training, "
        + "\(format(100 * summary.selectionShareOfRounds, 1))% selection, "
        + "\(format(100 * summary.exchangeShareOfRounds, 1))% server exchange), "
        + "\(format(wall, 1)) s wall")
  }
}

extension SimulateCommand {
  /// Writes `simulation`'s state with `progress` as its annotation; a simulation that cannot be
  /// checkpointed (seeded privacy noise) says so once and the run goes on.
  func saveCheckpoint(
    of simulation: any CheckpointableSimulation, progress: SimulationRecord.Progress,
    to path: String
  ) throws {
    do {
      var checkpoint = try simulation.checkpoint()
      checkpoint.annotation = try JSONEncoder().encode(progress)
      try checkpoint.write(to: path)
    } catch let error as CheckpointError {
      if case .unsupported = error { return }
      throw CLIError("\(error)")
    }
  }

  /// Reads the checkpoint at `path` into `simulation` and returns the progress saved with it.
  func restoreCheckpoint(
    at path: String, into simulation: (any CheckpointableSimulation)?, settings: String
  ) throws -> SimulationRecord.Progress {
    guard let simulation else {
      throw CLIError("this simulation cannot be resumed (--transport grpc keeps no checkpoint)")
    }
    do {
      guard let checkpoint = try SimulationCheckpoint.read(from: path) else {
        throw CLIError(
          "no checkpoint at \(path): nothing to resume; run without --resume to start afresh")
      }
      guard
        let progress = try? JSONDecoder().decode(
          SimulationRecord.Progress.self, from: checkpoint.annotation)
      else {
        throw CLIError("\(path) was not written by colearn simulate; run without --resume")
      }
      guard progress.settings == settings else {
        throw CLIError(
          "the run in \((path as NSString).deletingLastPathComponent) was made with other "
            + "settings than these flags (only --rounds, --threads and --eval-every may "
            + "change): \(settingDifferences(saved: progress.settings, now: settings))")
      }
      guard progress.rounds < rounds, checkpoint.roundsCompleted == progress.rounds else {
        throw CLIError(
          "the checkpoint is at round \(checkpoint.roundsCompleted): give --rounds larger than "
            + "that to continue the run")
      }
      try simulation.restore(from: checkpoint)
      return progress
    } catch let error as CheckpointError {
      throw CLIError("\(error)")
    }
  }
}

/// The settings that differ between two ``SimulationRecord/Configuration/resumeKey`` strings, as
/// "key: saved X, now Y" (nested keys joined with dots).
func settingDifferences(saved: String, now: String) -> String {
  func flatten(_ json: String) -> [String: String] {
    var result: [String: String] = [:]
    func walk(_ value: Any, _ prefix: String) {
      if let object = value as? [String: Any] {
        for (key, inner) in object { walk(inner, prefix.isEmpty ? key : prefix + "." + key) }
      } else {
        result[prefix] = "\(value)"
      }
    }
    if let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) { walk(object, "") }
    return result
  }
  let before = flatten(saved)
  let after = flatten(now)
  let keys = Set(before.keys).union(after.keys).sorted()
  let differences = keys.compactMap { key -> String? in
    let old = before[key] ?? "none"
    let new = after[key] ?? "none"
    return old == new ? nil : "\(key): saved \(old), now \(new)"
  }
  return differences.isEmpty ? "unreadable saved settings" : differences.joined(separator: "; ")
}

/// The JSON records `colearn simulate` writes.
enum SimulationRecord {
  /// What a checkpoint carries besides the simulation's state: the settings it belongs to and
  /// the running totals of the summary.
  struct Progress: Codable {
    var settings: String
    var rounds = 0
    var wallSeconds = 0.0
    var roundSeconds = 0.0
    var trainSeconds = 0.0
    var selectSeconds = 0.0
    var exchangeSeconds = 0.0
    var bestMeanAccuracy = 0.0
  }

  struct Configuration: Encodable {
    var command: String
    var algorithm: String
    var localEpochs: Int
    var model: String
    var parameterCount: Int
    var modelHash: String
    var dataset: String
    var dataDirectory: String
    var partition: String
    var shardSize: Int
    var testSamples: Int
    var dssgd: DSSGDConfiguration
    var sgd: SGDConfiguration
    var rounds: Int
    var evalEvery: Int
    var seed: UInt64
    var threads: Int
    var blas: String

    /// The settings that must not change when a run is resumed: everything but the number of
    /// rounds, the evaluation period, the thread count, the BLAS build and where the data is.
    var resumeKey: String {
      var fixed = self
      fixed.rounds = 0
      fixed.evalEvery = 0
      fixed.threads = 0
      fixed.blas = ""
      fixed.dataDirectory = ""
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      return (try? encoder.encode(fixed)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
  }

  struct Summary: Encodable {
    var rounds: Int
    var finalMeanAccuracy: Double
    var finalMinAccuracy: Double
    var finalMaxAccuracy: Double
    var finalGlobalAccuracy: Double?
    var bestMeanAccuracy: Double
    var wallSeconds: Double
    var roundSeconds: Double
    var trainSeconds: Double
    var selectSeconds: Double
    var exchangeSeconds: Double
    /// The shares of the rounds' worker-seconds spent in local training, selection and
    /// downloads/uploads; the rest is bookkeeping (w_old, statistics) and the turn order.
    var trainingShareOfRounds: Double
    var selectionShareOfRounds: Double
    var exchangeShareOfRounds: Double
  }
}
