import ArgumentParser
import CoLearnDSSGD
import CoLearnData
import CoLearnModelIO
import CoLearnNN
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import Logging
import Synchronization

/// `colearn serve`: the parameter server of a real deployment, over gRPC (colearn.proto).
struct ServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract: "Run the parameter server of a DSSGD federation over gRPC (TLS, tokens, crash-safe).",
    discussion: """
      Participants (`colearn participate`) join with a token issued by `colearn token add` and \
      kept in --tokens as a salted hash. Every acknowledged upload is in the write-ahead log of \
      --state-dir first (fsync'ed, batched across concurrent uploads), and the state is \
      snapshotted as the log grows; restarting with the same --state-dir recovers it, even \
      after kill -9. SIGTERM or SIGINT stops gracefully: in-flight uploads finish, a final \
      snapshot is written, the exit status is 0. Logs are logfmt lines on standard error, \
      with a metrics line every --metrics-every seconds.

      One server per --state-dir (a lock file holds the pid of the server using it). A new \
      federation needs an empty or new --state-dir; an existing one is continued only when it \
      is complete and was created with the same --model, --participants, --upload-fraction, \
      --download-fraction, --stat-decay and --protocol (--allow-settings-change adopts new \
      ones, logged). A damaged write-ahead log stops the server with the offset and the \
      sequence numbers around the damage; --repair keeps every intact record, moves the \
      damaged log aside and logs the sequence numbers lost.

      The model (as a canonical model file) and the --schema are published at Join: a \
      participant started without --model trains the server's model, and standardises its \
      data with the schema, refusing data that does not match it.

      After every completed round and at shutdown the server saves w_global as \
      global-model.safetensors in --state-dir (with the model file and the schema; \
      `colearn predict --model-file` uses it), written atomically.

      Settings can also come from --config FILE (keys are the flag names without dashes).
      """)

  @Option(
    help: ArgumentHelp(
      "Model: a preset (mnist-mlp, svhn-mlp, mnist-cnn, svhn-cnn) or a model file.",
      valueName: "preset|file"),
    transform: ModelSpec.argument)
  var model: ModelSpec = .mnistMLP

  @Option(
    help: ArgumentHelp(
      "The dataset schema the federation shares (`colearn data describe --out`), published at "
        + "Join.", valueName: "file"))
  var schema: String?

  @Option(help: "HOST:PORT to listen on (port 0: any free port, printed at start).")
  var listen: String = "127.0.0.1:7443"

  @OptionGroup var security: ServerSecurityOptions

  @Option(name: .customLong("state-dir"), help: "Directory of the durable server state.")
  var stateDir: String

  @Option(help: "Number of participants N (a round is N uploads; at most N may join).")
  var participants: Int = 30

  @Option(name: .customLong("upload-fraction"), help: "θ_u: uploads carry at most ⌈θ_u·|w|⌉ entries.")
  var uploadFraction: Double = 0.1

  @Option(name: .customLong("download-fraction"), help: "θ_d: the default download fraction.")
  var downloadFraction: Double = 1

  @Option(name: .customLong("stat-decay"), help: "β: decay of the update counts once per round.")
  var statDecay: Float = 0.8

  @Option(name: .customLong("protocol"), help: "Exchange protocol: round-robin, random-order or async.")
  var order: ExchangeOrder = .roundRobin

  @Option(help: "Seed of the initial global parameters (participants use the same --seed).")
  var seed: UInt64 = 1

  @Option(name: .customLong("lease-seconds"), help: "The longest turn lease granted.")
  var leaseSeconds: Int = 600

  @Option(
    name: .customLong("max-message-bytes"),
    help: "Largest update or index list accepted (the default covers every colearn model).")
  var maxMessageBytes: Int = 4 << 20

  @Option(
    name: .customLong("max-update"),
    help: ArgumentHelp(
      "Largest |Δw_j| one upload may carry (default: 10 × the largest initial |w_j|).",
      discussion: "Announced at Join; participants clip to it, larger values are refused."))
  var maxUpdate: Float?

  @Option(
    name: .customLong("max-update-norm"),
    help: "Largest L2 norm of one upload (default: the L2 norm of the initial parameters).")
  var maxUpdateNorm: Double?

  @Option(
    name: .customLong("clip-to-median-norm"),
    help: ArgumentHelp(
      "K: scale an upload whose L2 norm exceeds K × the median of the last 64 down to that.",
      discussion: "A robust rule against poisoning (off by default); see docs/DEPLOYMENT.md."))
  var clipToMedianNorm: Double?

  @Option(
    help: ArgumentHelp(
      "Finish after this many rounds (default: serve until SIGTERM).",
      discussion: "Then turns and uploads are refused with OUT_OF_RANGE — the end signal: a "
        + "participant downloads the final global model (no turn needed) and exits 0 — and once "
        + "every participant has left, or --finish-grace seconds later, the server stops as on "
        + "SIGTERM, saving the global model."))
  var rounds: Int?

  @Option(
    name: .customLong("min-participants"),
    help: ArgumentHelp(
      "K: round 1 starts once K participants have joined (`colearn provision` sets all).",
      discussion: "Before that no turn is granted (under async, no download or upload accepted: "
        + "UNAVAILABLE, which participants retry); participants who join later take their turns "
        + "in join order from then on."))
  var minParticipants: Int = 1

  @Option(
    name: .customLong("eval-data"),
    help: ArgumentHelp(
      "Held-out data to evaluate w_global on after rounds: mnist, svhn, csv:FILE, npz:FILE, … "
        + "(its test part when it has one; standardised with --schema).", valueName: "spec"))
  var evalData: String?

  @Option(name: .customLong("eval-every"), help: "Evaluate w_global every this many rounds.")
  var evalEvery: Int = 1

  @OptionGroup var data: DataOptions

  @Option(
    help: ArgumentHelp(
      "The server's run record: config.json, metrics.csv (a row per round: participants, "
        + "uploads, bytes, global accuracy), summary.json (default: STATE-DIR/run).",
      valueName: "dir"))
  var out: String?

  @Option(
    name: .customLong("metrics-listen"),
    help: ArgumentHelp(
      "Serve Prometheus metrics at http://HOST:PORT/metrics (plain HTTP, counters only: keep it "
        + "on an internal network).", valueName: "host:port"))
  var metricsListen: String?

  @Option(
    name: .customLong("finish-grace"),
    help: "Seconds the finished federation keeps serving downloads of the final model.")
  var finishGrace: Int = 30

  @Option(name: .customLong("snapshot-mb"), help: "Snapshot once the write-ahead log exceeds this size.")
  var snapshotMB: Int = 64

  @Flag(
    help: "Recover from a damaged write-ahead log: keep every intact record, move the damaged log aside, log the sequence numbers lost.")
  var repair = false

  @Flag(
    name: .customLong("allow-settings-change"),
    help: "Continue a --state-dir created with other federation settings, adopting these (logged).")
  var allowSettingsChange = false

  @Option(name: .customLong("metrics-every"), help: "Seconds between metrics log lines.")
  var metricsEvery: Int = 30

  @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
  var logLevel: Logger.Level = .info

  func validate() throws {
    do {
      _ = try DSSGDConfiguration(
        participants: participants, uploadFraction: uploadFraction,
        downloadFraction: downloadFraction, selection: .largest, threshold: 0, bound: nil,
        statDecay: statDecay, order: order, staleProbability: 0, privacy: nil)
    } catch {
      throw ValidationError("\(error)")
    }
    _ = try HostPort(parsing: listen, flag: "listen")
    try requireAtLeast(1, leaseSeconds, flag: "lease-seconds")
    try requireAtLeast(1024, maxMessageBytes, flag: "max-message-bytes")
    let bounds = [(maxUpdate.map(Double.init), "max-update"), (maxUpdateNorm, "max-update-norm")]
    for (value, flag) in bounds {
      if let value, !(value > 0 && value.isFinite && Float(value).isFinite) {
        throw ValidationError("--\(flag) must be a positive finite number, got \(value)")
      }
    }
    if let clipToMedianNorm, !(clipToMedianNorm > 0 && clipToMedianNorm.isFinite) {
      throw ValidationError(
        "--clip-to-median-norm must be a positive finite number, got \(clipToMedianNorm)")
    }
    try requireAtLeast(1, snapshotMB, flag: "snapshot-mb")
    try requireAtLeast(1, rounds, flag: "rounds")
    try requireAtLeast(1, minParticipants, flag: "min-participants")
    try requireAtLeast(0, finishGrace, flag: "finish-grace")
    try requireAtLeast(1, evalEvery, flag: "eval-every")
    if let metricsListen { _ = try HostPort(parsing: metricsListen, flag: "metrics-listen") }
    if let evalData {
      do {
        _ = try DataSource(parsing: evalData)
      } catch {
        throw ValidationError("invalid --eval-data '\(evalData)': \(error)")
      }
    }
    if minParticipants > participants {
      throw ValidationError(
        "--min-participants \(minParticipants) is more than --participants \(participants): round 1 could never start")
    }
    try requireAtLeast(1, metricsEvery, flag: "metrics-every")
  }

  func run() async throws {
    let logger = makeLogger("colearn.serve", level: logLevel)
    let shared = try schema.map(loadSchema)
    let network = model.makeNetwork()
    var generator = SeededGenerator(seed: seed)
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    let derived = UpdateBounds.defaults(initialParameters: initial)
    let bounds = UpdateBounds(
      maxValue: maxUpdate ?? derived.maxValue, maxNorm: maxUpdateNorm ?? derived.maxNorm)
    let settings = FederationSettings(
      model: model.identity(parameterCount: network.parameterCount),
      downloadFraction: downloadFraction, uploadFraction: uploadFraction, statDecay: statDecay,
      order: order, participants: participants,
      maxLeaseMilliseconds: UInt32(min(leaseSeconds, Int(UInt32.max / 1000)) * 1000),
      maxMessageBytes: maxMessageBytes, updateBounds: bounds, medianNormFactor: clipToMedianNorm,
      modelFile: ModelFile.canonicalText(of: model),
      datasetSchema: shared.map { String(decoding: $0.canonicalJSON(), as: UTF8.self) } ?? "",
      minimumParticipants: minParticipants, rounds: rounds.map(UInt64.init))
    let authenticator: TokenAuthenticator
    let store: DurableParameterServer
    do {
      authenticator = try TokenAuthenticator(path: security.tokens)
      store = try DurableParameterServer(
        directory: stateDir,
        initial: ParameterServerState(parameters: initial, statDecay: statDecay),
        uploadsPerRound: participants,
        options: StateOpenOptions(
          settings: recordedSettings(settings, schema: shared), allowSettingsChange: allowSettingsChange,
          repair: repair))
    } catch {
      throw CLIError("\(error)")
    }
    for line in store.recovery.lines {
      logger.warning("state directory", metadata: ["state_dir": "\(stateDir)", "action": "\(line)"])
    }
    if repair, store.recovery.damagedLogMovedTo == nil {
      logger.notice("--repair: the write-ahead log has no damage, nothing was changed")
    }
    if store.sequence > 0 {
      logger.info(
        "recovered state",
        metadata: [
          "state_dir": "\(stateDir)", "sequence": "\(store.sequence)",
          "rounds": "\(store.roundsCompleted)",
          "participants": .string(
            store.participants.values.sorted { $0.name < $1.name }
              .map { "\($0.name):\($0.lastRound)" }.joined(separator: ",")),
        ])
    }
    let modelPath = stateDir + "/" + Self.globalModelName
    // A kill mid-write leaves the previous model file whole and a temporary one beside it.
    for name in (try? FileManager.default.contentsOfDirectory(atPath: stateDir)) ?? []
    where name.hasPrefix(Self.globalModelName + ".partial-") {
      try? FileManager.default.removeItem(atPath: stateDir + "/" + name)
      logger.notice("removed an unfinished model file", metadata: ["file": "\(name)"])
    }
    let model = self.model
    let saveGlobalModel: @Sendable ([Float], UInt64, String) -> Void = { parameters, rounds, when in
      let saved = SavedModel(
        spec: model, schema: shared, parameters: parameters,
        information: ["source": "colearn serve: w_global \(when) (\(rounds) rounds completed)"])
      do {
        try saved.write(toPath: modelPath)
      } catch {
        logger.error("cannot save the global model", metadata: ["error": "\(error)"])
      }
    }
    if let rounds, store.roundsCompleted >= UInt64(rounds) {
      saveGlobalModel(store.readAll().0, store.roundsCompleted, "at shutdown")
      print("done: all \(rounds) rounds were completed before; global model in \(modelPath)")
      return
    }
    let lastRound = rounds.map(UInt64.init)
    let grace = Duration.seconds(finishGrace)
    let stopper = HostStopper()
    let roster = ParticipantRoster()
    let record = try ServerRunRecord(
      path: out ?? stateDir + "/run",
      configuration: ServerRunConfiguration(
        model: "\(model)", participants: participants, minimumParticipants: minParticipants,
        rounds: rounds, uploadFraction: uploadFraction, downloadFraction: downloadFraction,
        statDecay: statDecay, protocol: order.rawValue, evalData: evalData, evalEvery: evalEvery),
      evaluation: try evaluation(schema: shared), roster: roster,
      resumingAfter: store.sequence > 0 ? store.roundsCompleted : nil)
    defer { record.close() }
    let federation = Federation(
      settings: settings, store: store, logger: logger, snapshotLogBytes: snapshotMB << 20,
      roster: roster,
      roundCompleted: { parameters, rounds in
        saveGlobalModel(parameters, rounds, "after a completed round")
        if let metrics = stopper.host.withLock({ $0?.federation.metrics }) {
          record.record(rounds: rounds, parameters: parameters, metrics: metrics)
        }
        if let lastRound, rounds >= lastRound {
          logger.notice("all rounds complete, stopping", metadata: ["rounds": "\(rounds)"])
          // The participants learn the end from their next call, download the final model and
          // leave; then (or after the grace) a graceful stop.
          stopper.stopWhenEveryoneLeft(grace: grace)
        }
      })
    let address = try HostPort(parsing: listen, flag: "listen")
    let host = ParameterServerHost(
      federation: federation, authenticator: authenticator,
      listen: ListenConfiguration(
        host: address.host, port: address.port,
        tls: security.tls,
        maxRequestBytes: maxMessageBytes + ListenConfiguration.requestEnvelopeBytes),
      logger: logger, metricsInterval: .seconds(metricsEvery))
    stopper.host.withLock { $0 = host }
    var endpoint: MetricsEndpoint?
    if let metricsListen {
      let address = try HostPort(parsing: metricsListen, flag: "metrics-listen")
      do {
        endpoint = try await MetricsEndpoint.start(host: address.host, port: address.port) {
          host.metrics
        }
      } catch {
        throw CLIError("cannot listen on --metrics-listen \(metricsListen): \(error)")
      }
      print("metrics on http://\(address.host):\(endpoint?.port ?? address.port)/metrics")
    }
    defer { endpoint?.stop() }
    do {
      try await host.serve { port in
        // One plain line on standard output for scripts waiting for the server.
        print("listening on \(address.host):\(port)")
        fflush(nil)
      }
    } catch let error as ServeError {
      throw CLIError(error.description)
    }
    saveGlobalModel(store.readAll().0, store.roundsCompleted, "at shutdown")
    logger.info("global model saved", metadata: ["path": "\(modelPath)"])
  }

  /// The operator's deliverable in --state-dir: w_global with the model file and the schema,
  /// after every completed round and at shutdown.
  static let globalModelName = "global-model.safetensors"

  /// The `--eval-data` samples (the test part when there is one), standardised with the
  /// federation's schema and checked against the model; nil without --eval-data.
  private func evaluation(schema: DatasetSchema?) throws -> ServerRunRecord.Evaluation? {
    guard let evalData else { return nil }
    let loaded: LoadedSource
    do {
      loaded = try LoadedSource.load(
        DataSource(parsing: evalData), schema: schema, dataDirectory: data.dataDirectory,
        requiresTestSet: false)
    } catch {
      throw CLIError("--eval-data \(evalData): \(error)")
    }
    let samples = loaded.test.count > 0 ? loaded.test : loaded.train
    guard samples.sampleShape == model.inputShape.dimensions, samples.classCount == model.classCount
    else {
      throw CLIError(
        "--eval-data \(evalData) has samples of "
          + "\(samples.sampleShape.map(String.init).joined(separator: "×")) in "
          + "\(samples.classCount) classes; the model takes \(model.inputShape) in \(model.classCount)")
    }
    return ServerRunRecord.Evaluation(
      network: model.makeNetwork(), samples: samples.labeledSamples,
      batchSize: model.evaluationBatchSize, every: evalEvery, source: evalData)
  }

  /// The `--schema` file, checked against the model (input shape and classes).
  private func loadSchema(_ path: String) throws -> DatasetSchema {
    let schema: DatasetSchema
    do {
      schema = try DatasetSchema(contentsOfFile: path)
    } catch {
      throw CLIError("\(error)")
    }
    try checkModel(model, fits: schema, of: "--schema \(path)")
    return schema
  }
}

