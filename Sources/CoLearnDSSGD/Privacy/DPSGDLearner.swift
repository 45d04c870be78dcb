import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor

/// One learner's DP-SGD (issue 21): the trainer (``DPSGDTrainer``), its noise
/// (``DiscreteGaussianGradientNoise``) and the accountant that charges every step it takes
/// (``RDPAccountant``), so that the ε reported is always the ε of the steps taken.
///
/// **What ε protects (its unit).** Record-level: two training sets of this learner that differ
/// in one record — one record added or removed under Poisson sampling, one record replaced under
/// shuffling. It covers everything computed from the model trajectory (the parameters after
/// every step, whatever is uploaded or saved from them). It does not cover anything computed
/// from the data outside the clipped, noised gradients: the dataset schema's standardisation
/// statistics and class list, the test-set evaluation, the number of records (which fixes q),
/// hyperparameters chosen by looking at results, or batches drawn from a seeded generator whose
/// seed is known (subsampling amplification assumes the sampling is secret).
///
/// The accountant uses integer Rényi orders only (2…64 and 128…1024): for the discrete Gaussian
/// under Poisson subsampling only those are proven here (see ``GridGaussianNoise``), which can
/// only make ε larger than with fractional orders.
///
/// Threading: one thread at a time.
public final class DPSGDLearner {
  /// The Rényi orders charged: the integers 2…64, then 128, 256, 512, 1024.
  public static let orders: [Double] = (2...64).map(Double.init) + [128, 256, 512, 1024]

  public let trainer: DPSGDTrainer
  private var noise: DiscreteGaussianGradientNoise?
  /// Every step taken so far.
  public private(set) var accountant: RDPAccountant
  /// The steps taken so far.
  public private(set) var steps = 0
  private let sampleCount: Int

  /// A learner for `network` over `sampleCount` training records.
  ///
  /// - Throws: ``DPSGDTrainer/MixedSamplesError`` for a network with batch normalisation.
  public init(
    network: Network, configuration: SGDConfiguration, privacy: DPSGDConfiguration,
    sampleCount: Int, noiseSource: NoiseSource
  ) throws {
    trainer = try DPSGDTrainer(network: network, configuration: configuration, privacy: privacy)
    if privacy.noiseMultiplier > 0 {
      noise = DiscreteGaussianGradientNoise(
        clipNorm: Double(privacy.maxGradientNorm), noiseMultiplier: privacy.noiseMultiplier,
        dimension: network.parameterCount, source: noiseSource)
    }
    accountant = RDPAccountant(
      orders: Self.orders, relation: privacy.sampling == .poisson ? .addOrRemoveOne : .replaceOne)
    self.sampleCount = sampleCount
  }

  /// The noise multiplier the accountant charges (slightly below σ: see
  /// ``DiscreteGaussianGradientNoise/effectiveNoiseMultiplier``); 0 without noise.
  public var chargedNoiseMultiplier: Double { noise?.effectiveNoiseMultiplier ?? 0 }

  /// q = B/n.
  public var samplingRate: Double { trainer.samplingRate(sampleCount: sampleCount) }

  /// One epoch, charged to the accountant step by step (Poisson) or as one shuffled epoch.
  ///
  /// - Throws: a ``PrivacyError`` if no noise can be drawn; the epoch's steps already taken are
  ///   charged before the error is passed on.
  public func trainEpoch<G: RandomNumberGenerator>(
    _ model: inout LocalModel, on samples: LabeledSamples, using generator: inout G
  ) throws -> EpochStatistics {
    precondition(samples.count == sampleCount, "the learner was built for \(sampleCount) records")
    let before = model.stepCount
    defer { charge(steps: model.stepCount - before) }
    if noise != nil {
      return try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &noise!)
    }
    var none = NoNoise()
    return try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &none)
  }

  private func charge(steps taken: Int) {
    guard taken > 0 else { return }
    steps += taken
    // The parameters are valid by construction (q in [0, 1], σ ≥ 0, the relation matches).
    switch trainer.privacy.sampling {
    case .poisson:
      try! accountant.composePoissonSampled(
        samplingRate: samplingRate, noiseMultiplier: chargedNoiseMultiplier, steps: taken)
    case .shuffle:
      // An epoch is charged whole once its first step ran: a partial epoch costs the same.
      let epochs = trainer.stepsPerEpoch(sampleCount: sampleCount)
      let charged = accountant.compositions
      let due = (steps + epochs - 1) / epochs - charged
      if due > 0 {
        try! accountant.composeShuffledEpochs(noiseMultiplier: chargedNoiseMultiplier, epochs: due)
      }
    }
  }

  /// (ε, δ) of every step taken so far.
  public func guarantee(delta: Double) throws(PrivacyError) -> RDPGuarantee {
    try accountant.epsilon(delta: delta)
  }

  /// The unit of ``guarantee(delta:)``, in words.
  public var unit: String {
    trainer.privacy.sampling == .poisson
      ? "record-level: training sets differing by one record added or removed"
      : "record-level: training sets differing by one record replaced by another"
  }
}

/// No noise (σ = 0: no privacy, ε = ∞).
private struct NoNoise: GradientNoise {
  mutating func addNoise(standardDeviation: Double, to values: UnsafeMutableBufferPointer<Float>) {}
}
