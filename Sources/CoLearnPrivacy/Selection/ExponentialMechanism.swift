import CoLearnTensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Private top-c selection with the exponential mechanism (McSherry & Talwar 2007), repeated c
/// times without replacement as in Lyu, Su & Li (VLDB 2017): an alternative to the sparse vector
/// technique that always uploads exactly c values, under the same budget split (SPEC §8).
///
/// **Mechanism.** Utility u_j = |bound(Δw_j, γ)| ∈ [0, γ]. Neighbouring data may change Δw
/// arbitrarily, but u stays in [0, γ], so its sensitivity is Δu = γ (the width of the range).
/// Each of the c picks chooses a remaining index j with probability ∝ exp(ε_pick·u_j/(2Δu)),
/// ε_pick = ε₁/c, so the c picks are ε₁-DP together (ε₁ = 8ε/9); the picked values are then
/// released as in ``SparseVectorTechnique``, bound(bound(Δw_j, γ) + Lap(σ(ε₂)), γ) on a grid,
/// for ε₂/2 (ε₂ = 2ε/9). Total: ε per epoch.
///
/// **Exact sampling.** Utilities are put on a grid of γ/4096…γ/8192 (levels 0…L, L = ⌊γ/g⌋;
/// rounding and clamping on the grid keep the range, hence Δu, as argued in ``NoiseGrid``), and
/// the per-level rate a = ε_pick/(2L) is rounded *down* to a multiple of 2⁻⁵⁰ (so a pick spends
/// at most ε_pick; below ε_pick ≈ 10⁻⁶ the rounding gives away more than 10⁻⁴ of it, and a is
/// capped at 4096 per level, far beyond any meaningful ε). A pick is then exact rejection
/// sampling: propose a uniformly random remaining index j, accept it with probability
/// exp(−a·(U − u_j)) (U = the highest remaining level), drawn by the exact
/// ``NoiseSource/bernoulliExp(whole:numerator:denominator:)``. An accepted j has probability
/// ∝ exp(a·u_j), exactly the exponential mechanism's, with no floating point in any decision.
///
/// Why not the Gumbel trick: one-shot top-c with Gumbel noise (Durfee & Rogers 2019) is the
/// same distribution in exact arithmetic, but Gumbel noise made from floating-point logarithms
/// carries the defects Mironov showed for Laplace (a support and tails that depend on rounding),
/// with no proof of what it costs; rejection sampling needs only exact coins.
///
/// **Ties** are broken uniformly at random, as the mechanism prescribes (equal utilities have
/// equal probability); values with |Δw| ≥ γ all have utility γ and are tied.
///
/// - Complexity: O(|w| + L) to set up, then O(min(e^(ε_pick/2), remaining)) expected proposals
///   per pick — O(1) in the useful regime (≤ 2.5 at ε/c ≤ 2), growing with ε/c. Calls whose
///   worst-case expectation c·min(e^(ε_pick/2), |w|) exceeds ``maximumProposals`` throw before
///   looking at the data. O(c log c) to sort the uploads.
///
/// Threading: an instance owns its workspace and belongs to one thread at a time.
public struct ExponentialMechanism: Sendable {
  /// The worst-case expected number of proposals a call may need (2²⁸, a few seconds).
  public static let maximumProposals: Double = 0x1p28

  /// Fractional bits of the per-level rate a.
  private static let rateBits = 50

  private var levels: [UInt16] = []
  private var remaining: [Int32] = []
  private var levelCounts: [Int32] = []
  private var picked: [Int] = []
  private var uploads: [UInt64] = []

  public init() {}

