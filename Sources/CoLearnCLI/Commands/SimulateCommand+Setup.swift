import CoLearnDSSGD
import CoLearnData
import CoLearnNN
import CoLearnRPC
import CoLearnTensor
import Foundation

/// Everything a simulation needs before its first round: the model, the data split into the
/// participants' shards, the federated algorithm (with a local gRPC stack for
/// `--transport grpc`), the run record and the banner.
struct SimulationSetup {
  var spec: ModelSpec
  var sgd: SGDConfiguration
  var dssgd: DSSGDConfiguration
  var threads: Int
  var shardSize: Int
  var test: LabeledSamples
  var federation: any FederatedAlgorithm
  /// The DSSGD simulation, when the algorithm is one (its participants carry privacy ledgers).
  var dssgdSimulation: DSSGDSimulation?
  var local: LocalGRPCFederation?
  var parameterCount: Int
  var record: SimulationRecord.Configuration
  var outPath: String
  var banner: String
  var privacyReport: PrivacyReport?
  /// The schema the data was standardised with (written to the run directory).
  var schema: DatasetSchema

  /// A simulation that can be checkpointed (not one over gRPC).
  var checkpointable: (any CheckpointableSimulation)? {
    // A DP-SGD run's charges are not in the checkpoint format yet: it is not checkpointed
    // rather than resumed with participants whose spent ε was forgotten.
    local == nil && dssgd.dpsgd == nil ? federation as? any CheckpointableSimulation : nil
  }

  init(command: SimulateCommand) throws {
    spec = command.training.model
    sgd = try command.training.sgdConfiguration()
    dssgd = try command.dssgdConfiguration()
    threads = command.training.threads ?? ProcessInfo.processInfo.activeProcessorCount
    BLAS.setThreadCount(threads)
    let partition = try command.federation.partitionScheme()

    let loaded = try command.source.load(
      for: spec, directory: command.data.dataDirectory, seed: command.training.seed,
      options: DatasetLoadOptions(testLimit: command.testLimit))
    schema = loaded.schema
    // The paper's 1% of MNIST or SVHN per participant; a user's own (smaller) data is split
    // among the participants whole.
    let builtIn = loaded.source.kind == .mnist || loaded.source.kind == .svhn
    let size =
      command.federation.shardSize
      ?? max(1, builtIn ? loaded.train.count / 100 : loaded.train.count / command.federation.participants)
    shardSize = size
    let participants = command.federation.participants
    var generator = SeededGenerator(seed: command.training.seed)
    var partitionGenerator = generator.derived(stream: 0x5EED)
    let shards: [[Int]]
    do {
      shards = try partition.shards(
        labels: loaded.train.labels, classCount: loaded.train.classCount,
        participants: participants, shardSize: size, using: &partitionGenerator)
    } catch {
      throw CLIError(error.description)
    }
    let shardSamples = shards.map { loaded.train.subset($0).labeledSamples }
    test = loaded.test.labeledSamples

    let network = spec.makeNetwork()
    parameterCount = network.parameterCount
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    if command.dp.privacy == .dpSGD, command.algorithm != .dssgd {
      throw CLIError("--privacy dp-sgd trains DSSGD participants; use --algorithm dssgd")
    }
    dssgd.dpsgd = try command.privacy.dpsgdSettings(
      network: network, batchSize: sgd.batchSize, sampleCounts: shardSamples.map(\.count),
      epochs: command.rounds)
    switch command.algorithm {
    case .dssgd:
      if command.transport == .grpc {
        local = try LocalGRPCFederation(
          settings: FederationSettings(
            model: spec.identity(parameterCount: network.parameterCount),
            downloadFraction: dssgd.downloadFraction, uploadFraction: dssgd.uploadFraction,
            statDecay: dssgd.statDecay, order: dssgd.order, participants: participants),
          initialParameters: initial)
      }
      let spec = spec
      let simulation = DSSGDSimulation(
        makeNetwork: { spec.makeNetwork() }, training: sgd, configuration: dssgd,
        initialParameters: initial, shards: shardSamples, generator: generator,
        concurrency: threads, remote: local?.remoteServers)
      dssgdSimulation = simulation
      federation = simulation
    case .fedavg:
      federation = FedAvgSimulation(
        network: network, training: sgd, localEpochs: command.localEpochs,
        initialParameters: initial, shards: shardSamples, generator: generator)
    case .standalone:
      federation = StandaloneSimulation(
        network: network, training: sgd, initialParameters: initial, shards: shardSamples,
        generator: generator)
    case .centralized:
      federation = CentralizedSimulation(
        network: network, training: sgd, initialParameters: initial, shards: shardSamples,
        generator: generator)
    }

    let algorithm = command.algorithm
    outPath =
      command.out
      ?? "runs/simulate-\(algorithm.rawValue)-\(spec.name)-N\(participants)-\(command.training.seed)"
    record = SimulationRecord.Configuration(
      command: "simulate", algorithm: algorithm.rawValue, localEpochs: command.localEpochs,
      model: spec.name, parameterCount: network.parameterCount,
      modelHash: spec.specificationHash, dataset: loaded.source.description,
      dataDirectory: command.data.dataDirectory.path, partition: partition.description, shardSize: size,
      testSamples: test.count, dssgd: dssgd, sgd: sgd, rounds: command.rounds,
      evalEvery: command.evaluationPeriod, seed: command.training.seed, threads: threads,
      blas: BLAS.configuration)

    let exchange =
      switch algorithm {
      case .dssgd:
        "θu = \(dssgd.uploadFraction), θd = \(dssgd.downloadFraction), "
          + "\(dssgd.selection.rawValue), \(dssgd.order.rawValue)"
          + (local.map { ", over gRPC on 127.0.0.1:\($0.port)" } ?? "")
      case .fedavg: "FedAvg, E = \(command.localEpochs)"
      case .standalone: "standalone"
      case .centralized: "centralized on the pooled shards"
      }
    banner =
      "colearn simulate: \(spec) (|w| = \(network.parameterCount)), N = \(participants) × "
      + "\(size) samples (\(partition)), \(exchange), M = \(sgd.batchSize), "
      + "α = \(sgd.learningRate)"
    if command.algorithm == .dssgd {
      banner +=
        "\n" + UploadPrivacy.statement(of: dssgd, delta: command.upload.common.delta, for: .simulation)
        .joined(separator: "\n")
    } else if command.algorithm != .centralized {
      banner +=
        "\n" + UploadPrivacy.statement(
          selection: .largest, privacy: nil, dpsgd: nil, delta: command.upload.common.delta,
          for: .simulation
        ).joined(separator: "\n")
    }
    privacyReport = dssgd.privacy.map { PrivacyReport(settings: $0, selection: dssgd.selection) }
  }
}