/// The federation settings recorded with its state: a restart with others is refused unless
/// --allow-settings-change (the model never changes). The schema is recorded by its
/// fingerprint, and only when there is one (state directories from before --schema have none).
func recordedSettings(_ settings: FederationSettings, schema: DatasetSchema? = nil)
  -> StateSettings
{
  var recorded = StateSettings(
    values: [
      "model": settings.model.architecture,
      "model-hash": settings.model.specificationHash,
      "participants": "\(settings.participants)",
      "upload-fraction": "\(settings.uploadFraction)",
      "download-fraction": "\(settings.downloadFraction)",
      "stat-decay": "\(settings.statDecay)",
      "protocol": settings.order.rawValue,
    ],
    fixed: ["model", "model-hash"])
  if let schema { recorded.values["schema"] = schema.fingerprint }
  return recorded
}

/// Stops a server that is not built yet when the closure that will stop it is made.
final class HostStopper: Sendable {
  let host = Mutex<ParameterServerHost?>(nil)

  /// Stops the host (gracefully) once no participant is joined any more, or after `grace`
  /// (checked every 200 ms, after at least 200 ms for the last Unlock).
  func stopWhenEveryoneLeft(grace: Duration) {
    Task.detached { [self] in
      let deadline = ContinuousClock.now + grace
      repeat {
        try? await Task.sleep(for: .milliseconds(200))
        let joined = host.withLock { $0?.federation.metrics.participantsJoined } ?? 0
        if joined == 0 { break }
      } while ContinuousClock.now < deadline
      host.withLock { $0?.stop() }
    }
  }
}

