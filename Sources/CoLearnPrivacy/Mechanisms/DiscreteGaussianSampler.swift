#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fast exact sampler of one ``DiscreteGaussian`` N_ℤ(0, σ²), σ² = p/r, prepared once for
/// drawing many values (DP-SGD draws one per model parameter and step). The output law is
/// exactly the discrete Gaussian, like ``DiscreteGaussian/sample(using:)`` (the reference), at
/// about a tenth of its cost or less (`colearn bench noise`).
///
/// **Algorithm.** The magnitude a ≥ 0 (P ∝ e^(−a²/(2σ²))) is cut into blocks of width
/// w = 2^e ≈ σ/16: a = m·w + u, 0 ≤ u < w, so that e^(−a²/(2σ²)) = e^(−c·m²)·e^(−γ) with
/// c = w²/(2σ²) = w²·r/(2p) and γ = (2mw + u)·u·r/(2p). Repeat:
/// 1. Propose the block m from a table of dyadic probabilities Q(m) = q_m/2³² (32 random
///    bits, a guide table and usually no search step): the blocks m < M (c·M² ≥ 28: e^(−c·M²) < 2⁻⁴⁰) and, with the table's remaining probability
///    τ, a tail block m = M + j with Q(m) = τ·2^−(⌊j/L⌋+1)/L.
/// 2. Accept m with probability α_m = e^(−c·m²)/(ẑ·Q(m)), where the constant ẑ (slightly above
///    Σ e^(−c·m²)) and the q_m are chosen so that α_m ≤ 1 — with proven bounds, checked when
///    the sampler is built. The coin compares 32 random bits with bounds on α_m precomputed
///    to 2⁻³²; the rare undecided case (probability ≈ 2⁻³²) and the tail continue exactly with
///    ``ExponentialBounds/uniformIsBelow(exponentNumerator:exponentDenominator:factorNumerator:factorDenominator:prefix:prefixBits:noise:)``.
/// 3. Draw u uniformly (e random bits) and accept with probability e^(−γ): Canonne, Kamath &
///    Steinke 2020, Algorithm 1, on the exact rational γ (below 0.5 in the table's blocks, so
///    usually one coin of two bits).
/// 4. A sign bit s; if s = 1 and a = 0 start again (so that 0 is not counted twice); return
///    (−1)^s·a.
///
/// An accepted (m, u) has probability ∝ Q(m)·(1/w)·α_m·e^(−γ) = e^(−a²/(2σ²))/(ẑ·w): exactly
/// the discrete Gaussian, because every coin is exact (each is true exactly when a uniform
/// number spelled out by random bits falls below an exact real; no rounded value decides).
/// Nearly every draw is accepted (probability ≈ 1 − 2⁻²⁰ at step 2, ≈ 0.97 at step 3).
///
/// **Cost.** About 80 random bits (one word, e bits for u, about three more), a table lookup
/// and a few integer operations per value; no allocation outside the rare exact fallback. Every
/// law ``DiscreteGaussian`` supports fits the fast path's integers (p < 2⁵⁵, so 2p < 2⁵⁶ and
/// w²·r < 2⁶⁴); should the table's checks ever fail, the reference sampler is used instead.
///
/// **Not the reference's stream.** For the same seeded source, this sampler draws different
/// values than ``DiscreteGaussian/sample(using:)`` (same law, different use of the bits).
///
/// Threading: an immutable value; the noise source is passed `inout` (one thread at a time).
public struct DiscreteGaussianSampler: Sendable {
  /// The law sampled.
  public let law: DiscreteGaussian
  private let plan: Plan?

  /// The default ``init(_:tableSlack:)`` slack, 2⁻²⁰.
  public static let defaultTableSlack = 0x1p-20

