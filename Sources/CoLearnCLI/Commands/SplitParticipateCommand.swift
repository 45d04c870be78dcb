import ArgumentParser
import CoLearnNN
import CoLearnPrivacy
import CoLearnRPC
import CoLearnSplit
import CoLearnTensor
import Foundation

/// `colearn split participate`: one institution's participant in networked split learning.
/// Its samples, front weights and front gradients never reach the coordinator: only noised
/// features, labels and sealed front updates do.
struct SplitParticipateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "participate",
    abstract:
      "Take part in split learning served by `colearn split serve`, training on local data.",
    discussion: """
      Each turn: fetch and apply the other participants' front updates (sealed with the \
      federation key of --key, relayed by the coordinator), run the front on the next \
      mini-batch, add Laplace noise of scale S/ε (S = 2·√(B−1)) to every batch-normalised \
      feature, send features and labels (in the clear) to the coordinator, back-propagate the \
      gradient it returns through the front, seal the front update and publish it. After \
      --epochs, waits for the other participants, applies the last updates, downloads the \
      coordinator's back and classifies the test set locally. Writes config.json, metrics.csv, \
      audit.csv (one row per step: what was sent and under which privacy parameters, with the \
      sealed update's size), privacy.json (what ε bounds — per crossing — and what crossed \
      without noise: the labels and the front updates) and summary.json (with a hash of the \
      final front: equal on every participant) to --out.
      """)

  @OptionGroup var data: DataOptions

  @OptionGroup var connection: ServerConnectionOptions

  @Option(
    help: "The federation key file (`colearn split keygen`), shared by the participants only.")
  var key: String

  @Option(help: "This participant's display name (default: the host name).")
  var name: String?

  @Option(
    help:
      "Use only the IID shard I/N of the training set (as `split simulate --participants N` with the same --seed)."
  )
  var shard: String?

  @Option(
    name: .customLong("shard-size"),
    help: "Samples per shard with --shard (default: the training set split evenly).")
  var shardSize: Int?

  @Option(
    help: """
      ε of every value sent. The default, inf, adds NO noise: the features reach the \
      coordinator as computed (no formal guarantee).
      """)
  var epsilon: String = "inf"

  @Option(name: .customLong("batch-size"), help: "Mini-batch size B (at most the coordinator's).")
  var batchSize: Int = 64

  @Option(help: "Epochs over the local data (default: the coordinator's --epochs, else 5).")
  var epochs: Int?

  @Option(help: "Seed of the shard choice and the sample order (and of --insecure-seeded-noise).")
  var seed: UInt64 = 1

  @Option(help: "Threads for the linear algebra (default: all cores).")
  var threads: Int?

  @Flag(
    name: .customLong("insecure-seeded-noise"),
    help: "Seeded privacy noise: NOT differentially private.")
  var insecureSeededNoise = false

  @Option(name: .customLong("train-limit"), help: "Use only the first N training samples.")
  var trainLimit: Int?

  @Option(name: .customLong("test-limit"), help: "Evaluate on only the first N test samples.")
  var testLimit: Int?

  @Option(name: .customLong("lease-seconds"), help: "Lease asked for per turn.")
  var leaseSeconds: Int = 60

  @Option(
    name: .customLong("retry-seconds"),
    help: "How long to keep retrying an unreachable coordinator.")
  var retrySeconds: Int = 120

  @Option(
    name: .customLong("wait-seconds"), help: "How long to wait for the others after the last epoch."
  )
  var waitSeconds: Int = 3600

  @Option(help: "δ′ of the advanced-composition totals in privacy.json.")
  var delta: Double = 1e-5

  @Option(help: "Output directory (default: runs/split-participate-NAME).")
  var out: String?

  func parsedEpsilon() throws -> Double? {
    let word = epsilon.trimmingCharacters(in: .whitespaces).lowercased()
    if ["inf", "infinity", "∞", "none"].contains(word) { return nil }
    guard let value = Double(word), value > 0, value.isFinite else {
      throw ValidationError("invalid --epsilon \(epsilon): expected a number above 0, or inf")
    }
    let smallest = SplitFederationSettings.smallestEpsilon
    guard value >= smallest else {
      throw ValidationError(
        "invalid --epsilon \(epsilon): the coordinator refuses steps below ε = \(smallest) "
          + "(noise that large drowns the features)")
    }
    return value
  }

  func validate() throws {
    if let shard { _ = try ShardSpec(parsing: shard) }
    guard delta > 0, delta < 1 else {
      throw ValidationError("invalid --delta \(delta): expected a number between 0 and 1")
    }
    let value = try parsedEpsilon()
    if insecureSeededNoise, value == nil {
      throw ValidationError(
        "--insecure-seeded-noise needs a finite --epsilon: ε = inf adds no noise")
    }
    try requireAtLeast(2, batchSize, flag: "batch-size")
    try requireAtLeast(1, epochs, flag: "epochs")
    try requireAtLeast(2, shardSize, flag: "shard-size")
    try requireAtLeast(1, trainLimit, flag: "train-limit")
    try requireAtLeast(1, testLimit, flag: "test-limit")
    try requireAtLeast(1, threads, flag: "threads")
    try requireAtLeast(1, leaseSeconds, flag: "lease-seconds")
    try requireAtLeast(0, retrySeconds, flag: "retry-seconds")
    try requireAtLeast(1, waitSeconds, flag: "wait-seconds")
  }

  func run() throws {
    let threads = threads ?? ProcessInfo.processInfo.activeProcessorCount
    BLAS.setThreadCount(threads)
    let epsilon = try parsedEpsilon()
    let token = try connection.token()
    let federationKey = try readKey()
    let displayName = name ?? ProcessInfo.processInfo.hostName
    let address = try connection.address()
    let shardSpec = try shard.map { try ShardSpec(parsing: $0) }
    let splitData = try loadSplitData(
      dataDir: data.dataDir, trainLimit: trainLimit, testLimit: testLimit,
      participants: shardSpec?.count ?? 1, shardSize: shardSize, seed: seed)
    let samples = splitData.shards[shardSpec?.index ?? 0]
    guard samples.count >= 2 else {
      throw CLIError("the shard has \(samples.count) samples; split learning needs at least 2")
    }

    let architecture = SplitArchitecture.paper
    let client: RemoteSplitCoordinatorClient
    do {
      client = try RemoteSplitCoordinatorClient(
        endpoint: RPCEndpoint(
          host: address.host, port: address.port,
          tls: connection.tls, token: token),
        participantName: displayName, model: architecture.identity,
        leaseMilliseconds: UInt32(min(leaseSeconds, 4_000_000) * 1000),
        retryFor: .seconds(retrySeconds))
    } catch {
      throw CLIError("\(error)")
    }
    defer { client.close() }
    client.onRetry = { line in FileHandle.standardError.write(Data("retry: \(line)\n".utf8)) }
    let coordinator = client.configuration
    // Epochs are the coordinator's when it sets them (`split serve --epochs`).
    let epochs: Int
    switch (coordinator.epochs, self.epochs) {
    case (0, let mine): epochs = mine ?? 5
    case (let theirs, nil): epochs = Int(theirs)
    case (let theirs, let mine?) where Int(theirs) == mine: epochs = mine
    case (let theirs, let mine?):
      throw CLIError(
        "--epochs \(mine), but the coordinator runs \(theirs) epochs for everyone: drop --epochs "
          + "(or give \(theirs))")
    }
    guard batchSize <= Int(coordinator.maxBatchSize) else {
      throw CLIError(
        "--batch-size \(batchSize) exceeds the coordinator's largest batch "
          + "\(coordinator.maxBatchSize); choose at most that")
    }
    let front = SplitFront(
      architecture: architecture,
      parameters: SplitFront.initialParameters(architecture: architecture, key: federationKey),
      capacity: batchSize + 1)
    let backNetwork = architecture.makeBack()
    let outPath = out ?? "runs/split-participate-\(displayName)"
    let run = try RunDirectory(
      path: outPath,
      columns: [
        "epoch", "seconds", "elapsed_seconds", "steps", "train_loss", "train_accuracy",
        "test_loss", "test_accuracy", "values_sent", "sealed_bytes_sent", "updates_applied",
      ])
    defer { run.close() }
    let audit = try SplitAudit(
      directory: run.url, dumpValues: false,
      extraColumns: ["sealed_update_bytes", "relay_sequence"])
    defer { audit.close() }
    let noise: NoiseSource = insecureSeededNoise ? .insecureSeeded(seed ^ 0x4E01_5E) : .secure
    try run.writeJSON(
      SplitParticipantRecord.Configuration(
        command: "split participate", server: connection.server, tls: !connection.insecure, name: displayName,
        epsilon: SplitSimulateCommand.name(epsilon), batchSize: batchSize, epochs: epochs,
        seed: seed, shard: shard ?? "all", samples: samples.count,
        testSamples: splitData.test.count,
        model: "\(architecture.identity)", frontParameters: front.network.parameterCount,
        backParameters: backNetwork.parameterCount, featureSize: front.featureSize,
        coordinatorLearningRate: coordinator.learningRate,
        noise: epsilon == nil ? "none (ε = inf)" : noise.description,
        sentToCoordinator: SplitParticipantRecord.sentToCoordinator),
      to: "config.json")
    print(
      "colearn split participate: \(displayName), \(samples.count) samples, B = \(batchSize), "
        + "ε = \(SplitSimulateCommand.name(epsilon)), \(epochs) epochs → \(run.url.path)")
    for line in SplitSimulateCommand.privacyWarnings(
      epsilons: [epsilon], insecureSeededNoise: insecureSeededNoise)
    {
      print(line)
    }
    fflush(nil)

    let session = SplitParticipantSession(
      client: client, key: federationKey, front: front, samples: samples, batchSize: batchSize,
      epsilon: epsilon, noise: noise,
      generator: SeededGenerator(seed: seed).derived(
        stream: 0x0DE5 &+ UInt64(shardSpec?.index ?? 0)),
      audit: audit)
    let start = monotonicSeconds()
    let initial = try session.evaluate(on: splitData.test, backNetwork: backNetwork)
    print("before training: test acc \(format(100 * initial.accuracy, 2))%")
    var best = initial.accuracy
    var last = initial
    for epoch in 1...epochs {
      let epochStart = monotonicSeconds()
      let statistics = try session.runEpoch(epoch)
      let evaluation = try session.evaluate(on: splitData.test, backNetwork: backNetwork)
      last = evaluation
      best = max(best, evaluation.accuracy)
      let seconds = monotonicSeconds() - epochStart
      run.append(row: [
        "\(epoch)", format(seconds, 3), format(monotonicSeconds() - start, 3),
        "\(statistics.steps)", format(statistics.meanLoss, 5),
        format(statistics.trainingAccuracy, 5), format(evaluation.meanLoss, 5),
        format(evaluation.accuracy, 5), "\(session.valuesSent)", "\(session.sealedBytesSent)",
        "\(session.front.appliedSequence)",
      ])
      print(
        "epoch \(epoch)/\(epochs)  train loss \(format(statistics.meanLoss, 4))  train acc "
          + "\(format(100 * statistics.trainingAccuracy, 2))%  test acc "
          + "\(format(100 * evaluation.accuracy, 2))%  (\(format(seconds, 1)) s)")
      fflush(nil)
    }
    // The others may still be training: the final front and back come after everyone's last step.
    do {
      try client.finish()
      try waitForTrainingComplete(client)
    } catch let error as RemoteServerError {
      throw CLIError("\(error)")
    }
    let finalEvaluation = try session.evaluate(on: splitData.test, backNetwork: backNetwork)
    best = max(best, finalEvaluation.accuracy)
    last = finalEvaluation
    let summary = SplitParticipantRecord.Summary(
      name: displayName, epsilon: SplitSimulateCommand.name(epsilon), epochs: epochs,
      initialTestAccuracy: initial.accuracy, finalTestAccuracy: last.accuracy,
      finalTestLoss: last.meanLoss, bestTestAccuracy: best, steps: session.steps,
      skippedBatches: session.skippedBatches, valuesSent: session.valuesSent,
      labelsSentInClear: session.labelsSent,
      sealedUpdatesSent: session.steps - session.skippedBatches,
      sealedBytesSent: session.sealedBytesSent, updatesApplied: Int(front.appliedSequence),
      frontSequence: front.appliedSequence, frontHash: front.parameterHash,
      backSteps: session.backSteps, privacy: session.ledger,
      wallSeconds: monotonicSeconds() - start)
    try run.writeJSON(summary, to: "summary.json")
    // What this participant's ε bounds (per crossing), and what crossed without noise.
    let account = SplitPrivacyAccount(
      epsilonPerValue: epsilon, epochs: epochs, valuesPerSample: front.featureSize,
      batchSize: batchSize, boundary: .features, deltaPrime: delta)
    for line in account.lines { print(line) }
    try run.writeJSON(
      SplitRunRecord.Privacy(
        account: account,
        participants: [
          .init(
            id: shardSpec?.index ?? 0, samples: samples.count, ledger: session.ledger,
            basicTotal: session.ledger.basicTotal)
        ],
        noise: epsilon == nil ? nil : noise, auditRows: audit.rows),
      to: "privacy.json")
    print(
      "done: test acc \(format(100 * finalEvaluation.accuracy, 2))% (before: "
        + "\(format(100 * initial.accuracy, 2))%), front \(front.parameterHash.prefix(16)) at "
        + "update \(front.appliedSequence)")
  }

  private func readKey() throws -> FederationKey {
    guard let text = try? String(contentsOfFile: key, encoding: .utf8) else {
      throw CLIError("cannot read --key \(key) (create one with `colearn split keygen --out FILE`)")
    }
    do {
      return try FederationKey(hexadecimal: text)
    } catch {
      throw CLIError("--key \(key): \(error)")
    }
  }

  private func waitForTrainingComplete(_ client: RemoteSplitCoordinatorClient) throws {
    let deadline = monotonicSeconds() + Double(waitSeconds)
    while try !client.status().trainingComplete {
      guard monotonicSeconds() < deadline else {
        throw CLIError(
          "the other participants did not finish within --wait-seconds \(waitSeconds)")
      }
      usleep(100_000)
    }
  }
}