/// HOST:PORT (IPv6 in brackets: [::1]:7443).
struct HostPort: Sendable, Equatable {
  var host: String
  var port: Int

  init(parsing text: String, flag: String) throws {
    let bad = ValidationError(
      "invalid --\(flag) \"\(text)\": expected HOST:PORT, e.g. 127.0.0.1:7443 or [::1]:7443")
    let host: Substring
    let portText: Substring
    if text.hasPrefix("[") {
      guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":")
      else { throw bad }
      host = text[text.index(after: text.startIndex)..<close]
      portText = text[text.index(close, offsetBy: 2)...]
    } else {
      guard let colon = text.lastIndex(of: ":") else { throw bad }
      host = text[..<colon]
      portText = text[text.index(after: colon)...]
    }
    guard !host.isEmpty, let port = Int(portText), (0...65535).contains(port) else { throw bad }
    self.host = String(host)
    self.port = port
  }
}

extension ModelSpec {
  /// What identifies this model on the wire (SPEC §10).
  func identity(parameterCount: Int) -> ModelIdentity {
    ModelIdentity(
      architecture: name, specificationHash: specificationHash, parameterCount: parameterCount)
  }
}

/// The server's settings in its run record's config.json.
struct ServerRunConfiguration: Encodable {
  var command = "colearn serve"
  var model: String
  var participants: Int
  var minimumParticipants: Int
  var rounds: Int?
  var uploadFraction: Double
  var downloadFraction: Double
  var statDecay: Float
  var `protocol`: String
  var evalData: String?
  var evalEvery: Int
}
