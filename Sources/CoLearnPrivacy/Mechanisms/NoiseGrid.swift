/// The grid of values g·k (k an integer, g = 2^``exponent``) on which the mechanisms compare and
/// release values, so that exact integer noise (``DiscreteLaplace``) can be added to them.
///
/// **Choice of g.** g is a power of two, so that x/g and k·g are exact in binary floating point,
/// chosen relative to both the smallest noise scale b and the bound γ:
/// g = 2^(⌊log₂ min(b, γ)⌋ − 12). Values are then resolved to 1/4096 of γ or finer (rounding
/// moves a value by at most g/2, far below the noise), and a Laplace scale in grid units,
/// b/g ≥ 4096, is rounded *up* to an integer t = ⌈b/g⌉ with a relative excess below 2⁻¹²
/// (more noise than nominal: the privacy guarantee only gets stronger). Two caps keep the
/// integers small: g is raised so that the largest scale is at most 2⁴⁸ grid units (the exact
/// sampler needs t ≤ 2⁵⁰) and γ at most 2⁴⁰ (values and noise stay far inside Int64).
///
/// **Privacy cost of rounding: none.** A value is bounded, rounded to the grid, and clamped again
/// to ±⌊γ/g⌋·g ⊆ [−γ, γ]. The sensitivity used for the noise is the width of that range, not a
/// Lipschitz constant: two neighbouring inputs give grid values at most 2⌊γ/g⌋·g ≤ 2γ = Δf apart
/// (at most γ apart for magnitudes), so the nominal Δf stays valid on the grid. (Clamping to the
/// real γ after rounding could reach ±(⌊γ/g⌋ + 1)·g, and would cost a sensitivity of Δf + g;
/// clamping on the grid avoids it.)
struct NoiseGrid: Sendable, Hashable {
  /// Bits of resolution below the smaller of the noise scale and γ.
  static let resolutionBits = 12
  /// The largest noise scale, in grid units.
  static let maximumScaleBits = 48
  /// The largest bound γ, in grid units.
  static let maximumBoundBits = 40

  /// g = 2^exponent.
  let exponent: Int

  /// The grid for noise scales in `smallestScale`...`largestScale` and bound `gamma` (see the
  /// type's documentation).
  init(smallestScale: Double, largestScale: Double, bound gamma: Float) {
    precondition(
      smallestScale > 0 && smallestScale <= largestScale && largestScale.isFinite,
      "noise scales \(smallestScale)...\(largestScale)")
    precondition(gamma.isNormal && gamma > 0, "bound γ = \(gamma) must be a positive number")
    let finest = min(smallestScale, Double(gamma)).exponent - Self.resolutionBits
    let forScale = Self.ceilingLog2(largestScale) - Self.maximumScaleBits
    let forBound = Int(gamma.exponent) - Self.maximumBoundBits
    exponent = max(finest, forScale, forBound)
  }

  /// The grid step g.
  var step: Double { Double(sign: .plus, exponent: exponent, significand: 1) }

  /// ⌈log₂ x⌉ for a positive finite x.
  private static func ceilingLog2(_ x: Double) -> Int {
    Int(x.exponent) + (x.significand > 1 ? 1 : 0)
  }

  /// round(x/g), ties away from zero, clamped to ±2⁶⁰ (exact: dividing by a power of two is).
  func units(of x: Double) -> Int64 {
    let scaled = (x / step).rounded()
    let limit = Double(1 << 60)
    return Int64(max(-limit, min(limit, scaled)))
  }

  /// ⌊γ/g⌋, the bound in grid units.
  func boundUnits(_ gamma: Float) -> Int64 {
    Int64((Double(gamma) / step).rounded(.down))
  }

  /// k·g as a Float. When |k| ≥ 2²⁴ the Float rounds k·g to a multiple of its own ulp, a power
  /// of two at least g, so the result still lies on the grid.
  func value(ofUnits k: Int64) -> Float {
    Float(Double(k) * step)
  }

  /// Discrete Laplace noise in grid units with scale ⌈b/g⌉ ≥ b/g (never less noise than asked).
  func laplace(scale b: Double) -> DiscreteLaplace {
    // One ulp of slack against rounding in the caller's computation of b.
    let units = (b.nextUp / step).rounded(.up)
    return DiscreteLaplace(scaleNumerator: UInt64(max(1, units)))
  }
}

/// Releases bound(bound(x, γ) + Lap(b), γ) on a grid: the value is bounded and put on the grid,
/// exact discrete Laplace noise of scale b is added, and the sum is clamped to the grid's bound.
///
/// The inner bound is what makes the sensitivity 2γ (SPEC §8 writes bound(Δw + noise, γ); without
/// clipping Δw first, the sensitivity of Δw itself would be unbounded).
struct GridRelease: Sendable {
  let grid: NoiseGrid
  /// ⌊γ/g⌋.
  let boundUnits: Int64
  let noise: DiscreteLaplace

  init(grid: NoiseGrid, scale: Double, bound gamma: Float) {
    self.grid = grid
    boundUnits = grid.boundUnits(gamma)
    noise = grid.laplace(scale: scale)
  }

  /// clamp(round(bound(x, γ)/g), ±⌊γ/g⌋): x on the grid, inside the grid's bound.
  @inline(__always)
  func boundedUnits(_ x: Float, gamma: Float) -> Int64 {
    clamp(grid.units(of: Double(bound(x, gamma: gamma))))
  }

  @inline(__always)
  func clamp(_ k: Int64) -> Int64 {
    max(-boundUnits, min(boundUnits, k))
  }

  /// The released value of `x`: on the grid, within ±⌊γ/g⌋·g.
  /// - Throws: as ``DiscreteLaplace/sample(using:)``.
  func release(_ x: Float, gamma: Float, using source: inout NoiseSource) throws(PrivacyError)
    -> Float
  {
    let noisy = boundedUnits(x, gamma: gamma) + (try noise.sample(using: &source))
    return grid.value(ofUnits: clamp(noisy))
  }
}
