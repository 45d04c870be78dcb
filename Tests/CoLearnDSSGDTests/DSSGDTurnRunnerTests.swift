import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import CoLearnTestSupport
import Synchronization
import Testing

/// A server that records the calls a participant makes and can be told to fail.
final class RecordingServer: ParameterServerClient {
  enum Failure: Error { case refused }

  let inner: InProcessParameterServer
  let calls = Mutex<[String]>([])
  let failUploads: Bool

  init(parameters: [Float], failUploads: Bool = false) {
    inner = InProcessParameterServer(
      state: ParameterServerState(parameters: parameters, statDecay: 0.8))
    self.failUploads = failUploads
  }

  var dimension: Int { inner.dimension }
  var log: [String] { calls.withLock { $0 } }

  func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>) throws
    -> TransferSize
  {
    calls.withLock { $0.append("download \(fraction)") }
    return try inner.download(fraction: fraction, into: parameters)
  }

  func upload(_ update: SparseVector) throws -> UInt64 {
    calls.withLock { $0.append("upload \(update.count)") }
    if failUploads { throw Failure.refused }
    return try inner.upload(update)
  }

  func beginTurn() throws { calls.withLock { $0.append("begin") } }
  func endTurn() throws { calls.withLock { $0.append("end") } }
}

@Suite struct DSSGDTurnRunnerTests {
  func runnerAndParticipant(
    order: ExchangeOrder, downloadFraction: Double = 1
  ) throws -> (DSSGDTurnRunner, Participant, [Float]) {
    let network = DSSGDSimulationTests.makeNetwork()
    var generator = SeededGenerator(seed: 11)
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    var features: [Float] = []
    var labels: [Int32] = []
    for i in 0..<20 {
      labels.append(Int32(i % 3))
      for j in 0..<12 { features.append(j % 3 == i % 3 ? 1 : -1) }
    }
    let participant = Participant(
      id: 0, model: LocalModel(parameters: initial),
      samples: LabeledSamples(features: features, labels: labels, sampleSize: 12),
      generator: generator.derived(stream: 1))
    let runner = DSSGDTurnRunner(
      network: network, training: try SGDConfiguration(learningRate: 0.1, batchSize: 4),
      configuration: try DSSGDConfiguration(
        participants: 1, uploadFraction: 0.25, downloadFraction: downloadFraction, order: order))
    return (runner, participant, initial)
  }

  @Test func aTurnDownloadsTrainsAndUploadsKEntriesThroughTheClient() throws {
    var (runner, participant, initial) = try runnerAndParticipant(order: .roundRobin)
    let server = RecordingServer(parameters: initial)
    let sequence = try runner.takeTurn(&participant, server: server)
    let k = fractionCount(0.25, of: initial.count)
    #expect(sequence == 1)
    // round-robin brackets the turn like random-order (a remote server's lease).
    #expect(server.log == ["begin", "download 1.0", "upload \(k)", "end"])
    let state = server.inner.state
    #expect(state.uploadCount == 1)
    #expect(state.stat.filter { $0 == 1 }.count == k)
    // The server added the uploaded part of Δw: where stat is 1 it moved towards the local model.
    for j in initial.indices where state.stat[j] == 1 {
      #expect(abs(state.parameters[j] - participant.model.parameters[j]) < 1e-6)
    }
    for j in initial.indices where state.stat[j] == 0 {
      #expect(state.parameters[j] == initial[j])
    }
    let counts = runner.takeStatistics()
    #expect(counts.uploadedParameters == k)
    #expect(counts.downloadedParameters == initial.count)
    #expect(runner.takeStatistics().uploadedParameters == 0)
  }

  @Test func asyncTurnsTakeNoLease() throws {
    var (runner, participant, initial) = try runnerAndParticipant(order: .async)
    let server = RecordingServer(parameters: initial)
    try runner.takeTurn(&participant, server: server)
    #expect(server.log == ["download 1.0", "upload \(fractionCount(0.25, of: initial.count))"])
  }

