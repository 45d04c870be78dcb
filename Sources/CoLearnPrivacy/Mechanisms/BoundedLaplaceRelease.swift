/// The Laplace mechanism for values that lie in a known interval [c − γ, c + γ]: every value is
/// released as itself plus independent Laplace noise of scale b = S/ε, with sensitivity
/// S = 2γ (the width of the interval). This is the noise of split learning (SPEC §9, Jiang et
/// al. §3): batch-normalised features lie in [−√(B−1), √(B−1)], so S = 2·√(B−1); raw 8-bit
/// pixels lie in [0, 255], so S = 255.
///
/// **Exact noise on a grid, immune to the floating-point attack.** Textbook `b·log(U)` noise in
/// floating point leaks the input through the set of floats it can produce (Mironov, CCS 2012).
/// Here, as in the rest of this target, a value x is moved to the grid of step g = 2^k
/// (``NoiseGrid``, chosen from b and γ), `k_x = clamp(round((x − c)/g), ±⌊γ/g⌋)`, an exact
/// ``DiscreteLaplace`` integer of scale ⌈b/g⌉ grid units is added, and the released value is
/// `c + (k_x + noise)·g`. The released value is a deterministic function of the integer
/// `k_x + noise`, whose law is exactly the discrete Laplace law shifted by `k_x`.
///
/// **Privacy.** Neighbouring values give grid positions at most 2⌊γ/g⌋ ≤ 2γ/g = S/g apart (the
/// clamp on the grid keeps the range inside [c − γ, c + γ], so rounding costs no sensitivity),
/// and the noise scale in grid units is at least b/g = S/(ε·g): each released value is ε-DP with
/// respect to a change of that value, the guarantee of the paper. Values outside the interval
/// (which the caller promised not to pass, up to floating-point rounding) are clamped to it.
///
/// **No output clamp.** Unlike ``SparseVectorTechnique`` releases, the noisy value is *not*
/// clamped back into the interval: the paper adds plain Laplace noise, and the receiver trains
/// on the noisy values as they are. (Clamping would be free post-processing, but it would
/// change the learning problem.)
///
/// - Complexity: O(1) expected random bits per value (about 0.1–0.2 µs), independent of b.
///
/// Threading: a value; ``release(_:using:)`` takes the noise source `inout`.
public struct BoundedLaplaceRelease: Sendable, Hashable {
  /// c, the centre of the interval.
  public let center: Float
  /// γ, the half-width of the interval.
  public let bound: Float
  /// ε of every released value.
  public let epsilon: Double

  let grid: NoiseGrid
  let boundUnits: Int64
  let noise: DiscreteLaplace

  /// The mechanism for values in [`center` − `bound`, `center` + `bound`] at `epsilon`.
  ///
  /// - Precondition: `bound` is a positive normal number and `epsilon` a finite number above 0
  ///   (callers validate user settings before building a mechanism).
  public init(center: Float = 0, bound: Float, epsilon: Double) {
    precondition(bound.isNormal && bound > 0, "bound γ = \(bound) must be a positive number")
    precondition(epsilon.isFinite && epsilon > 0, "ε = \(epsilon) must be a finite number above 0")
    self.center = center
    self.bound = bound
    self.epsilon = epsilon
    let scale = 2 * Double(bound) / epsilon
    grid = NoiseGrid(smallestScale: scale, largestScale: scale, bound: bound)
    boundUnits = grid.boundUnits(bound)
    noise = grid.laplace(scale: scale)
  }

  /// S = 2γ, the sensitivity of one value.
  public var sensitivity: Double { 2 * Double(bound) }

  /// b = S/ε, the Laplace scale the paper prescribes.
  public var nominalScale: Double { sensitivity / epsilon }

  /// The scale actually applied, ⌈b/g⌉·g ≥ b (at most 2⁻¹² relatively above ``nominalScale``).
  public var appliedScale: Double { noise.scale * gridStep }

  /// g, the grid step of released values (a power of two).
  public var gridStep: Double { grid.step }

  /// The standard deviation of the applied noise, √(2q)/(1 − q)·g (≈ √2·b).
  public var noiseStandardDeviation: Double { noise.variance.squareRoot() * gridStep }

  /// Replaces every value x of `values` by its release c + (clamp(round((x − c)/g)) + noise)·g.
  ///
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when a secure `source` cannot be read; values already visited have been released then,
  ///   and the caller must not send any of them.
  /// - Complexity: O(values.count).
  public func release(
    _ values: UnsafeMutableBufferPointer<Float>, using source: inout NoiseSource
  ) throws(PrivacyError) {
    let center = Double(center)
    let step = grid.step
    for index in values.indices {
      let units = max(-boundUnits, min(boundUnits, grid.units(of: Double(values[index]) - center)))
      let noisy = units + (try noise.sample(using: &source))
      values[index] = Float(center + Double(noisy) * step)
    }
  }
}
