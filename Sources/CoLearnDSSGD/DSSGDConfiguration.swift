import CoLearnNN

/// How a participant chooses the entries of Δw it uploads (SPEC §6 step 4, `--selection`).
public enum SelectionCriterion: String, CaseIterable, Sendable, Codable {
  /// The k entries with the largest |Δw|.
  case largest
  /// Entries with |bound(Δw, γ)| ≥ τ in random order, at most k.
  case threshold
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

  /// - Throws: ``ConfigurationError`` naming the first value out of range.
  public init(
    participants: Int, uploadFraction: Double, downloadFraction: Double = 1,
    selection: SelectionCriterion = .largest, threshold: Float = 1e-4, bound: Float? = nil,
    statDecay: Float = 0.8, order: ExchangeOrder = .roundRobin, staleProbability: Double = 0.5
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
  }
}
