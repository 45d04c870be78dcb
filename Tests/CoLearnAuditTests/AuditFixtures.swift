import CoLearnNN
import CoLearnTensor

/// Small networks and random records for the attack tests.
enum AuditFixtures {
  /// Linear(inputs → hidden) → Tanh → Linear(hidden → classes) → LogSoftmax.
  static func mlp(inputs: Int, hidden: Int, classes: Int) -> Network {
    let first = Linear(inputs: inputs, outputs: hidden)
    let tanh = Tanh(input: first.outputShape)
    let last = Linear(input: tanh.outputShape, outputs: classes)
    return Network(layers: [first, tanh, last, LogSoftmax(input: last.outputShape)])
  }

  /// `count` records of standard-normal-ish features (uniform in [−1, 1]) with uniformly random
  /// labels: nothing to learn but the records themselves, so a model that fits them memorised.
  static func randomRecords(
    count: Int, inputs: Int, classes: Int, using generator: inout SeededGenerator
  ) -> LabeledSamples {
    let features = (0..<(count * inputs)).map { _ in Float.random(in: -1...1, using: &generator) }
    let labels = (0..<count).map { _ in Int32.random(in: 0..<Int32(classes), using: &generator) }
    return LabeledSamples(features: features, labels: labels, sampleSize: inputs)
  }

  /// A freshly initialised model of `network` trained on `samples` for `epochs` epochs of SGD.
  static func train(
    _ network: Network, on samples: LabeledSamples, epochs: Int, learningRate: Float = 0.1,
    batchSize: Int = 1, using generator: inout SeededGenerator
  ) throws -> [Float] {
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    let trainer = Trainer(
      network: network,
      configuration: try SGDConfiguration(learningRate: learningRate, batchSize: batchSize))
    var model = LocalModel(parameters: parameters)
    for _ in 0..<epochs {
      _ = trainer.trainEpoch(&model, on: samples, using: &generator)
    }
    return model.parameters
  }
}
