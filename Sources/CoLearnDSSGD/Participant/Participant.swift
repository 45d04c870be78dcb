import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor

/// One simulated participant: its private shard, its local model and its own random stream
/// (shuffling, threshold visiting order). Nothing else about it is shared.
public struct Participant: Sendable {
  /// 0-based position in the federation.
  public let id: Int
  /// The local model and its step count (for the learning-rate decay).
  public var model: LocalModel
  /// The participant's private training shard (as ``Network/trainingSamples(_:)`` gives it, for
  /// speed).
  public let samples: LabeledSamples
  /// The participant's random stream.
  public var generator: SeededGenerator
  /// What it spent on privacy and where its noise comes from, with a private selection
  /// criterion.
  public var privacy: ParticipantPrivacy?
  /// Its DP-SGD noise and charges, when it trains with DP-SGD.
  public var dpsgd: DPSGDState?

  public init(
    id: Int, model: LocalModel, samples: LabeledSamples, generator: SeededGenerator,
    privacy: ParticipantPrivacy? = nil
  ) {
    self.id = id
    self.model = model
    self.samples = samples
    self.generator = generator
    self.privacy = privacy
  }
}

/// A participant's privacy state: its ledger and its own noise source (never the seeded
/// simulation generator, unless the run asked for insecure seeded noise).
public struct ParticipantPrivacy: Sendable {
  /// What it has spent, epoch by epoch.
  public var ledger: PrivacyLedger
  /// Where its noise comes from.
  public var noise: NoiseSource

  public init(ledger: PrivacyLedger, noise: NoiseSource) {
    self.ledger = ledger
    self.noise = noise
  }

  /// The state for participant `id` under `settings`: the system's secure noise, or, for
  /// `insecureSeededNoise`, a seeded source drawn from the participant's own stream.
  public static func make(
    for settings: PrivacySettings, generator: inout SeededGenerator
  ) -> ParticipantPrivacy {
    let noise: NoiseSource =
      settings.insecureSeededNoise ? .insecureSeeded(generator.next()) : .secure
    return ParticipantPrivacy(ledger: PrivacyLedger(budget: settings.budget), noise: noise)
  }
}

extension Participant {
  /// One participant per shard, all starting from `initialParameters`; participant i draws from
  /// stream i + 1 of `generator` (stream 0 and named streams are left to the simulation). Each
  /// keeps its shard as `network` trains fastest on it (``Network/trainingSamples(_:)``).
  ///
  /// With `privacy`, each participant also gets a ledger and a noise source (seeded ones from a
  /// stream of their own, so the training streams are the same with and without privacy).
  static func federation(
    shards: [LabeledSamples], network: Network, initialParameters: [Float],
    generator: SeededGenerator, privacy: PrivacySettings? = nil
  ) -> [Participant] {
    shards.enumerated().map { id, shard in
      var noiseSeeds = generator.derived(stream: 0x5EC0_0000 + UInt64(id))
      return Participant(
        id: id, model: LocalModel(parameters: initialParameters),
        samples: network.trainingSamples(shard),
        generator: generator.derived(stream: UInt64(id) + 1),
        privacy: privacy.map { ParticipantPrivacy.make(for: $0, generator: &noiseSeeds) })
    }
  }
}
