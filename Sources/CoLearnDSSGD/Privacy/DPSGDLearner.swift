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
  public static let orders = DPSGDCharges.orders

  public let trainer: DPSGDTrainer
  /// This learner's noise and charges.
  public private(set) var state: DPSGDState

  /// A learner for `network` over `sampleCount` training records.
  ///
  /// - Throws: ``DPSGDTrainer/MixedSamplesError`` for a network with batch normalisation.
  public init(
    network: Network, configuration: SGDConfiguration, privacy: DPSGDConfiguration,
    sampleCount: Int, noiseSource: NoiseSource
  ) throws {
    trainer = try DPSGDTrainer(network: network, configuration: configuration, privacy: privacy)
    state = try DPSGDState(
      trainer: trainer, dimension: network.parameterCount, sampleCount: sampleCount,
      noiseSource: noiseSource)
  }

  /// The noise multiplier the accountant charges (slightly below σ: see
  /// ``DiscreteGaussianGradientNoise/effectiveNoiseMultiplier``); 0 without noise.
  public var chargedNoiseMultiplier: Double { state.charges.noiseMultiplier }
  /// q = B/n.
  public var samplingRate: Double { state.charges.samplingRate }
  /// The steps taken so far.
  public var steps: Int { state.charges.steps }
  /// The unit of ``guarantee(delta:)``, in words.
  public var unit: String { state.charges.unit }

  /// One epoch, charged step by step (Poisson) or as one shuffled epoch.
  ///
  /// - Throws: a ``PrivacyError`` if no noise can be drawn; the steps already taken are charged
  ///   before the error is passed on.
  public func trainEpoch<G: RandomNumberGenerator>(
    _ model: inout LocalModel, on samples: LabeledSamples, using generator: inout G
  ) throws -> EpochStatistics {
    try state.trainEpoch(trainer, &model, on: samples, using: &generator)
  }

  /// (ε, δ) of every step taken so far.
  public func guarantee(delta: Double) throws(PrivacyError) -> RDPGuarantee {
    try state.charges.guarantee(delta: delta)
  }
}

/// One learner's DP-SGD state apart from the trainer's workspaces: its noise (with its own
/// source) and its charges. A simulation keeps one per participant and shares the trainer.
public struct DPSGDState: Sendable {
  /// The noise; nil for σ = 0.
  public var noise: DiscreteGaussianGradientNoise?
  /// What it has spent.
  public private(set) var charges: DPSGDCharges

  /// The state of a learner with `sampleCount` records trained by `trainer`.
  ///
  /// - Throws: ``PrivacyError/noiseOutOfRange(standardDeviation:granularity:)`` for a σ·C far
  ///   below the grid (see ``DiscreteGaussianGradientNoise/init(clipNorm:noiseMultiplier:dimension:source:)``).
  public init(trainer: DPSGDTrainer, dimension: Int, sampleCount: Int, noiseSource: NoiseSource)
    throws(PrivacyError)
  {
    let privacy = trainer.privacy
    if privacy.noiseMultiplier > 0 {
      noise = try DiscreteGaussianGradientNoise(
        clipNorm: Double(privacy.maxGradientNorm), noiseMultiplier: privacy.noiseMultiplier,
        dimension: dimension, source: noiseSource)
    }
    charges = DPSGDCharges(
      sampling: privacy.sampling, samplingRate: trainer.samplingRate(sampleCount: sampleCount),
      noiseMultiplier: noise?.effectiveNoiseMultiplier ?? 0,
      stepsPerEpoch: trainer.stepsPerEpoch(sampleCount: sampleCount))
  }

  /// Continues from `saved` (a restarted participant's charges, read back from disk), which
  /// must have been made with the same q, charged σ and sampling.
  ///
  /// - Returns: false, changing nothing, if the settings differ.
  public mutating func resume(from saved: DPSGDCharges) -> Bool {
    guard saved.sampling == charges.sampling, saved.samplingRate == charges.samplingRate,
      saved.noiseMultiplier == charges.noiseMultiplier,
      saved.stepsPerEpoch == charges.stepsPerEpoch
    else { return false }
    charges = saved
    return true
  }

  /// One epoch of `trainer` on `samples`, charged.
  public mutating func trainEpoch<G: RandomNumberGenerator>(
    _ trainer: DPSGDTrainer, _ model: inout LocalModel, on samples: LabeledSamples,
    using generator: inout G
  ) throws -> EpochStatistics {
    let before = model.stepCount
    defer { charges.charge(steps: model.stepCount - before) }
    if noise != nil {
      return try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &noise!)
    }
    var none = NoNoise()
    return try trainer.trainEpoch(&model, on: samples, using: &generator, noise: &none)
  }
}

/// The accountant of one learner's DP-SGD steps.
public struct DPSGDCharges: Sendable, Codable, Equatable {
  /// The Rényi orders charged: the integers 2…64, then 128, 256, 512, 1024.
  public static let orders: [Double] = (2...64).map(Double.init) + [128, 256, 512, 1024]

  public let sampling: DPSGDSampling
  /// q.
  public let samplingRate: Double
  /// The noise multiplier charged per step.
  public let noiseMultiplier: Double
  public let stepsPerEpoch: Int
  /// Every step taken so far.
  public private(set) var accountant: RDPAccountant
  /// The steps taken so far.
  public private(set) var steps = 0

  public init(
    sampling: DPSGDSampling, samplingRate: Double, noiseMultiplier: Double, stepsPerEpoch: Int
  ) {
    self.sampling = sampling
    self.samplingRate = samplingRate
    self.noiseMultiplier = noiseMultiplier
    self.stepsPerEpoch = stepsPerEpoch
    accountant = RDPAccountant(
      orders: Self.orders, relation: sampling == .poisson ? .addOrRemoveOne : .replaceOne)
  }

  /// Charges `taken` more steps.
  public mutating func charge(steps taken: Int) {
    guard taken > 0 else { return }
    steps += taken
    // The parameters are valid by construction (q in [0, 1], σ ≥ 0, the relation matches).
    switch sampling {
    case .poisson:
      try! accountant.composePoissonSampled(
        samplingRate: samplingRate, noiseMultiplier: noiseMultiplier, steps: taken)
    case .shuffle:
      // An epoch is charged whole once its first step ran: a partial epoch costs the same.
      let due = (steps + stepsPerEpoch - 1) / stepsPerEpoch - accountant.compositions
      if due > 0 {
        try! accountant.composeShuffledEpochs(noiseMultiplier: noiseMultiplier, epochs: due)
      }
    }
  }

  /// (ε, δ) of every step taken so far.
  public func guarantee(delta: Double) throws(PrivacyError) -> RDPGuarantee {
    try accountant.epsilon(delta: delta)
  }

  /// The unit of ``guarantee(delta:)``, in words.
  public var unit: String {
    sampling == .poisson
      ? "record-level: training sets differing by one record added or removed"
      : "record-level: training sets differing by one record replaced by another"
  }
}

/// No noise (σ = 0: no privacy, ε = ∞).
private struct NoNoise: GradientNoise {
  mutating func addNoise(standardDeviation: Double, to values: UnsafeMutableBufferPointer<Float>) {}
}
