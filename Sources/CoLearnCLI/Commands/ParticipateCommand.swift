import ArgumentParser
import CoLearnDSSGD
import CoLearnData
import CoLearnNN
import CoLearnPrivacy
import CoLearnRPC
import CoLearnTensor
import Foundation

/// `colearn participate`: one institution's participant in a real deployment. Its data never
/// leaves the process: only the sparse uploads and the downloads of colearn.proto cross the
/// network.
struct ParticipateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "participate",
    abstract: "Take part in a DSSGD federation served by `colearn serve`, training on local data.",
    discussion: """
      Joins first: without --model it trains the model the server publishes, and it \
      standardises --data with the dataset schema the server publishes (data that does not \
      match it — a missing column, an unknown category, another shape — is refused before \
      training, naming the difference). Trains on all of --data (or with --shard I/N the IID \
      shard a simulation with the same --seed would give participant I of N), and takes \
      rounds until the server's federation finishes (`serve --rounds`), or at most --rounds \
      turns from now: download, one local epoch, select, upload. θ_u, θ_d and the exchange protocol come from \
      the server. Transient failures are retried with backoff; after a restart with the same \
      --out it resumes after its last acknowledged round (model and step count are saved after \
      every round; the privacy ledger is written and fsync'ed before every upload leaves, so an \
      epoch is charged even if the process dies right after its upload). Writes metrics.csv (the columns of `colearn simulate`), \
      acks.csv (every acknowledged upload: round, server sequence number), summary.json and \
      model.safetensors (the local model after every round, with the model file and schema) \
      and, after the last round, global-model.safetensors (all of w_global, downloaded once).
      """)

  @OptionGroup var training: TrainingOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var source: DataSourceOptions

  @OptionGroup var connection: ServerConnectionOptions

  @Option(help: "This participant's display name (default: the host name).")
  var name: String?

  @Option(help: "Use only the IID shard I/N of the training set (experiments), e.g. 3/30.")
  var shard: String?

  @Option(name: .customLong("shard-size"), help: "Samples per shard with --shard (default: 1% of the training set).")
  var shardSize: Int?

  @Option(
    help: ArgumentHelp(
      "At most this many rounds (turns) from now (default: until the server's federation finishes).",
      discussion: "Counted from this start, also after a restart; the server's end (`serve "
        + "--rounds`) stops the participant earlier, with success."))
  var rounds: Int?

  @OptionGroup var upload: UploadOptions

  @Option(name: .customLong("eval-every"), help: "Evaluate the local model every this many rounds.")
  var evalEvery: Int = 1

  @Option(name: .customLong("test-limit"), help: "Evaluate on only the first N test samples.")
  var testLimit: Int?

  @Option(name: .customLong("lease-seconds"), help: "Lease asked for per turn.")
  var leaseSeconds: Int = 600

  @Option(name: .customLong("retry-seconds"), help: "How long to keep retrying an unreachable server.")
  var retrySeconds: Int = 300

  @Option(help: "Output and resume directory (default: runs/participate-NAME).")
  var out: String?

  @OptionGroup(title: "Differential privacy of local training (DP-SGD)") var dp: DPSGDOptions

  /// The privacy of the uploads, from the shared privacy flags.
  var privacy: UploadPrivacy { UploadPrivacy(upload: upload, dp: dp) }

  func validate() throws {
    try privacy.validate()
    if let shard { _ = try ShardSpec(parsing: shard) }
    try requireAtLeast(1, rounds, flag: "rounds")
    try requireAtLeast(1, evalEvery, flag: "eval-every")
    try requireAtLeast(1, shardSize, flag: "shard-size")
    try requireAtLeast(1, testLimit, flag: "test-limit")
    try requireAtLeast(1, leaseSeconds, flag: "lease-seconds")
    try requireAtLeast(0, retrySeconds, flag: "retry-seconds")
  }

  func run() throws {
    let sgd = try training.sgdConfiguration()
    BLAS.setThreadCount(training.threads ?? ProcessInfo.processInfo.activeProcessorCount)
    let token = try connection.token()
    let displayName = name ?? ProcessInfo.processInfo.hostName
    let address = try connection.address()

    // Join first: the server publishes the model (unless --model names one) and the schema.
    let own = training.givenModel
    let client: RemoteParameterServerClient
    do {
      client = try RemoteParameterServerClient(
        RemoteServerConfiguration(
          host: address.host, port: address.port,
          tls: connection.tls, token: token, participantName: displayName,
          model: own.map { $0.identity(parameterCount: $0.parameterCount) },
          modelFile: own.map(ModelFile.canonicalText(of:)) ?? "",
          leaseMilliseconds: UInt32(min(leaseSeconds, 4_000_000) * 1000),
          retryFor: .seconds(retrySeconds)))
    } catch {
      throw CLIError("cannot join \(connection.server): \(error)")
    }
    defer { client.close() }
    client.onRetry = { line in
      FileHandle.standardError.write(Data("colearn participate: \(line)\n".utf8))
    }
    let spec: ModelSpec
    let loaded: LoadedSource
    do {
      spec = try own ?? Self.publishedModel(of: client)
      loaded = try source.load(
        for: spec, directory: data.dataDirectory, seed: training.seed,
        options: DatasetLoadOptions(testLimit: testLimit),
        schema: federationSchema(published: client.publishedSchema, spec: spec))
    } catch {
      // Refused before training: give the slot back.
      try? client.leave()
      throw error
    }
    var generator = SeededGenerator(seed: training.seed)
    let network = spec.makeNetwork()
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    let samples: LabeledSamples
    var shardIndex = 0
    if let shard {
      let spec = try ShardSpec(parsing: shard)
      shardIndex = spec.index
      var partitionGenerator = generator.derived(stream: 0x5EED)
      let size = shardSize ?? max(1, loaded.train.count / 100)
      do {
        let shards = try Partition.iid.shards(
          labels: loaded.train.labels, classCount: loaded.train.classCount,
          participants: spec.count, shardSize: size, using: &partitionGenerator)
        samples = loaded.train.subset(shards[spec.index]).labeledSamples
      } catch {
        throw CLIError(error.description)
      }
    } else {
      samples = loaded.train.labeledSamples
    }
    let test = loaded.test.labeledSamples

    let settings = client.serverConfiguration
    guard let order = ExchangeOrder(proto: settings.exchangeProtocol) else {
      throw CLIError("the server announced an unknown exchange protocol")
    }
    let dssgd: DSSGDConfiguration
    do {
      dssgd = try DSSGDConfiguration(
        participants: max(1, Int(settings.participants)), uploadFraction: settings.uploadFraction,
        downloadFraction: settings.downloadFraction, selection: upload.selection,
        threshold: upload.threshold, bound: upload.bound, statDecay: Float(settings.statDecay),
        order: order, staleProbability: 0, privacy: privacy.selectionSettings(),
        dpsgd: privacy.dpsgdSettings(
          network: network, batchSize: sgd.batchSize, sampleCounts: [samples.count],
          epochs: try budgetEpochs()))
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError("\(error)")
    }

    let outPath = out ?? "runs/participate-\(displayName)"
    let saved = try ParticipantCheckpoint.load(from: outPath, parameterCount: initial.count)
    let run = try RunDirectory(
      path: outPath,
      columns: SimulationRecord.metricsColumns, resume: saved != nil)
    defer { run.close() }
    let acks = try AppendOnlyLog(path: run.url.appendingPathComponent("acks.csv").path,
      header: "round,sequence,applied_entries,duplicate")
    client.onAcknowledgement = { round, ack in
      acks.append("\(round),\(ack.sequenceNumber),\(ack.appliedEntries),\(ack.duplicate)")
    }

    var noiseSeeds = generator.derived(stream: 0x5EC0_0000 + UInt64(shardIndex))
    var participant = Participant(
      id: shardIndex, model: LocalModel(parameters: saved?.parameters ?? initial),
      samples: network.trainingSamples(samples),
      generator: generator.derived(stream: UInt64(shardIndex) + 1),
      privacy: dssgd.privacy.map { ParticipantPrivacy.make(for: $0, generator: &noiseSeeds) })
    if let saved {
      participant.model.stepCount = saved.stepCount
      if let ledger = saved.ledger { participant.privacy?.ledger = ledger }
    }
    // The ledger file is written before every upload, the checkpoint after it: the file is
    // never older than the checkpoint's ledger.
    let ledgerPath = run.url.appendingPathComponent(LedgerFile.fileName).path
    if participant.privacy != nil {
      do {
        if let ledger = try LedgerFile.read(from: ledgerPath) { participant.privacy?.ledger = ledger }
      } catch {
        throw CLIError(
          "\(ledgerPath) cannot be read (\(error)); restore it from a backup: the ε spent must "
            + "never be forgotten")
      }
    }
    let firstRound = Int(max(UInt64(saved?.round ?? 0), client.lastAppliedRound)) + 1
    let runner = DSSGDTurnRunner(network: network, training: sgd, configuration: dssgd)
    // DP-SGD: this participant's noise and charges, continued from the charges file (written
    // durably before every upload) after a restart.
    let chargesPath = run.url.appendingPathComponent(DPSGDChargesFile.fileName).path
    if let privateTrainer = runner.privateTrainer, let settings = dssgd.dpsgd {
      var state = try DPSGDState(
        trainer: privateTrainer, dimension: network.parameterCount, sampleCount: samples.count,
        noiseSource: settings.insecureSeededNoise ? .insecureSeeded(noiseSeeds.next()) : .secure)
      let saved: DPSGDCharges?
      do {
        saved = try DPSGDChargesFile.read(from: chargesPath)
      } catch {
        throw CLIError(
          "\(chargesPath) cannot be read (\(error)); restore it from a backup: the ε spent must "
            + "never be forgotten")
      }
      if let saved, !state.resume(from: saved) {
        throw CLIError(
          "\(chargesPath) holds DP-SGD charges made with other settings (q = \(saved.samplingRate), "
            + "σ charged \(saved.noiseMultiplier), \(saved.sampling.rawValue)); resume with the same "
            + "data, --batch-size and noise, or start a new --out")
      }
      participant.dpsgd = state
      runner.dpsgdCharged = { charges in
        do {
          try DPSGDChargesFile.write(charges, to: chargesPath)
        } catch {
          throw CLIError("cannot save the DP-SGD charges before uploading: \(error)")
        }
      }
    }
    runner.ledgerCharged = { ledger in
      do {
        try LedgerFile.write(ledger, to: ledgerPath)
      } catch {
        throw CLIError("cannot save the privacy ledger before uploading: \(error)")
      }
    }
    // Tests: die like kill -9 right after the upload of this round was acknowledged, before
    // the round's checkpoint (the window in which a ledger saved only with it would be lost).
    let crashAfterUpload = ProcessInfo.processInfo.environment["COLEARN_TEST_KILL_AFTER_UPLOAD"]
      .flatMap { Int($0) }
    // The test set is evaluated every --eval-every rounds: listed once for the fast first layer.
    let evaluator = Evaluator(spec)
    let preparedTest = evaluator.prepared(test)
    print(
      "colearn participate: \(displayName) → \(connection.server) (\(connection.insecure ? "plaintext" : "TLS")), "
        + "\(spec) (|w| = \(network.parameterCount)), \(samples.count) local samples, "
        + "θu = \(settings.uploadFraction), θd = \(settings.downloadFraction), \(order.rawValue), "
        + "M = \(sgd.batchSize), α = \(sgd.learningRate), server bounds \(client.bounds)"
        + (firstRound > 1 ? ", resuming at round \(firstRound)" : ""))
    for line in UploadPrivacy.statement(of: dssgd, delta: upload.common.delta, for: .participant) {
      print(line)
    }
    print("output: \(run.url.path)")
    fflush(nil)
    let lastRound = rounds.map { firstRound + $0 - 1 }
    let start = monotonicSeconds()
    var lastAccuracy: Double?
    var round = firstRound - 1
    var finished: RemoteServerError?
    var evaluatedRound = 0
    while round < lastRound ?? Int.max {
      round += 1
      let roundStart = monotonicSeconds()
      // A stream per round: a resumed participant shuffles as an uninterrupted one would.
      participant.generator = generator.derived(stream: 0x0010_0000 + UInt64(round))
      client.round = UInt64(round)
      do {
        try runner.takeTurn(&participant, server: client)
      } catch let error as RemoteServerError where error.isFinished {
        // The server's end: this round was not taken.
        finished = error
        round -= 1
        break
      } catch {
        throw CLIError("round \(round): \(error)")
      }
      if crashAfterUpload == round { kill(getpid(), SIGKILL) }
      let statistics = runner.takeStatistics()
      try ParticipantCheckpoint(
        round: round, stepCount: participant.model.stepCount,
        parameters: participant.model.parameters, ledger: participant.privacy?.ledger
      ).save(to: outPath)
      try run.writeModel(
        spec, parameters: participant.model.parameters, schema: loaded.schema,
        to: "model.safetensors", source: "colearn participate \(displayName), round \(round)")
      var row = [
        "\(round)", format(monotonicSeconds() - roundStart, 4),
        format(statistics.trainSeconds, 4), format(statistics.selectSeconds, 4),
        format(statistics.exchangeSeconds, 4), format(monotonicSeconds() - start, 3),
      ]
      if round % evalEvery == 0 || round == lastRound {
        let result = evaluator.evaluate(
          parameters: participant.model.parameters, on: preparedTest,
          batchSize: spec.evaluationBatchSize)
        let accuracy = result.accuracy
        lastAccuracy = accuracy
        reportToServer(
          client, round: round, result: result, examples: test.count, participant: participant)
        evaluatedRound = round
        row += [format(accuracy, 5), format(accuracy, 5), format(accuracy, 5), ""]
        print("round \(round)\(lastRound.map { "/\($0)" } ?? "")  accuracy \(format(100 * accuracy, 2))%  "
          + "(\(format(monotonicSeconds() - roundStart, 2)) s)")
        fflush(nil)
      } else {
        row += ["", "", "", ""]
      }
      row += [
        "\(statistics.uploadedParameters)", "\(statistics.uploadBytes)",
        "\(statistics.downloadedParameters)", "\(statistics.downloadBytes)",
      ]
      run.append(row: row)
    }
    if finished != nil, round >= firstRound, evaluatedRound != round {
      // The end came before this round's evaluation was due: the summary's accuracy is the
      // final local model's.
      lastAccuracy = evaluator.evaluate(
        parameters: participant.model.parameters, on: preparedTest,
        batchSize: spec.evaluationBatchSize
      ).accuracy
    }
    if let finished {
      print(
        "the federation has finished (\(finished)); "
          + "\(round - firstRound + 1) rounds taken in this run")
    }
    saveGlobalModel(
      client, spec: spec, schema: loaded.schema, run: run, rounds: round, name: displayName)
    try? client.leave()
    try run.writeJSON(
      ParticipantSummary(
        name: displayName, server: connection.server, rounds: round, finalAccuracy: lastAccuracy,
        federationFinished: finished != nil,
        wallSeconds: monotonicSeconds() - start,
        lastSequence: client.lastAcknowledgement?.sequenceNumber,
        privacyLedger: participant.privacy?.ledger),
      to: "summary.json")
    if let settings = dssgd.privacy {
      let report = PrivacyReport(settings: settings, selection: dssgd.selection)
      let ledger = report.ledger(
        for: [participant],
        capacity: fractionCount(dssgd.uploadFraction, of: network.parameterCount))
      print(report.table(ledger))  // its file is the durable ledger (LedgerFile)
    }
    if let settings = dssgd.dpsgd, let charges = participant.dpsgd?.charges {
      let ledger = try DPSGDLedger(
        learner: "colearn participate \(displayName)", charges: charges, privacy: settings.training,
        delta: upload.common.delta, secureNoise: !settings.insecureSeededNoise, scope: .dataset)
      try run.writeJSON(ledger, to: "privacy-ledger.json")
      print("privacy: \(ledger.summary), \(charges.steps) DP-SGD steps (privacy-ledger.json)")
    }
    print(
      "done: accuracy \(lastAccuracy.map { format(100 * $0, 2) + "%" } ?? "not evaluated"), "
        + "\(format(monotonicSeconds() - start, 1)) s"
        + (client.clippedUploads > 0
          ? ", \(client.clippedUploads) uploads clipped to the server's bounds" : ""))
  }


  /// The epochs a `--target-epsilon` budget covers: --rounds, which it therefore needs.
  private func budgetEpochs() throws -> Int {
    if let rounds { return rounds }
    if dp.targetEpsilon != nil {
      throw CLIError(
        "--target-epsilon needs --rounds: the budget is spread over a known number of epochs "
          + "(or give --noise-multiplier, and the ledger reports the ε spent)")
    }
    return 1
  }

  /// After the last round: downloads all of w_global (in a turn of its own under round-robin
  /// and random-order) and writes it as global-model.safetensors, the federation's model as
  /// this participant last saw it (its model.safetensors is its local model, which with θ_d < 1
  /// never holds all of w_global). Downloads cost no privacy budget: w_global is the server's,
  /// already public to every participant. A failure (the server stopped after its last round)
  /// is reported and loses nothing: the server keeps global-model.safetensors itself.
  private func saveGlobalModel(
    _ client: RemoteParameterServerClient, spec: ModelSpec, schema: DatasetSchema,
    run: RunDirectory, rounds: Int, name displayName: String
  ) {
    var global = [Float](repeating: 0, count: spec.parameterCount)
    do {
      // A finished federation serves its final model without a turn (and grants none).
      var holding = false
      do {
        try client.beginTurn()
        holding = true
      } catch let error as RemoteServerError where error.isFinished {}
      defer { if holding { try? client.endTurn() } }
      _ = try global.withUnsafeMutableBufferPointer { try client.download(fraction: 1, into: $0) }
      try run.writeModel(
        spec, parameters: global, schema: schema, to: "global-model.safetensors",
        source: "colearn participate \(displayName): w_global after round \(rounds)")
      print("global model: \(run.url.appendingPathComponent("global-model.safetensors").path)")
    } catch {
      print(
        "warning: the final global model was not saved (\(error)); the server's state directory "
          + "holds global-model.safetensors")
    }
    fflush(nil)
  }

  /// The model the server publishes at Join, checked against the identity it announced (a
  /// preset keeps its default dataset).
  static func publishedModel(of client: RemoteParameterServerClient) throws -> ModelSpec {
    let text = client.publishedModelFile
    let identity = client.serverConfiguration.model
    guard !text.isEmpty else {
      throw CLIError(
        "the server publishes no model file (an older colearn serve); start the participant "
          + "with --model \(identity.architecture.isEmpty ? "FILE" : identity.architecture)")
    }
    let spec: ModelSpec
    do {
      spec = try ModelFile.parse(text, file: "the server's model file")
    } catch {
      throw CLIError("\(error); run the same colearn version as the server")
    }
    guard spec.specificationHash == identity.specHash,
      UInt64(spec.parameterCount) == identity.parameterCount
    else {
      throw CLIError(
        "the server's model file (spec \(spec.specificationHash), |w| = \(spec.parameterCount)) "
          + "is not the model it announced (spec \(identity.specHash), |w| = "
          + "\(identity.parameterCount)); run the same colearn version as the server")
    }
    return spec.isPreset ? ModelSpec.preset(named: spec.name) ?? spec : spec
  }

  /// The schema to standardise with: the server's (a `--schema` of one's own must equal it),
  /// else `--schema`, else nil (fitted on the local data, with a warning for one's own data).
  func federationSchema(published: String, spec: ModelSpec) throws -> DatasetSchema? {
    var shared: DatasetSchema?
    if !published.isEmpty {
      do {
        shared = try DatasetSchema(json: Array(published.utf8), path: "the server's schema")
      } catch {
        throw CLIError("\(error); run the same colearn version as the server")
      }
    }
    if let path = source.schema {
      let mine: DatasetSchema
      do { mine = try DatasetSchema(contentsOfFile: path) } catch { throw CLIError("\(error)") }
      if let shared, mine.fingerprint != shared.fingerprint {
        throw CLIError(
          "--schema \(path) is not the schema the server publishes; they differ in\n  "
            + mine.differences(from: shared, here: "in yours", there: "on the server")
            .joined(separator: "\n  ")
            + "\nleave out --schema to use the server's")
      }
      return shared ?? mine
    }
    if shared == nil, (try? source.dataSource(for: spec).isBuiltIn) == false {
      FileHandle.standardError.write(
        Data(
          ("colearn participate: the server publishes no dataset schema, so this participant "
            + "standardises with statistics of its own data, which differ between institutions; "
            + "ask the operator to serve one (`colearn serve --schema`, see docs/DEPLOYMENT.md)\n")
            .utf8))
    }
    return shared
  }

}

