import CoLearnNN
import CoLearnPrivacy

/// How a participant chooses the entries of Δw it uploads (SPEC §6 step 4, `--selection`).
public enum SelectionCriterion: String, CaseIterable, Sendable, Codable {
  /// The k entries with the largest |Δw|.
  case largest
  /// Entries with |bound(Δw, γ)| ≥ τ in random order, at most k.
  case threshold
  /// The sparse vector technique (SPEC §8): `threshold` with Laplace noise on the threshold,
  /// the comparisons and the released values; ε per epoch (`--dp-epsilon`).
  case svt
  /// The exponential mechanism choosing k entries by |bound(Δw, γ)|, with Laplace noise on the
  /// released values; ε per epoch. An alternative to SPEC §8 (Lyu, Su & Li, VLDB 2017).
  case exponential

  /// Whether the criterion is differentially private (and needs ε and γ).
  public var isPrivate: Bool { self == .svt || self == .exponential }
}

/// Differential privacy of the uploads (SPEC §8): the per-epoch budget ε of the private
/// selection criteria, an optional total budget after which a participant stops uploading, the
/// δ′ of advanced composition in the ledger, and where the noise comes from.
public struct PrivacySettings: Sendable, Hashable, Codable {
  /// ε per participant and epoch (`--dp-epsilon`).
  public var epsilon: Double
  /// The total ε per participant over the run, by basic composition (`--dp-budget`); nil for
  /// none.
  public var budget: PrivacyBudget?
  /// δ′ for advanced composition in the ledger (`--delta`).
  public var delta: Double
  /// Noise from a seeded generator instead of the system's secure one: reproducible, and **not
  /// private** (`--insecure-seeded-noise`).
  public var insecureSeededNoise: Bool

  /// - Throws: ``ConfigurationError`` naming the first value out of range.
  public init(
    epsilon: Double, budget: Double? = nil, delta: Double = 1e-5, insecureSeededNoise: Bool = false
  ) throws(ConfigurationError) {
    guard epsilon > 0, epsilon.isFinite else {
      throw .outOfRange(setting: "dp-epsilon", value: "\(epsilon)", expected: "a number > 0")
    }
    if let budget {
      do {
        self.budget = try PrivacyBudget(totalEpsilon: budget)
      } catch {
        throw .outOfRange(setting: "dp-budget", value: "\(budget)", expected: "a number > 0")
      }
    }
    guard delta > 0, delta < 1 else {
      throw .outOfRange(setting: "delta", value: "\(delta)", expected: "a probability in (0, 1)")
    }
    self.epsilon = epsilon
    self.delta = delta
    self.insecureSeededNoise = insecureSeededNoise
  }
}

/// The order in which participants take their turns (SPEC §6, `--protocol`).
public enum ExchangeOrder: String, CaseIterable, Sendable, Codable {
  /// A fixed order, every round.
  case roundRobin = "round-robin"
  /// A fresh random order every round; each participant holds the server from its download to
  /// its upload.
  case randomOrder = "random-order"
  /// Participants run concurrently, one per core, without coordination; each download is, with
  /// probability p_stale, served from the server state as of the end of the previous round (a
  /// lagging network). A round is N turns. Not reproducible bit for bit: the interleaving of
  /// uploads depends on timing.
  case async
}

/// The distributed selective SGD settings (SPEC §6, paper §5), validated when built.
public struct DSSGDConfiguration: Sendable, Hashable, Codable {
  /// N.
  public var participants: Int
  /// θ_u: the fraction of parameters a participant uploads per round.
  public var uploadFraction: Double
  /// θ_d: the fraction of parameters (largest `stat`) a participant downloads.
  public var downloadFraction: Double
  /// The selection criterion.
  public var selection: SelectionCriterion
  /// τ, for `threshold`.
  public var threshold: Float
  /// γ: uploaded values are bounded to [−γ, γ]; nil for no bound.
  public var bound: Float?
  /// β: the server multiplies `stat` by β once per round.
  public var statDecay: Float
  /// The exchange protocol.
  public var order: ExchangeOrder
  /// p_stale, for `async` (paper: 0.5).
  public var staleProbability: Double
  /// The privacy settings, required by (and only allowed with) `svt` and `exponential`.
  public var privacy: PrivacySettings?
  /// DP-SGD local training (issue 21), instead of plain SGD; its ε is record-level, and what a
  /// participant uploads is post-processing of its DP-SGD trajectory.
  public var dpsgd: DPSGDSettings?