  /// Picks c distinct indices of `delta` with the repeated exponential mechanism and releases
  /// their noisy values.
  ///
  /// - Parameters:
  ///   - delta: the update Δw (|w| entries).
  ///   - c: how many indices to pick, in 1...|w|.
  ///   - gamma: the bound γ > 0.
  ///   - epsilon: the epoch's budget ε > 0.
  ///   - noise: the source of all randomness.
  /// - Returns: c uploads (indices increasing, values on the grid within [−γ, γ]) and the report.
  /// - Throws: ``PrivacyError/selectionTooCostly(worstCaseProposals:limit:)`` (before any
  ///   randomness is drawn) when ε/c is too large for exact sampling at this |w|, and
  ///   ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)`` when a
  ///   secure `noise` source cannot be read.
  public mutating func select(
    delta: UnsafeBufferPointer<Float>, count c: Int, bound gamma: Float, epsilon: Double,
    noise: inout NoiseSource
  ) throws(PrivacyError) -> (vector: SparseVector, report: SelectionReport) {
    let n = delta.count
    checkSelectionArguments(dimension: n, count: c, bound: gamma)
    let split = BudgetSplit(epsilon: epsilon, bound: gamma, capacity: c)
    let perPick = split.selection / Double(c)
    let worstCase = Double(c) * min(exp(perPick / 2), Double(n))
    guard worstCase <= Self.maximumProposals else {
      throw .selectionTooCostly(worstCaseProposals: worstCase, limit: Self.maximumProposals)
    }

    let top = placeOnLevels(delta, bound: gamma)
    let rate = Self.rateNumerator(perPick: perPick, topLevel: top)
    picked.removeAll(keepingCapacity: true)
    var highest = top
    while levelCounts[highest] == 0 { highest -= 1 }
    for _ in 0..<c {
      let position = try proposeUntilAccepted(rate: rate, highest: highest, using: &noise)
      let j = remaining[position]
      let level = Int(levels[Int(j)])
      remaining.swapAt(position, remaining.count - 1)
      remaining.removeLast()
      levelCounts[level] -= 1
      while highest > 0 && levelCounts[highest] == 0 { highest -= 1 }
      picked.append(Int(j))
    }

    let releaseScale = split.sigma(split.release)
    let grid = NoiseGrid(smallestScale: releaseScale, largestScale: releaseScale, bound: gamma)
    let release = GridRelease(grid: grid, scale: releaseScale, bound: gamma)
    uploads.removeAll(keepingCapacity: true)
    for j in picked {
      let value = try release.release(delta[j], gamma: gamma, using: &noise)
      uploads.append(packedUpload(index: j, value: value))
    }
    let report = SelectionReport(
      mechanism: .exponential, epsilon: epsilon, capacity: c, dimension: n, visited: n,
      uploads: c, gridStep: grid.step, releaseScale: release.noise.scale * grid.step,
      isSecure: noise.isSecure)
    return (sortedVector(&uploads), report)
  }

  /// Puts |bound(Δw_j, γ)| on the levels 0…L (L = ⌊γ/g⌋, g = 2^(⌊log₂ γ⌋ − 12)), fills the
  /// level counts and the list of remaining indices.
  /// - Returns: L.
  private mutating func placeOnLevels(_ delta: UnsafeBufferPointer<Float>, bound gamma: Float) -> Int {
    let step = Double(sign: .plus, exponent: Int(gamma.exponent) - 12, significand: 1)
    let top = Int((Double(gamma) / step).rounded(.down))  // 4096…8191
    if levels.count != delta.count { levels = [UInt16](repeating: 0, count: delta.count) }
    if levelCounts.count == top + 1 {
      levelCounts.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    } else {
      levelCounts = [Int32](repeating: 0, count: top + 1)
    }
    remaining.removeAll(keepingCapacity: true)
    remaining.append(contentsOf: 0..<Int32(delta.count))
    for j in delta.indices {
      let magnitude = Double(abs(bound(delta[j], gamma: gamma)))
      let level = min(top, Int((magnitude / step).rounded()))
      levels[j] = UInt16(level)
      levelCounts[level] += 1
    }
    return top
  }

  /// a·2⁵⁰ for a = ε_pick/(2L), rounded down (with a relative margin of 2⁻⁴⁰ against rounding in
  /// ε_pick's computation) and capped at 2⁶² (a ≤ 4096).
  private static func rateNumerator(perPick: Double, topLevel: Int) -> UInt64 {
    let scaled = perPick / Double(2 * topLevel) * (1 - 0x1p-40) * 0x1p50
    return UInt64(min(0x1p62, scaled.rounded(.down)))
  }

  /// Rejection sampling of one pick: proposes uniform positions in `remaining` until one is
  /// accepted with probability exp(−a·(highest − level)).
  /// - Returns: the accepted position in `remaining`.
  private func proposeUntilAccepted(
    rate: UInt64, highest: Int, using noise: inout NoiseSource
  ) throws(PrivacyError) -> Int {
    let fractionMask: UInt64 = (1 << Self.rateBits) - 1
    while true {
      let position = Int(try noise.uniform(below: UInt64(remaining.count)))
      let gap = UInt64(highest - Int(levels[Int(remaining[position])]))
      // a·gap = rate·gap / 2⁵⁰ exactly: rate < 2⁶³ and gap < 2¹³, so the product fits in 128 bits.
      let (high, low) = rate.multipliedFullWidth(by: gap)
      let whole = high << (64 - Self.rateBits) | low >> Self.rateBits
      let accepted = try noise.bernoulliExp(
        whole: whole, numerator: low & fractionMask, denominator: 1 << Self.rateBits)
      if accepted { return position }
    }
  }
}
