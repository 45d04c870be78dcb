import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

@Suite struct DSSGDSimulationTests {
  static func makeNetwork() -> Network {
    Network(layers: [
      Linear(inputs: 12, outputs: 8), ReLU(input: TensorShape(8)), Linear(inputs: 8, outputs: 3),
      LogSoftmax(input: TensorShape(3)),
    ])
  }

  /// A tiny model and three shards of a learnable three-class problem.
  func federation(
    order: ExchangeOrder = .roundRobin, selection: SelectionCriterion = .largest,
    uploadFraction: Double = 0.1, seed: UInt64 = 5, staleProbability: Double = 0.5,
    privacy: PrivacySettings? = nil
  ) throws -> (DSSGDSimulation, LabeledSamples) {
    let network = Self.makeNetwork()
    var generator = SeededGenerator(seed: seed)
    func samples(_ count: Int) -> LabeledSamples {
      var features: [Float] = []
      var labels: [Int32] = []
      for i in 0..<count {
        let label = i % 3
        labels.append(Int32(label))
        for j in 0..<12 {
          features.append((j % 3 == label ? 1 : -1) + Float.random(in: -0.8...0.8, using: &generator))
        }
      }
      return LabeledSamples(features: features, labels: labels, sampleSize: 12)
    }
    var initial = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&initial, using: &generator)
    let federation = DSSGDSimulation(
      makeNetwork: Self.makeNetwork,
      training: try SGDConfiguration(learningRate: 0.05, batchSize: 4),
      configuration: try DSSGDConfiguration(
        participants: 3, uploadFraction: uploadFraction, selection: selection, threshold: 1e-3,
        bound: 0.5, order: order, staleProbability: staleProbability, privacy: privacy),
      initialParameters: initial, shards: [samples(40), samples(40), samples(40)],
      generator: generator)
    return (federation, samples(90))
  }

  @Test func aRoundUploadsKEntriesPerParticipantAndLearns() throws {
    let (federation, test) = try federation()
    let network = Self.makeNetwork()
    let before = federation.evaluate(on: test, with: network, batchSize: 30)
    let k = fractionCount(0.1, of: federation.server.dimension)
    var last: RoundStatistics?
    for _ in 0..<15 { last = try federation.runRound() }
    #expect(last?.uploadedParameters == 3 * k)
    #expect(last?.downloadedParameters == 3 * federation.server.dimension)
    #expect(federation.server.uploadCount == 45)
    // Every stat entry is a decayed count: at most Σ 3·0.8^r < 15.
    #expect(federation.server.stat.allSatisfy { $0 >= 0 && $0 < 15 })
    let after = federation.evaluate(on: test, with: network, batchSize: 30)
    let start = try #require(before.globalAccuracy)
    let end = try #require(after.globalAccuracy)
    #expect(end > start)
    #expect(end > 0.9, "\(end)")
  }

  @Test(arguments: [ExchangeOrder.roundRobin, .randomOrder], [SelectionCriterion.largest, .threshold])
  func runsAreReproducibleFromTheSeed(order: ExchangeOrder, selection: SelectionCriterion) throws {
    let (a, _) = try federation(order: order, selection: selection)
    let (b, _) = try federation(order: order, selection: selection)
    for _ in 0..<3 {
      _ = try a.runRound()
      _ = try b.runRound()
    }
    #expect(a.server.parameters == b.server.parameters)
    #expect(a.participants.map(\.model.parameters) == b.participants.map(\.model.parameters))
  }

  @Test func uploadsAreBoundedByGamma() throws {
    let (federation, _) = try federation(uploadFraction: 1)
    let initial = federation.server.parameters
    _ = try federation.runRound()
    // Three uploads of values in [−0.5, 0.5] each.
    for (now, then) in zip(federation.server.parameters, initial) {
      #expect(abs(now - then) <= 1.5 + 1e-5)
    }
  }

  @Test func badSettingsNameTheFlag() {
    #expect(throws: ConfigurationError.outOfRange(setting: "upload-fraction", value: "0.0", expected: "a fraction in (0, 1]")) {
      try DSSGDConfiguration(participants: 3, uploadFraction: 0)
    }
    #expect(throws: ConfigurationError.self) { try DSSGDConfiguration(participants: 0, uploadFraction: 0.1) }
    #expect(throws: ConfigurationError.self) { try DSSGDConfiguration(participants: 3, uploadFraction: 0.1, downloadFraction: 1.5) }
    #expect(throws: ConfigurationError.self) { try DSSGDConfiguration(participants: 3, uploadFraction: 0.1, bound: 0) }
    #expect(throws: ConfigurationError.self) { try DSSGDConfiguration(participants: 3, uploadFraction: 0.1, statDecay: 1.5) }
  }

  /// Async: every participant gets exactly one turn per round, concurrently, and it learns.
  @Test(arguments: [0.0, 0.5, 1.0])
  func asyncRoundsGiveEveryoneOneTurn(staleProbability: Double) throws {
    let (federation, test) = try federation(order: .async, staleProbability: staleProbability)
    let k = fractionCount(0.1, of: federation.server.dimension)
    var last: RoundStatistics?
    for _ in 0..<15 { last = try federation.runRound() }
    #expect(federation.server.uploadCount == 45)
    #expect(last?.uploadedParameters == 3 * k)
    #expect(federation.participants.allSatisfy { $0.model.stepCount == 15 * 10 })
    let accuracy = try #require(federation.evaluate(on: test, with: Self.makeNetwork(), batchSize: 30).globalAccuracy)
    #expect(accuracy > 0.85, "\(accuracy)")
  }

  /// With p_stale = 1 every download of a round sees the state at the end of the previous
  /// round, S. With θ_u = 1 and updates inside the bound, the server after the round is then
  /// S + Σ_i (w_i − S) over the participants' new models w_i — which holds only if every one of
  /// them started from S, not from a state that already had others' uploads.
  @Test func staleDownloadsServeThePreviousRoundsState() throws {
    let (simulation, _) = try federation(order: .async, uploadFraction: 1, staleProbability: 1)
    _ = try simulation.runRound()
    let start = simulation.server.parameters
    _ = try simulation.runRound()
    var expected = start
    for participant in simulation.participants {
      for j in expected.indices { expected[j] += participant.model.parameters[j] - start[j] }
    }
    #expect(maximumAbsoluteDifference(simulation.server.parameters, expected) < 1e-4)
  }
}