  /// - Throws: ``ConfigurationError`` naming the first value out of range.
  public init(
    participants: Int, uploadFraction: Double, downloadFraction: Double = 1,
    selection: SelectionCriterion = .largest, threshold: Float = 1e-4, bound: Float? = nil,
    statDecay: Float = 0.8, order: ExchangeOrder = .roundRobin, staleProbability: Double = 0.5,
    privacy: PrivacySettings? = nil, dpsgd: DPSGDSettings? = nil
  ) throws(ConfigurationError) {
    guard participants >= 1 else {
      throw .outOfRange(setting: "participants", value: "\(participants)", expected: "an integer ≥ 1")
    }
    guard uploadFraction > 0, uploadFraction <= 1 else {
      throw .outOfRange(
        setting: "upload-fraction", value: "\(uploadFraction)", expected: "a fraction in (0, 1]")
    }
    guard downloadFraction > 0, downloadFraction <= 1 else {
      throw .outOfRange(
        setting: "download-fraction", value: "\(downloadFraction)",
        expected: "a fraction in (0, 1]")
    }
    guard threshold >= 0, threshold.isFinite else {
      throw .outOfRange(setting: "threshold", value: "\(threshold)", expected: "a number ≥ 0")
    }
    if let bound, !(bound > 0 && bound.isFinite) {
      throw .outOfRange(setting: "bound", value: "\(bound)", expected: "a positive number")
    }
    guard statDecay > 0, statDecay <= 1 else {
      throw .outOfRange(setting: "stat-decay", value: "\(statDecay)", expected: "a number in (0, 1]")
    }
    self.participants = participants
    self.uploadFraction = uploadFraction
    self.downloadFraction = downloadFraction
    self.selection = selection
    self.threshold = threshold
    self.bound = bound
    self.statDecay = statDecay
    guard staleProbability >= 0, staleProbability <= 1 else {
      throw .outOfRange(
        setting: "stale-probability", value: "\(staleProbability)", expected: "a probability in [0, 1]")
    }
    self.order = order
    self.staleProbability = staleProbability
    if selection.isPrivate {
      guard privacy != nil else {
        throw .outOfRange(
          setting: "selection", value: selection.rawValue,
          expected: "a per-epoch budget with it: add --dp-epsilon")
      }
      guard bound != nil else {
        throw .outOfRange(
          setting: "selection", value: selection.rawValue,
          expected: "a bound γ with it (the sensitivity is 2γ): add --bound, e.g. 0.001")
      }
    } else if privacy != nil {
      throw .outOfRange(
        setting: "dp-epsilon", value: "\(privacy!.epsilon)",
        expected: "a private selection criterion with it: --selection svt or exponential")
    }
    self.privacy = privacy
    if dpsgd != nil, privacy != nil {
      throw .outOfRange(
        setting: "privacy", value: "dp-sgd",
        expected: "one mechanism per run: DP-SGD or a private selection (svt, exponential), not both")
    }
    self.dpsgd = dpsgd
  }
}

/// DP-SGD in a federation: the training settings and where every participant's noise comes from.
public struct DPSGDSettings: Sendable, Hashable, Codable {
  /// C, σ and the sampling.
  public var training: DPSGDConfiguration
  /// Seeded noise (reproducible, **not private**) instead of the OS generator.
  public var insecureSeededNoise: Bool

  public init(training: DPSGDConfiguration, insecureSeededNoise: Bool) {
    self.training = training
    self.insecureSeededNoise = insecureSeededNoise
  }
}
