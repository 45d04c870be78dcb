/// What one run of a private selection mechanism did and what it cost, for one participant and
/// one epoch. Kept by the participant (it is not uploaded) and fed to ``PrivacyLedger``.
///
/// Two accountings, named apart on purpose:
/// - ``epsilonSpent`` is the guarantee: the whole epoch is ε-differentially private, and the
///   whole ε is spent as soon as the mechanism runs — the sparse vector technique's threshold
///   comparisons consume ε₁ even when nothing is uploaded.
/// - ``epsilonChargedByUploads`` is the paper's bookkeeping (SPEC §8: "charge ε/c" per upload):
///   uploads·ε/c. It equals ``epsilonSpent`` only when all c uploads happened and is an
///   under-estimate otherwise.
public struct SelectionReport: Sendable, Hashable, Codable {
  /// Which mechanism selected the uploads.
  public enum Mechanism: String, Sendable, Hashable, Codable {
    /// ``SparseVectorTechnique`` (SPEC §8).
    case sparseVector
    /// ``ExponentialMechanism`` (repeated exponential mechanism, top-c).
    case exponential
  }

  /// Which mechanism ran.
  public var mechanism: Mechanism
  /// The epoch's budget ε, spent in full.
  public var epsilon: Double
  /// The most uploads the epoch allowed, c.
  public var capacity: Int
  /// |w|, the length of the update vector.
  public var dimension: Int
  /// Indices the mechanism looked at: for the sparse vector technique, how many were tested
  /// against the threshold (each at most once); for the exponential mechanism, all |w| candidates.
  public var visited: Int
  /// Values uploaded (≤ c).
  public var uploads: Int
  /// The grid step g of the released values (every value is an integer multiple of it).
  public var gridStep: Double
  /// The Laplace scale of the noise on released values, in value units: ⌈σ(ε₂)/g⌉·g ≥ σ(ε₂).
  public var releaseScale: Double
  /// Whether the noise came from the secure system generator. When false the upload is NOT private.
  public var isSecure: Bool

  /// The privacy guarantee of the epoch: ε, whatever the number of uploads.
  public var epsilonSpent: Double { epsilon }

  /// The paper's per-upload charge, ε/c.
  public var epsilonPerUpload: Double { epsilon / Double(capacity) }

  /// The paper's accounting, uploads·ε/c (≤ ``epsilonSpent``; see the type's documentation).
  public var epsilonChargedByUploads: Double { Double(uploads) * epsilonPerUpload }
}

/// The budget split of SPEC §8 shared by both mechanisms: ε₁ = 8ε/9 for choosing indices,
/// ε₂ = 2ε/9 for the released values, Δf = 2γ, σ(x) = 2·c·Δf/x; total ε₁ + ε₂/2 = ε (c values,
/// each with noise Lap(σ(ε₂)), cost c·Δf/σ(ε₂) = ε₂/2).
struct BudgetSplit {
  let selection: Double
  let release: Double
  let sensitivity: Double
  let capacity: Int

  init(epsilon: Double, bound gamma: Float, capacity: Int) {
    precondition(epsilon.isFinite && epsilon > 0, "ε = \(epsilon) must be a finite number above 0")
    selection = 8 * epsilon / 9
    release = 2 * epsilon / 9
    sensitivity = 2 * Double(gamma)
    self.capacity = capacity
  }

  /// σ(x) = 2·c·Δf/x.
  func sigma(_ x: Double) -> Double {
    2 * Double(capacity) * sensitivity / x
  }
}