  @Test func randomOrderHoldsTheServerFromDownloadToUploadAndReleasesItOnFailure() throws {
    var (runner, participant, initial) = try runnerAndParticipant(order: .randomOrder)
    let server = RecordingServer(parameters: initial)
    try runner.takeTurn(&participant, server: server)
    let k = fractionCount(0.25, of: initial.count)
    #expect(server.log == ["begin", "download 1.0", "upload \(k)", "end"])

    let failing = RecordingServer(parameters: initial, failUploads: true)
    #expect(throws: RecordingServer.Failure.refused) {
      try runner.takeTurn(&participant, server: failing)
    }
    #expect(failing.log == ["begin", "download 1.0", "upload \(k)", "end"])
    #expect(failing.inner.state.uploadCount == 0)
  }

  @Test func aPartialDownloadOverwritesOnlyTheMostUpdatedPositions() throws {
    let parameters: [Float] = [10, 20, 30, 40]
    let server = InProcessParameterServer(
      state: ParameterServerState(parameters: parameters, statDecay: 0.5))
    #expect(try server.upload(SparseVector(indices: [1, 3], values: [1, 1])) == 1)
    #expect(try server.upload(SparseVector(indices: [3], values: [1])) == 2)
    var local: [Float] = [0, 0, 0, 0]
    let size = try local.withUnsafeMutableBufferPointer {
      try server.download(fraction: 0.5, into: $0)
    }
    // stat = [0, 1, 0, 2]: the two largest are 3 and 1.
    #expect(local == [0, 21, 0, 42])
    #expect(size.parameters == 2)
    #expect(size.bytes == 1 + 2 + 8)
    let all = try local.withUnsafeMutableBufferPointer { try server.download(fraction: 1, into: $0) }
    #expect(local == [10, 21, 30, 42])
    #expect(all == TransferSize(parameters: 4, bytes: 1 + 5 * 4))
  }

  @Test func aRefusedUploadLeavesTheServerAndItsSequenceUnchanged() throws {
    let server = InProcessParameterServer(
      state: ParameterServerState(parameters: [1, 2, 3], statDecay: 0.8))
    #expect(try server.upload(SparseVector(indices: [0], values: [1])) == 1)
    let before = server.state
    #expect(throws: SparseVectorProblem.self) {
      try server.upload(SparseVector(indices: [1, 7], values: [1, 1]))
    }
    #expect(server.state.parameters == before.parameters)
    #expect(server.state.stat == before.stat)
    #expect(server.sequence == 1)
    #expect(try server.upload(SparseVector(indices: [2], values: [1])) == 2)
  }

  /// Issue 19 item 11: the epoch's ε is handed to `ledgerCharged` (which a deployment writes
  /// durably) before the upload leaves, and when saving it fails nothing is uploaded.
  @Test func theLedgerIsChargedAndHandedOverBeforeTheUploadLeaves() throws {
    let (plain, start, initial) = try runnerAndParticipant(order: .async)
    var participant = start
    let privacy = try PrivacySettings(epsilon: 2, insecureSeededNoise: true)
    let runner = DSSGDTurnRunner(
      network: DSSGDSimulationTests.makeNetwork(),
      training: try SGDConfiguration(learningRate: 0.1, batchSize: 4),
      configuration: try DSSGDConfiguration(
        participants: 1, uploadFraction: plain.configuration.uploadFraction,
        selection: .exponential, bound: 0.01, order: .async, privacy: privacy))
    var seeds = SeededGenerator(seed: 5)
    participant.privacy = ParticipantPrivacy.make(for: privacy, generator: &seeds)
    let server = RecordingServer(parameters: initial)
    runner.ledgerCharged = { ledger in
      server.calls.withLock { $0.append("ledger \(ledger.epochs.count) ε=\(ledger.spentEpsilon)") }
    }
    try runner.takeTurn(&participant, server: server)
    let k = fractionCount(plain.configuration.uploadFraction, of: initial.count)
    #expect(server.log == ["download 1.0", "ledger 1 ε=2.0", "upload \(k)"])

    struct DiskFull: Error {}
    runner.ledgerCharged = { _ in throw DiskFull() }
    let failing = RecordingServer(parameters: initial)
    #expect(throws: DiskFull.self) { try runner.takeTurn(&participant, server: failing) }
    #expect(failing.log == ["download 1.0"])
    #expect(failing.inner.state.uploadCount == 0)
  }
}