  /// A sampler of `law` (builds the table: about a millisecond).
  ///
  /// - Parameter tableSlack: how much ẑ exceeds Σ e^(−c·m²), relatively (in (0, 1]): about the
  ///   probability of proposing the tail and of rejecting at step 2. Every slack gives exactly
  ///   the same law; a larger one only makes sampling slower (tests use it to exercise the
  ///   tail and the exact fallback).
  /// - Parameter tableReach: the table holds the blocks m with c·m² < `tableReach` (1…40;
  ///   the default 28 leaves the tail below 2⁻⁴⁰). Again any value gives the same law; a small
  ///   one sends many draws through the tail's exact path (for tests).
  public init(
    _ law: DiscreteGaussian, tableSlack: Double = defaultTableSlack, tableReach: Int = 28
  ) {
    precondition(tableSlack > 0 && tableSlack <= 1, "table slack \(tableSlack) outside (0, 1]")
    precondition(tableReach >= 1 && tableReach <= 40, "table reach \(tableReach) outside 1…40")
    self.law = law
    plan = Plan(law, slack: tableSlack, reach: UInt128(tableReach))
  }

  /// Whether this law takes the fast path (otherwise ``DiscreteGaussian/sample(using:)`` is used).
  public var isFast: Bool { plan != nil }

  /// log₂ of the block width w, and the number of table blocks M (nil on the reference path).
  public var blocks: (widthExponent: Int, count: Int)? {
    plan.map { ($0.blockShift, $0.acceptBelow.count) }
  }

  /// One exact sample of ``law``.
  ///
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when a secure `noise` source cannot be read.
  @inline(__always)
  public func sample(using noise: inout NoiseSource) throws(PrivacyError) -> Int64 {
    guard let plan else { return try law.sample(using: &noise) }
    return try plan.sample(using: &noise)
  }

  /// The constants of the fast path.
  private struct Plan: Sendable {
    /// e = log₂ w.
    let blockShift: Int
    /// r, and 2p: the denominator of every exponent.
    let r: UInt64
    let twiceP: UInt64
    /// c = cNumerator/2p.
    let cNumerator: UInt64
    /// ẑ = zNumerator·2^−zShift.
    let zNumerator: UInt64
    let zShift: Int
    /// Q(m) = q_m/2³²: cumulative[m] = Σ_{i<m} q_i (M + 1 entries; the last is the table's total).
    let cumulative: [UInt64]
    /// Per table block m: accept when the 32 bits R satisfy R + 1 ≤ acceptBelow[m]
    /// (then U < α_m), reject when R ≥ rejectFrom[m] (then U ≥ α_m).
    let acceptBelow: [UInt64]
    let rejectFrom: [UInt64]
    /// guide[k] = the block containing k·2²⁴ (where the search for 32 bits with top byte k starts).
    let guide: [UInt8]
    /// The tail: 2³² − total, and the width L of its geometric steps.
    let tailUnits: UInt64
    let tailStep: UInt64

