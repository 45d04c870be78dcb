import CoLearnTensor

/// The sparse vector technique of SPEC §8 (Shokri & Shmatikov §7.2): chooses which entries of
/// an update Δw to upload, and their noisy values, under a per-epoch budget ε.
///
/// With c uploads at most, Δf = 2γ, ε₁ = 8ε/9, ε₂ = 2ε/9 and σ(x) = 2·c·Δf/x:
/// 1. draw a noisy threshold r_τ ~ Lap(σ(ε₁));
/// 2. take the next index j of a uniformly random order (each index at most once per epoch —
///    a rejected index is never re-tested with fresh noise);
/// 3. draw r_w ~ Lap(2σ(ε₁)); if |bound(Δw_j, γ)| + r_w ≥ τ + r_τ, upload
///    bound(bound(Δw_j, γ) + Lap(σ(ε₂)), γ) and draw a fresh r_τ;
/// 4. stop after c uploads or when every index was visited.
///
/// The whole epoch is ε-differentially private: the comparisons are the algorithm Sparse of
/// Dwork & Roth (2014, §3.6) with budget ε₁ (threshold noise Lap(2cΔ/ε₁), query noise twice that,
/// fresh threshold after each of at most c positives) for queries of sensitivity ≤ γ ≤ Δf, and
/// the c released values cost Δf/σ(ε₂) = ε₂/(2c) each. ε is spent once the mechanism runs,
/// whatever the number of uploads (see ``SelectionReport``).
///
/// **Exact noise.** Every quantity lives on one ``NoiseGrid`` of step g: the magnitudes, the
/// threshold and the noise are integers in grid units, the comparison is an integer comparison,
/// and all noise is exact ``DiscreteLaplace`` noise with scale ⌈σ/g⌉ ≥ σ/g. The shift argument
/// of the sparse vector proof holds verbatim for integer-valued noise with integer shifts, and
/// rounding costs no sensitivity (see ``NoiseGrid``). The one departure from SPEC §8's formula
/// is the inner bound in step 3, without which Δf = 2γ would not be the sensitivity.
///
/// - Complexity: O(visited) expected time and random bits (one uniform draw for the order and one
///   Laplace sample per visited index), O(c log c) to sort the uploads; no allocation besides
///   the result once the workspace has grown to |w|.
///
/// Threading: an instance owns its workspace and belongs to one thread at a time.
public struct SparseVectorTechnique: Sendable {
  /// The visiting order, a partial Fisher–Yates shuffle of 0..<|w|. Any starting permutation
  /// would give a uniformly random order; it is reset to the identity on every call (O(|w|)
  /// writes, cheap next to the sampling) so that the result depends on the input and the noise
  /// only, not on earlier calls.
  private var order: [Int32] = []
  private var uploaded: [UInt64] = []

  public init() {}

  /// Runs the sparse vector technique for one epoch.
  ///
  /// - Parameters:
  ///   - delta: the update Δw (|w| entries).
  ///   - c: the most uploads, c = ceil(θ_u·|w|), in 1...|w|.
  ///   - gamma: the bound γ > 0.
  ///   - tau: the threshold τ.
  ///   - epsilon: the epoch's budget ε > 0.
  ///   - noise: the source of all randomness (the visiting order too).
  /// - Returns: the uploads (indices increasing, values on the grid within [−γ, γ]) and the report.
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when a secure `noise` source cannot be read.
  public mutating func select(
    delta: UnsafeBufferPointer<Float>, count c: Int, bound gamma: Float, threshold tau: Float,
    epsilon: Double, noise: inout NoiseSource
  ) throws(PrivacyError) -> (vector: SparseVector, report: SelectionReport) {
    let n = delta.count
    checkSelectionArguments(dimension: n, count: c, bound: gamma)
    precondition(tau.isFinite, "threshold τ = \(tau) must be finite")
    let split = BudgetSplit(epsilon: epsilon, bound: gamma, capacity: c)
    let thresholdScale = split.sigma(split.selection)
    let queryScale = 2 * thresholdScale
    let releaseScale = split.sigma(split.release)
    let grid = NoiseGrid(
      smallestScale: min(thresholdScale, releaseScale),
      largestScale: max(queryScale, releaseScale), bound: gamma)
    let thresholdNoise = grid.laplace(scale: thresholdScale)
    let queryNoise = grid.laplace(scale: queryScale)
    let release = GridRelease(grid: grid, scale: releaseScale, bound: gamma)
    let tauUnits = grid.units(of: Double(tau))

    if order.count != n { order = [Int32](repeating: 0, count: n) }
    order.withUnsafeMutableBufferPointer { o in
      for i in o.indices { o[i] = Int32(truncatingIfNeeded: i) }
    }
    uploaded.removeAll(keepingCapacity: true)
    var noisyThreshold = tauUnits + (try thresholdNoise.sample(using: &noise))
    var visited = 0
    while visited < n && uploaded.count < c {
      // One step of Fisher–Yates: a uniformly random index among those not yet visited.
      let pick = visited + Int(try noise.uniform(below: UInt64(n - visited)))
      let j = Int(order[pick])
      order[pick] = order[visited]
      order[visited] = Int32(truncatingIfNeeded: j)
      visited += 1
      let magnitude = abs(release.boundedUnits(delta[j], gamma: gamma))
      if magnitude + (try queryNoise.sample(using: &noise)) >= noisyThreshold {
        let value = try release.release(delta[j], gamma: gamma, using: &noise)
        uploaded.append(packedUpload(index: j, value: value))
        if uploaded.count < c {
          noisyThreshold = tauUnits + (try thresholdNoise.sample(using: &noise))
        }
      }
    }

    let report = SelectionReport(
      mechanism: .sparseVector, epsilon: epsilon, capacity: c, dimension: n, visited: visited,
      uploads: uploaded.count, gridStep: grid.step,
      releaseScale: release.noise.scale * grid.step, isSecure: noise.isSecure)
    return (sortedVector(&uploaded), report)
  }
}

/// The preconditions both mechanisms share: 1 ≤ c ≤ |w| < 2³¹ and γ a positive normal number.
func checkSelectionArguments(dimension n: Int, count c: Int, bound gamma: Float) {
  precondition(n >= 1 && n <= Int(Int32.max), "|w| = \(n) outside 1...2³¹−1")
  precondition(c >= 1 && c <= n, "count c = \(c) outside 1...\(n)")
  precondition(gamma.isNormal && gamma > 0, "bound γ = \(gamma) must be a positive number")
}

/// An upload packed as index << 32 | value bits, so that sorting plain integers sorts by index.
@inline(__always)
func packedUpload(index: Int, value: Float) -> UInt64 {
  UInt64(index) << 32 | UInt64(value.bitPattern)
}

/// The packed uploads as a ``SparseVector``, indices increasing (the indices are distinct).
func sortedVector(_ packed: inout [UInt64]) -> SparseVector {
  packed.sort()
  return SparseVector(
    indices: packed.map { Int32(truncatingIfNeeded: $0 >> 32) },
    values: packed.map { Float(bitPattern: UInt32(truncatingIfNeeded: $0)) })
}
