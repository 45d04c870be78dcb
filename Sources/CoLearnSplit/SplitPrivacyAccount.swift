import Foundation

import CoLearnPrivacy

/// What ε means in a split-learning run, stated for three units of protection (a run's
/// `privacy.json`). The paper's ε is the first; the other two are what a user who cares about
/// a whole image needs to know.
///
/// Per epoch every sample is sent exactly once (its batch's values get fresh noise), so over E
/// epochs the guarantees compose E times: basic composition E·ε, or advanced composition for a
/// δ′ (Dwork–Rothblum–Vadhan) when that is smaller.
///
/// 1. **Per value** (the paper's claim, §3): changing one feature value X_{i,j,k} of one sample
///    changes the release by at most S = 2·√(B−1), and Lap(S/ε) hides it: ε per value and epoch.
/// 2. **Per sample, its own values**: a sample's d values are all released, each at ε; by basic
///    composition its own d features are d·ε-DP per epoch (d = 1,280 features or 784 pixels).
/// 3. **Per sample, whole batch** (features only): BatchNorm couples the batch, so replacing
///    one image can move the features of all B samples of its batch. Each feature column of B
///    values has Σx = 0 and Σx² = B before and after, so its L1 change is at most
///    √B·‖x − x′‖₂ ≤ √B·2√B = 2B; with per-value noise of scale 2√(B−1)/ε the column costs
///    B·ε/√(B−1), and the d columns d·B·ε/√(B−1) per epoch (an upper bound; grid rounding adds
///    at most B·g per column, below 2⁻¹² of it).
///
/// Labels are sent in the clear (no protection), and the front gradient the sender shares with
/// the other participants is not noised either; neither goes through a mechanism above.
public struct SplitPrivacyAccount: Sendable, Hashable, Codable {
  /// ε per released value and epoch (nil: ε = ∞, nothing noised).
  public var epsilonPerValue: Double?
  /// Epochs run (releases of each sample).
  public var epochs: Int
  /// Values released per sample: d.
  public var valuesPerSample: Int
  /// B.
  public var batchSize: Int
  /// What crossed: features or pixels.
  public var boundary: SplitBoundary
  /// δ′ of the advanced-composition totals.
  public var deltaPrime: Double

  /// The account of a run.
  public init(
    epsilonPerValue: Double?, epochs: Int, valuesPerSample: Int, batchSize: Int,
    boundary: SplitBoundary, deltaPrime: Double
  ) {
    self.epsilonPerValue = epsilonPerValue
    self.epochs = epochs
    self.valuesPerSample = valuesPerSample
    self.batchSize = batchSize
    self.boundary = boundary
    self.deltaPrime = deltaPrime
  }

  /// ε per epoch for one sample's own values, d·ε (nil when not noised).
  public var epsilonPerSampleOwnValues: Double? {
    epsilonPerValue.map { Double(valuesPerSample) * $0 }
  }

  /// ε per epoch for one sample including its effect on its batch through BatchNorm,
  /// d·B·ε/√(B−1) for features; the same as ``epsilonPerSampleOwnValues`` for pixels.
  public var epsilonPerSampleWholeBatch: Double? {
    guard let epsilon = epsilonPerValue else { return nil }
    switch boundary {
    case .pixels:
      return Double(valuesPerSample) * epsilon
    case .features:
      let b = Double(batchSize)
      return Double(valuesPerSample) * b * epsilon / (b - 1).squareRoot()
    }
  }

  /// The total over the epochs of a per-epoch ε: the tighter of basic and advanced composition.
  public func total(perEpoch epsilon: Double) -> PrivacyGuarantee {
    bestComposition(epsilon: epsilon, count: epochs, deltaPrime: deltaPrime)
  }
}

extension SplitPrivacyAccount {
  /// The account as lines of text for the terminal.
  public var lines: [String] {
    guard let epsilon = epsilonPerValue else {
      return ["privacy: ε = ∞ — values crossed the boundary without noise (no privacy)"]
    }
    func describe(_ perEpoch: Double) -> String {
      let total = total(perEpoch: perEpoch)
      let delta = total.delta > 0 ? String(format: ", δ = %.0e", total.delta) : ""
      return String(format: "%.6g per epoch, %.6g over %d epochs%@", perEpoch, total.epsilon, epochs, delta)
    }
    var lines = [
      "privacy (\(boundary.rawValue), B = \(batchSize), d = \(valuesPerSample) values per sample):",
      "  per value (the paper's ε):        " + describe(epsilon),
      "  per sample, its own d values:     " + describe(epsilonPerSampleOwnValues!),
    ]
    if boundary == .features {
      lines.append("  per sample, with BatchNorm's batch coupling: " + describe(epsilonPerSampleWholeBatch!))
    }
    lines.append(
      "  each figure is per crossing, NOT an upper bound per image: labels are sent in the clear, "
        + "and the un-noised front updates computed on raw images change every feature sent later")
    return lines
  }
}
