import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import Foundation

/// privacy-ledger.json of a DP-SGD run (issue 21): the guarantee, its unit and what it does not
/// cover, and everything needed to recompute it (C, σ, the charged σ, q, steps, the orders).
struct DPSGDLedger: Encodable {
  var mechanism =
    "DP-SGD: per-example clipping, exact discrete Gaussian noise on a grid (Canonne-Kamath-Steinke 2020)"
  var learner: String
  /// ε, or ∞ (σ = 0), which JSON has no number for: written as the string "inf".
  var epsilon: Double
  var delta: Double
  var optimalOrder: Double?
  var unit: String
  var notCovered: [String]
  var accountant =
    "Renyi DP of the Poisson-subsampled Gaussian (Mironov-Talwar-Zhang 2019), tight conversion (Balle et al. 2020); integer orders 2-64, 128-1024"
  var sampling: String
  var maxGradNorm: Double
  var noiseMultiplier: Double
  var chargedNoiseMultiplier: Double
  var samplingRate: Double
  var steps: Int
  var secureNoise: Bool

  enum CodingKeys: String, CodingKey {
    case mechanism, learner, epsilon, delta, optimalOrder, unit, notCovered, accountant, sampling
    case maxGradNorm, noiseMultiplier, chargedNoiseMultiplier, samplingRate, steps, secureNoise
  }

  func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(mechanism, forKey: .mechanism)
    try container.encode(learner, forKey: .learner)
    if epsilon.isFinite {
      try container.encode(epsilon, forKey: .epsilon)
    } else {
      try container.encode("inf", forKey: .epsilon)
    }
    try container.encode(delta, forKey: .delta)
    try container.encodeIfPresent(optimalOrder, forKey: .optimalOrder)
    try container.encode(unit, forKey: .unit)
    try container.encode(notCovered, forKey: .notCovered)
    try container.encode(accountant, forKey: .accountant)
    try container.encode(sampling, forKey: .sampling)
    try container.encode(maxGradNorm, forKey: .maxGradNorm)
    try container.encode(noiseMultiplier, forKey: .noiseMultiplier)
    try container.encode(chargedNoiseMultiplier, forKey: .chargedNoiseMultiplier)
    try container.encode(samplingRate, forKey: .samplingRate)
    try container.encode(steps, forKey: .steps)
    try container.encode(secureNoise, forKey: .secureNoise)
  }

  static let notCovered = [
    "the dataset schema (standardisation statistics, class list) fitted on the training data",
    "the number of training records and the test-set evaluation",
    "hyperparameters chosen by looking at results",
  ]

  /// Whose records ε protects, after "over": the scope of ``unit``.
  enum Scope: String {
    /// `colearn train`: one learner on the whole training set.
    case trainingSet = "the whole training set (one learner)"
    /// `colearn simulate`: each participant, over its own shard only.
    case shard = "this participant's own shard (each participant has its own ε)"
    /// `colearn participate`: this participant's local data.
    case dataset = "this participant's dataset"
  }

  init(
    learner name: String, _ learner: DPSGDLearner, delta: Double, secureNoise: Bool,
    scope: Scope
  ) throws {
    try self.init(
      learner: name, charges: learner.state.charges, privacy: learner.trainer.privacy, delta: delta,
      secureNoise: secureNoise, scope: scope)
  }

  init(
    learner name: String, charges: DPSGDCharges, privacy: DPSGDConfiguration, delta: Double,
    secureNoise: Bool, scope: Scope
  ) throws {
    let guarantee = try charges.guarantee(delta: delta)
    learner = name
    epsilon = guarantee.epsilon
    self.delta = delta
    optimalOrder = guarantee.order.isNaN ? nil : guarantee.order
    unit = charges.unit + ", over " + scope.rawValue + (secureNoise ? "" : " — NOT private: noise and batches from a seeded generator")
    notCovered = Self.notCovered + (secureNoise ? [] : ["anything: the seed reveals the noise"])
    sampling = privacy.sampling.rawValue
    maxGradNorm = Double(privacy.maxGradientNorm)
    noiseMultiplier = privacy.noiseMultiplier
    chargedNoiseMultiplier = charges.noiseMultiplier
    samplingRate = charges.samplingRate
    steps = charges.steps
    self.secureNoise = secureNoise
  }

  /// "ε = 1.98 (δ = 1e-05, record-level: …)".
  var summary: String {
    "ε = \(epsilon.isFinite ? format(epsilon, 3) : "∞") (δ = \(delta), \(unit))"
  }
}