/// The participant's token: the content of `tokenFile`, or else $COLEARN_TOKEN.
func readParticipantToken(tokenFile: String?) throws -> String {
  if let tokenFile {
    guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
      throw CLIError("cannot read --token-file \(tokenFile)")
    }
    let fields = text.split(whereSeparator: { $0.isWhitespace })
    switch fields.count {
    case 0: throw CLIError("--token-file \(tokenFile) is empty")
    case 1: return String(fields[0])
    // The `NAME TOKEN` line `colearn token add` prints, pasted as it is.
    case 2 where fields[1].hasPrefix("colearn_"): return String(fields[1])
    default:
      throw CLIError(
        "--token-file \(tokenFile): expected the token alone (colearn_ and 64 hex digits), or the "
          + "`NAME TOKEN` line `colearn token add` printed; found \(fields.count) words")
    }
  }
  if let token = ProcessInfo.processInfo.environment["COLEARN_TOKEN"], !token.isEmpty {
    return token
  }
  throw CLIError("give --token-file FILE or set COLEARN_TOKEN to the token the operator issued")
}

/// `I/N`: shard I (0-based) of N.
struct ShardSpec {
  var index: Int
  var count: Int

  init(parsing text: String) throws {
    let parts = text.split(separator: "/")
    guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1,
      (0..<count).contains(index)
    else {
      throw ValidationError("invalid --shard \"\(text)\": expected I/N with 0 ≤ I < N, e.g. 3/30")
    }
    self.index = index
    self.count = count
  }
}

