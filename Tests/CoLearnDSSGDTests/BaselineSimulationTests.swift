import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

@Suite struct BaselineSimulationTests {
  func network() -> Network {
    Network(layers: [Linear(inputs: 4, outputs: 3), LogSoftmax(input: TensorShape(3))])
  }

  func shard(_ count: Int, seed: UInt64) -> LabeledSamples {
    var generator = SeededGenerator(seed: seed)
    let features = (0..<(4 * count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let labels = (0..<count).map { Int32($0 % 3) }
    return LabeledSamples(features: features, labels: labels, sampleSize: 4)
  }

  func initial(_ network: Network) -> [Float] {
    var generator = SeededGenerator(seed: 2)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    return w
  }

  /// The global model after a round is the sample-weighted mean of the participants' models.
  @Test func fedAvgAveragesBySampleCount() throws {
    let net = network()
    let simulation = FedAvgSimulation(
      network: net, training: try SGDConfiguration(learningRate: 0.1, batchSize: 2),
      localEpochs: 2, initialParameters: initial(net),
      shards: [shard(10, seed: 1), shard(30, seed: 2)], generator: SeededGenerator(seed: 3))
    let statistics = try simulation.runRound()
    let a = simulation.participants[0].model.parameters
    let b = simulation.participants[1].model.parameters
    let expected = zip(a, b).map { (10 * $0 + 30 * $1) / 40 }
    #expect(maximumAbsoluteDifference(simulation.global, expected) < 1e-6)
    #expect(simulation.participants[0].model.stepCount == 10, "2 epochs of 5 steps")
    #expect(statistics.uploadedParameters == 2 * net.parameterCount)
    #expect(statistics.uploadBytes == 2 * (1 + 5 * net.parameterCount))
    // Next round every participant restarts from the average.
    _ = try simulation.runRound()
    #expect(simulation.roundsCompleted == 2)
  }

  @Test func standaloneParticipantsNeverExchange() throws {
    let net = network()
    let shards = [shard(12, seed: 1), shard(12, seed: 2)]
    let together = StandaloneSimulation(
      network: net, training: try SGDConfiguration(learningRate: 0.1, batchSize: 3),
      initialParameters: initial(net), shards: shards, generator: SeededGenerator(seed: 4))
    let alone = StandaloneSimulation(
      network: net, training: try SGDConfiguration(learningRate: 0.1, batchSize: 3),
      initialParameters: initial(net), shards: [shards[0]], generator: SeededGenerator(seed: 4))
    for _ in 0..<3 {
      _ = try together.runRound()
      _ = try alone.runRound()
    }
    #expect(together.participants[0].model.parameters == alone.participants[0].model.parameters)
    let evaluation = together.evaluate(on: shards[1], with: net, batchSize: 12)
    #expect(evaluation.globalAccuracy == nil)
    #expect(evaluation.participantAccuracies.count == 2)
  }

  @Test func centralizedTrainsOnThePooledShards() throws {
    let net = network()
    let simulation = CentralizedSimulation(
      network: net, training: try SGDConfiguration(learningRate: 0.1, batchSize: 5),
      initialParameters: initial(net), shards: [shard(10, seed: 1), shard(15, seed: 2)],
      generator: SeededGenerator(seed: 4))
    _ = try simulation.runRound()
    #expect(simulation.model.stepCount == 5, "25 pooled samples in batches of 5")
    let evaluation = simulation.evaluate(on: shard(9, seed: 5), with: net, batchSize: 9)
    #expect(evaluation.globalAccuracy == evaluation.participantAccuracies.first)
  }
}