/// Issue 21 item 5: privacy is a stage of the turn chosen once, not a branch of it.
extension DSSGDTurnRunnerTests {
  /// A runner whose stage is private, given a participant without the state that stage needs
  /// (a ledger, DP-SGD charges), fails the turn with a typed error before anything is uploaded
  /// (it used to stop the process with a precondition failure).
  @Test(arguments: ["exponential", "svt", "dp-sgd"])
  func aPrivateStageWithoutItsStateFailsTheTurnBeforeTheUpload(_ mechanism: String) throws {
    let (plain, participant, initial) = try runnerAndParticipant(order: .async)
    var stateless = participant
    let privacy = try PrivacySettings(epsilon: 2, insecureSeededNoise: true)
    let configuration =
      mechanism == "dp-sgd"
      ? try DSSGDConfiguration(
        participants: 1, uploadFraction: plain.configuration.uploadFraction, order: .async,
        dpsgd: DPSGDSettings(
          training: try DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: 1),
          insecureSeededNoise: true))
      : try DSSGDConfiguration(
        participants: 1, uploadFraction: plain.configuration.uploadFraction,
        selection: mechanism == "svt" ? .svt : .exponential, bound: 0.01, order: .async,
        privacy: privacy)
    let runner = DSSGDTurnRunner(
      network: DSSGDSimulationTests.makeNetwork(),
      training: try SGDConfiguration(learningRate: 0.1, batchSize: 4),
      configuration: configuration)
    #expect((runner.privateTrainer != nil) == (mechanism == "dp-sgd"))
    let server = RecordingServer(parameters: initial)
    #expect(
      throws: TurnError.missingPrivacyState(
        participant: 0, mechanism: mechanism == "dp-sgd" ? "DP-SGD" : mechanism)
    ) { try runner.takeTurn(&stateless, server: server) }
    #expect(server.log == ["download 1.0"])
    #expect(server.inner.state.uploadCount == 0)
  }

  /// The plain pipeline has no privacy stage: the privacy hooks are never called (and read back
  /// as absent), no participant needs privacy state, and its uploads are those of the selector
  /// alone (`largest`, bounded by γ) on the epoch's Δw.
  @Test func thePlainPipelineHasNoPrivacyStageAndUploadsTheSelectorsChoice() throws {
    let network = DSSGDSimulationTests.makeNetwork()
    var (_, participant, initial) = try runnerAndParticipant(order: .async)
    let runner = DSSGDTurnRunner(
      network: network, training: try SGDConfiguration(learningRate: 0.1, batchSize: 4),
      configuration: try DSSGDConfiguration(
        participants: 1, uploadFraction: 0.25, bound: 0.001, order: .async))
    var called: [String] = []
    runner.ledgerCharged = { _ in called.append("ledger") }
    runner.dpsgdCharged = { _ in called.append("dpsgd") }
    #expect(runner.ledgerCharged == nil && runner.dpsgdCharged == nil)
    #expect(runner.privateTrainer == nil)

    // The same epoch by hand: the trainer's Δw, then LargestSelector bounded by γ.
    var copy = participant
    var changes = [Float](repeating: 0, count: initial.count)
    copy.model.parameters = initial
    let trainer = Trainer(network: DSSGDSimulationTests.makeNetwork(), configuration: try SGDConfiguration(learningRate: 0.1, batchSize: 4))
    changes.withUnsafeMutableBufferPointer { c in
      _ = trainer.trainEpoch(&copy.model, on: copy.samples, using: &copy.generator, changes: c)
    }
    var selector = LargestSelector()
    let k = fractionCount(0.25, of: initial.count)
    let expected = changes.withUnsafeBufferPointer {
      selector.select(from: $0, count: k, bound: 0.001, using: &copy.generator)
    }

    let server = RecordingServer(parameters: initial)
    try runner.takeTurn(&participant, server: server)
    #expect(called.isEmpty)
    #expect(participant.model.parameters == copy.model.parameters)
    let state = server.inner.state
    for (index, value) in zip(expected.indices, expected.values) {
      #expect(state.parameters[Int(index)] == initial[Int(index)] + value)
    }
    #expect(state.stat.filter { $0 == 1 }.count == expected.count)
  }
}