    init?(_ law: DiscreteGaussian, slack: Double, reach: UInt128) {
      let p = law.varianceNumerator
      let r = law.varianceDenominator
      guard p < 1 << 59, r <= DiscreteGaussian.maximumVarianceDenominator else { return nil }
      // w = 2^e ≈ σ/16 (any w gives the exact law; this one makes γ small and the table short).
      let sigma = law.sigma
      let shift = sigma < 32 ? 0 : Int((sigma / 16).exponent)
      let (cn, overflow) = (UInt64(1) << UInt64(2 * shift)).multipliedReportingOverflow(by: r)
      guard shift <= 30, !overflow else { return nil }
      let cd = 2 * p
      // M: the first block with c·M² ≥ reach (by default 28: e^(−c·M²) < 2⁻⁴⁰).
      var count: UInt64 = 1
      while UInt128(cn) * UInt128(count) * UInt128(count) < reach * UInt128(cd) { count += 1 }
      guard count <= 255 else { return nil }
      // ẑ: Σ e^(−c·m²) in floating point, raised by the slack and taken as the exact dyadic rational
      // that the double is. Its value only sets the efficiency; α_m ≤ 1 is ensured below.
      let c = Double(cn) / Double(cd)
      var z = 0.0
      for m in 0..<(Int(count) + 1000) { z += exp(-c * Double(m * m)) }
      z *= 1 + slack
      let zNumerator = UInt64(z.significandBitPattern | (1 << 52))
      let zShift = 52 - Int(z.exponent)
      guard zShift >= 0 else { return nil }
      let precision = 128
      // Q(m) = q_m/2³² with q_m ≥ 2³²·e^(−c·m²)/ẑ (from the proven upper bound), so α_m ≤ 1.
      var cumulative: [UInt64] = [0]
      var acceptBelow: [UInt64] = []
      var rejectFrom: [UInt64] = []
      let lift = BigNatural.powerOfTwo(32 + zShift)
      for m in 0..<count {
        let (lower, upper) = ExponentialBounds.bounds(
          numerator: UInt128(m * m) * UInt128(cn), denominator: cd, precision: precision)
        guard
          let q = ((upper * lift).dividedRoundingDown(by: zNumerator).shiftedRight(precision)
            + BigNatural(1 as UInt64)).uint64
        else { return nil }
        // α_m ∈ [lower, upper]·2^(32+zShift)/(2^128·zNumerator·q); in units of 2⁻³²:
        let scaledLower = (lower * lift).shiftedLeft(32).dividedRoundingDown(by: zNumerator)
          .dividedRoundingDown(by: q).shiftedRight(precision)
        let scaledUpper = (upper * lift).shiftedLeft(32).dividedRoundingDown(by: zNumerator)
          .dividedRoundingDown(by: q).shiftedRight(precision) + BigNatural(1 as UInt64)
        guard let below = scaledLower.uint64, let from = scaledUpper.uint64, below <= 1 << 32
        else { return nil }
        acceptBelow.append(below)
        rejectFrom.append(from)
        cumulative.append(cumulative[cumulative.count - 1] + q)
      }
      let total = cumulative[cumulative.count - 1]
      guard total < 1 << 32 else { return nil }
      var guide: [UInt8] = []
      var start = 0
      for k in 0..<256 {
        while start + 1 < cumulative.count - 1 && cumulative[start + 1] <= UInt64(k) << 24 {
          start += 1
        }
        guide.append(UInt8(start))
      }
      self.guide = guide
      let tailUnits = (1 << 32) - total
      // The tail's acceptance α = e^(−c(M+j)²)·L·2^(⌊j/L⌋+1)/(ẑτ) is at most its value bound at
      // j = 0, e^(−cM²)·2L/(ẑτ), when 2cM·L ≥ ln 2 (here: ≥ 0.7) — check both, exactly.
      var step: UInt64 = 1
      while UInt128(cn) * 20 * UInt128(count) * UInt128(step) < 7 * UInt128(cd) { step += 1 }
      let (_, tailUpper) = ExponentialBounds.bounds(
        numerator: UInt128(count * count) * UInt128(cn), denominator: cd, precision: precision)
      let boundAtZero = tailUpper * BigNatural(2 * step) * lift
      let limit = BigNatural(zNumerator) * BigNatural(tailUnits) * BigNatural.powerOfTwo(precision)
      guard !(limit < boundAtZero) else { return nil }
      blockShift = shift
      self.r = r
      twiceP = cd
      cNumerator = cn
      self.zNumerator = zNumerator
      self.zShift = zShift
      self.cumulative = cumulative
      self.acceptBelow = acceptBelow
      self.rejectFrom = rejectFrom
      self.tailUnits = tailUnits
      tailStep = step
    }

    @inline(__always)
    func sample(using noise: inout NoiseSource) throws(PrivacyError) -> Int64 {
      let total = cumulative[cumulative.count - 1]
      while true {
        // 1–2. The block m, accepted with α_m.
        // One word: the low half picks the block, the high half is α_m's coin.
        let word = try noise.nextWord()
        let bits = word & 0xFFFF_FFFF
        let m: UInt64
        if bits < total {
          m = block(containing: bits)
          let coin = word >> 32
          if coin + 1 > acceptBelow[Int(m)] {
            if coin >= rejectFrom[Int(m)] { continue }
            guard
              try ExponentialBounds.uniformIsBelow(
                exponentNumerator: UInt128(m * m) * UInt128(cNumerator), exponentDenominator: twiceP,
                factorNumerator: BigNatural.powerOfTwo(32 + zShift),
                factorDenominator: BigNatural(zNumerator)
                  * BigNatural(cumulative[Int(m) + 1] - cumulative[Int(m)]),
                prefix: coin, prefixBits: 32, noise: &noise)
            else { continue }
          }
        } else {
          guard let tail = try tailBlock(using: &noise) else { continue }
          m = tail
        }
        // 3. The offset u, accepted with e^(−γ), γ = (2mw + u)·u·r/(2p).
        let u = try noise.nextBits(blockShift)
        let magnitude = m << UInt64(blockShift) + u
        let (whole, rest) = split(
          UInt128(magnitude + m << UInt64(blockShift)) * UInt128(u) * UInt128(r))
        guard try bernoulliExp(whole: whole, numerator: rest, denominator: twiceP, noise: &noise)
        else { continue }
        // 4. The sign.
        let negative = try noise.nextBit()
        if negative && magnitude == 0 { continue }
        return negative ? -Int64(magnitude) : Int64(magnitude)
      }
    }

