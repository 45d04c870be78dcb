import ArgumentParser
import CoLearnNN
import CoLearnRPC
import CoLearnSplit
import CoLearnTensor
import CoLearnWire
import Foundation
import Logging

/// `colearn split serve`: the coordinator of networked split learning (split.proto).
struct SplitServeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "serve",
    abstract:
      "Run the coordinator of differentially private split learning over gRPC (TLS, tokens).",
    discussion: """
      Holds the dense back of the split network and trains it on the noised, batch-normalised \
      features and the labels participants (`colearn split participate`) send, returning the \
      feature gradient. Participants take turns round-robin in the order they joined, once \
      --participants have joined; a vanished participant loses its turn when its lease expires. \
      Front updates travel between participants through the coordinator sealed with their \
      shared federation key (AES-256-GCM): the coordinator stores and relays them without being \
      able to read them. Tokens are those of `colearn token add`; logs are logfmt lines on \
      standard error, with per-participant lines of what the coordinator received. SIGTERM or \
      SIGINT stops gracefully (exit status 0). With --epochs the coordinator sets the epochs \
      of every participant and stops by itself once all have finished and downloaded the back \
      (or --finish-grace seconds after the last finished). The run record (--out) has a row \
      per epoch. With --state-dir every change (the back after each step, joins, relayed \
      front updates, finishes) is appended to a write-ahead log and fsync'ed before it is \
      answered, and compacted into a snapshot as the log grows: a coordinator restarted on the \
      same --state-dir (with the same settings; others are refused, naming them) resumes the \
      back, its step count, the members, the relay, the epoch ledger and the run record, and \
      participants carry on with their tokens. Without --state-dir the state is in memory \
      only: a restarted coordinator starts a new federation.
      """)

  @Option(help: "HOST:PORT to listen on (port 0: any free port, printed at start).")
  var listen: String = "127.0.0.1:7444"

  @OptionGroup var security: ServerSecurityOptions

  @Option(help: "Number of participants N (turns start once N have joined; at most N may join).")
  var participants: Int = 3

  @Option(name: .customLong("batch-size"), help: "The largest batch B a step may carry.")
  var batchSize: Int = 64

  @Option(
    help:
      "Learning rate α of the back (and of the fronts: participants use the rate each step returns)."
  )
  var lr: Float = 0.01

  @Option(name: .customLong("lr-decay"), help: "Torch7 learning-rate decay d: α_t = α / (1 + t·d).")
  var lrDecay: Float = 1e-7

  @Option(help: "Seed of the back's initial parameters.")
  var seed: UInt64 = 1

  @Option(
    help: "Epochs every participant trains (announced at Join); the coordinator then stops by itself at the end.")
  var epochs: Int?

  @Option(
    name: .customLong("finish-grace"),
    help: "With --epochs: seconds to wait for the back downloads after everyone finished.")
  var finishGrace: Int = 30

  @Option(help: "The run record: config.json, metrics.csv (a row per epoch), summary.json.")
  var out: String = "runs/split-serve"

  @Option(
    name: .customLong("state-dir"),
    help: "Directory of the durable coordinator state (resumed on restart; default: none).")
  var stateDir: String?

  @Option(help: "Threads for the linear algebra (default: all cores).")
  var threads: Int?

  @Option(name: .customLong("lease-seconds"), help: "The longest turn lease granted.")
  var leaseSeconds: Int = 60

  @Option(name: .customLong("metrics-every"), help: "Seconds between metrics log lines.")
  var metricsEvery: Int = 30

  @Option(
    name: .customLong("log-level"),
    help: "trace, debug (one line per step), info, notice, warning, error or critical.")
  var logLevel: Logger.Level = .info

  func validate() throws {
    _ = try HostPort(parsing: listen, flag: "listen")
    do {
      _ = try SplitConfiguration(
        participants: participants, batchSize: batchSize, learningRate: lr,
        learningRateDecay: lrDecay, epsilon: nil)
    } catch {
      throw ValidationError(error.description)
    }
    try requireAtLeast(1, threads, flag: "threads")
    try requireAtLeast(1, leaseSeconds, flag: "lease-seconds")
    try requireAtLeast(1, epochs, flag: "epochs")
    try requireAtLeast(0, finishGrace, flag: "finish-grace")
    try requireAtLeast(1, metricsEvery, flag: "metrics-every")
  }

  func run() async throws {
    BLAS.setThreadCount(threads ?? ProcessInfo.processInfo.activeProcessorCount)
    let logger = makeLogger("colearn.split.serve", level: logLevel)
    let architecture = SplitArchitecture.paper
    let backNetwork = architecture.makeBack()
    var back = [Float](repeating: 0, count: backNetwork.parameterCount)
    var generator = SeededGenerator(seed: seed)
    backNetwork.initialize(&back, using: &generator)
    let frontCount = architecture.makeFront().parameterCount
    let settings = SplitFederationSettings(
      model: architecture.identity, participants: participants,
      featureSize: architecture.featureShape.count, classCount: architecture.classCount,
      maxBatchSize: batchSize, learningRate: lr, learningRateDecay: lrDecay,
      frontParameterCount: frontCount, backParameterCount: backNetwork.parameterCount,
      maxLeaseMilliseconds: UInt32(min(leaseSeconds, Int(UInt32.max / 1000)) * 1000),
      epochs: epochs)
    let authenticator: TokenAuthenticator
    let store: SplitCoordinatorStore?
    do {
      authenticator = try TokenAuthenticator(path: security.tokens)
      store = try stateDir.map { directory throws(SplitStateError) in
        try SplitCoordinatorStore(
          directory: directory,
          initial: SplitCoordinatorState(back: back, participants: participants),
          settings: recordedSettings(settings, seed: seed), maxSealedBytes: settings.maxSealedUpdateBytes)
      }
    } catch {
      throw CLIError("\(error)")
    }
    let resumed = store.map { $0.recovered.events > 0 } ?? false
    if let store, let stateDir {
      for line in store.recoveryLines {
        logger.warning("state directory", metadata: ["state_dir": "\(stateDir)", "action": "\(line)"])
      }
      if resumed {
        let state = store.recovered
        logger.info(
          "recovered state",
          metadata: [
            "state_dir": "\(stateDir)", "steps": "\(state.steps)",
            "sequence": "\(state.lastSequence)", "epochs": "\(state.completedEpochs.count)",
            "participants": .string(state.members.map(\.name).joined(separator: ",")),
            "finished": "\(state.members.filter(\.finished).count)",
          ])
      }
    }
    let record = try SplitServerRecord(
      path: out,
      configuration: SplitServerRecord.Configuration(
        model: "\(settings.model)", participants: participants, epochs: epochs,
        maxBatchSize: batchSize, learningRate: lr, learningRateDecay: lrDecay, seed: seed),
      resuming: resumed ? store?.recovered.completedEpochs : nil)
    defer { record.close() }
    let federation = SplitFederation(
      settings: settings, architecture: architecture, backParameters: back, logger: logger,
      store: store,
      epochCompleted: { epoch in
        record.record(epoch)
        logger.info(
          "epoch complete",
          metadata: [
            "epoch": "\(epoch.epoch)", "steps": "\(epoch.steps)", "train_loss": "\(epoch.meanLoss)",
          ])
      })
    let address = try HostPort(parsing: listen, flag: "listen")
    let listenConfiguration = ListenConfiguration(
      host: address.host, port: address.port, tls: security.tls,
      maxRequestBytes: 16 << 20)
    let host = RPCServerHost(
      services: [SplitCoordinatorService(federation: federation)], authenticator: authenticator,
      listen: listenConfiguration, logger: logger, metricsInterval: .seconds(metricsEvery),
      hooks: RPCServerHost.Hooks(
        servingMetadata: {
          [
            "model": "\(settings.model)", "participants": "\(settings.participants)",
            "max_batch": "\(settings.maxBatchSize)", "lr": "\(settings.learningRate)",
          ]
        },
        logMetrics: {
          let status = federation.status()
          logger.info(
            "metrics",
            metadata: [
              "participants": "\(status.participantsJoined)",
              "finished": "\(status.participantsFinished)", "steps": "\(status.steps)",
              "sequence": "\(status.sequenceNumber)", "refused": "\(status.refusedSteps)",
              "lease_holder": "\(status.leaseHolder)",
            ])
          federation.logReceipts()
        },
        stopWaiting: { federation.stopWaiting() },
        finish: {
          federation.logReceipts()
          do {
            // The next start then replays nothing.
            try store?.snapshot()
          } catch {
            logger.error("cannot snapshot the state directory", metadata: ["error": "\(error)"])
          }
          logger.info("stopped", metadata: ["steps": "\(federation.status().steps)"])
        }))
    if epochs != nil {
      // The end: everyone finished and fetched the back (or the grace passed since they finished).
      let grace = Duration.seconds(finishGrace)
      Task.detached {
        var finishedAt: ContinuousClock.Instant?
        while !Task.isCancelled {
          try? await Task.sleep(for: .milliseconds(200))
          if federation.isComplete { break }
          if federation.allFinished {
            finishedAt = finishedAt ?? .now
            if let finishedAt, ContinuousClock.now - finishedAt >= grace { break }
          }
        }
        logger.notice("every participant has finished: stopping")
        host.stop()
      }
    }
    do {
      try await host.serve { port in
        print("listening on \(address.host):\(port)")
        fflush(nil)
      }
    } catch let error as ServeError {
      throw CLIError(error.description)
    }
  }
}

