import CoLearnNN
import CoLearnTensor

/// One simulated participant: its private shard, its local model and its own random stream
/// (shuffling, threshold visiting order). Nothing else about it is shared.
public struct Participant: Sendable {
  /// 0-based position in the federation.
  public let id: Int
  /// The local model and its step count (for the learning-rate decay).
  public var model: LocalModel
  /// The participant's private training shard.
  public let samples: LabeledSamples
  /// The participant's random stream.
  public var generator: SeededGenerator

  public init(id: Int, model: LocalModel, samples: LabeledSamples, generator: SeededGenerator) {
    self.id = id
    self.model = model
    self.samples = samples
    self.generator = generator
  }
}

extension Participant {
  /// One participant per shard, all starting from `initialParameters`; participant i draws from
  /// stream i + 1 of `generator` (stream 0 and named streams are left to the simulation).
  static func federation(
    shards: [LabeledSamples], initialParameters: [Float], generator: SeededGenerator
  ) -> [Participant] {
    shards.enumerated().map { id, shard in
      Participant(
        id: id, model: LocalModel(parameters: initialParameters), samples: shard,
        generator: generator.derived(stream: UInt64(id) + 1))
    }
  }
}