    /// The table block m with cumulative[m] ≤ bits < cumulative[m + 1], for bits below the
    /// table's total: from the guide entry of the top byte, forward (usually no step or one).
    @inline(__always)
    private func block(containing bits: UInt64) -> UInt64 {
      var m = Int(guide[Int(bits >> 24)])
      while cumulative[m + 1] <= bits { m += 1 }
      return UInt64(m)
    }

    /// A tail block m = M + j (j = g·L + v, P(g) = 2^−(g+1), v uniform below L), accepted with
    /// its α exactly; nil when rejected. Reached with probability τ ≈ 2⁻²⁰.
    private func tailBlock(using noise: inout NoiseSource) throws(PrivacyError) -> UInt64? {
      var g = 0
      while !(try noise.nextBit()) { g += 1 }
      let j = UInt64(g) * tailStep + (try noise.uniform(below: tailStep))
      let m = UInt64(acceptBelow.count) + j
      let accepted = try ExponentialBounds.uniformIsBelow(
        exponentNumerator: UInt128(m) * UInt128(m) * UInt128(cNumerator),
        exponentDenominator: twiceP,
        factorNumerator: BigNatural(tailStep) * BigNatural.powerOfTwo(g + 1 + 32 + zShift),
        factorDenominator: BigNatural(zNumerator) * BigNatural(tailUnits),
        prefix: 0, prefixBits: 0, noise: &noise)
      return accepted ? m : nil
    }

    /// x/2p as a whole part and a remainder: by subtraction while the whole part is small (the
    /// usual case), by division otherwise.
    @inline(__always)
    private func split(_ x: UInt128) -> (whole: UInt128, remainder: UInt64) {
      let d = UInt128(twiceP)
      if x < 8 * d {
        var rest = x
        var whole: UInt128 = 0
        while rest >= d {
          rest &-= d
          whole &+= 1
        }
        return (whole, UInt64(truncatingIfNeeded: rest))
      }
      let (whole, rest) = x.quotientAndRemainder(dividingBy: d)
      return (whole, UInt64(truncatingIfNeeded: rest))
    }

    /// Bernoulli(e^−(whole + n/d)), n < d (CKS 2020, Algorithm 1): ⌊γ⌋ coins Bernoulli(e⁻¹),
    /// stopping at the first failure, and one Bernoulli(e^−(n/d)).
    @inline(__always)
    private func bernoulliExp(
      whole: UInt128, numerator n: UInt64, denominator d: UInt64, noise: inout NoiseSource
    ) throws(PrivacyError) -> Bool {
      var remaining = whole
      while remaining > 0 {
        guard try noise.bernoulliExp(numerator: 1, denominator: 1) else { return false }
        remaining -= 1
      }
      // Bernoulli(e^−(n/d)): the first failing coin Bernoulli(n/(d·k)), k = 1, 2, …, is odd
      // with probability e^−(n/d). One bit at a time: about two bits and no division per coin.
      var k: UInt64 = 1
      while n > 0 {
        let (scaled, overflow) = d.multipliedReportingOverflow(by: k)
        let success: Bool
        if !overflow && scaled <= NoiseSource.maximumDenominator {
          success = try noise.bernoulli(numerator: n, denominator: scaled)
        } else {
          // d·k > 2⁶² needs k ≥ 4 (d ≤ 2⁶⁰): probability below 1/3!.
          success = try noise.wideBernoulli(
            numerator: UInt128(n), denominator: UInt128(d) * UInt128(k))
        }
        if !success { break }
        k += 1
      }
      return k & 1 == 1
    }
  }
}