/// `colearn split keygen`: a new federation key for the participants (never the coordinator).
struct SplitKeygenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "keygen",
    abstract: "Create a federation key: 32 random bytes the participants share out of band.",
    discussion: """
      Writes 64 hexadecimal digits to --out (mode 0600; an existing file is never \
      overwritten). Give the same file to every participant (--key) over a secure channel, and \
      never to the coordinator: it seals the front updates the participants relay through the \
      coordinator and seeds the initial front.
      """)

  @Option(help: "The key file to create.")
  var out: String

  func run() throws {
    guard !FileManager.default.fileExists(atPath: out) else {
      throw CLIError("--out \(out) exists; colearn never overwrites a key (remove it first)")
    }
    let key = FederationKey.generate()
    guard
      FileManager.default.createFile(
        atPath: out, contents: Data((key.hexadecimal + "\n").utf8),
        attributes: [.posixPermissions: 0o600])
    else {
      throw CLIError("cannot write \(out): check that the directory exists and is writable")
    }
    print(
      "wrote a federation key to \(out): give it to every participant (--key), never to the coordinator"
    )
  }
}

/// What identifies a split federation, recorded in its state directory: a restart with any
/// other value is refused (the back, its step count and the ledger mean nothing under others).
func recordedSettings(_ settings: SplitFederationSettings, seed: UInt64) -> [String: String] {
  [
    "model": settings.model.architecture, "model-hash": settings.model.specificationHash,
    "participants": "\(settings.participants)", "batch-size": "\(settings.maxBatchSize)",
    "lr": "\(settings.learningRate)", "lr-decay": "\(settings.learningRateDecay)",
    "seed": "\(seed)", "epochs": settings.epochs.map { "\($0)" } ?? "none",
  ]
}

extension SplitArchitecture {
  /// What identifies the split network on the wire: coordinator and participants must agree.
  var identity: ModelIdentity {
    ModelIdentity(
      architecture: Self.paperName, specificationHash: specificationHash,
      parameterCount: makeFront().parameterCount + makeBack().parameterCount)
  }
}