/// What a participant saves after every round to resume after a restart.
struct ParticipantCheckpoint: Codable {
  var round: Int
  var stepCount: Int
  var parameters: [Float]
  var ledger: PrivacyLedger?

  static let fileName = "participant-state.json"

  func save(to directory: String) throws {
    let url = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName)
    do {
      try JSONEncoder().encode(self).write(to: url, options: .atomic)
    } catch {
      throw CLIError("cannot save the participant state to \(url.path): \(error.localizedDescription)")
    }
  }

  static func load(from directory: String, parameterCount: Int) throws -> ParticipantCheckpoint? {
    let url = URL(fileURLWithPath: directory).appendingPathComponent(fileName)
    guard let data = try? Data(contentsOf: url) else { return nil }
    guard let checkpoint = try? JSONDecoder().decode(ParticipantCheckpoint.self, from: data),
      checkpoint.parameters.count == parameterCount
    else {
      throw CLIError(
        "\(url.path) is damaged or of another model; move it away to start afresh (the server "
          + "keeps what was uploaded)")
    }
    return checkpoint
  }
}

struct ParticipantSummary: Encodable {
  var name: String
  var server: String
  /// The last round this participant took.
  var rounds: Int
  var finalAccuracy: Double?
  /// Whether the run ended because the server's federation finished (`serve --rounds`).
  var federationFinished: Bool
  var wallSeconds: Double
  var lastSequence: UInt64?
  var privacyLedger: PrivacyLedger?
}

/// A text file appended line by line, each line written through at once.
final class AppendOnlyLog: @unchecked Sendable {
  private let handle: FileHandle

  init(path: String, header: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: Data((header + "\n").utf8)) else {
        throw CLIError("cannot create \(path)")
      }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError("cannot open \(path)") }
    handle.seekToEndOfFile()
    self.handle = handle
  }

  func append(_ line: String) {
    handle.write(Data((line + "\n").utf8))
  }
}
