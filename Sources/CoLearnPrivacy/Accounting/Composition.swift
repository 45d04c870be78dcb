#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An (ε, δ)-differential-privacy guarantee.
public struct PrivacyGuarantee: Sendable, Hashable, Codable {
  /// ε ≥ 0.
  public var epsilon: Double
  /// δ in [0, 1].
  public var delta: Double

  public init(epsilon: Double, delta: Double = 0) {
    self.epsilon = epsilon
    self.delta = delta
  }
}

// MARK: - Composition theorems (pure)

/// Basic (sequential) composition: running mechanisms that are (εᵢ, δᵢ)-DP, even adaptively, is
/// (Σεᵢ, Σδᵢ)-DP (Dwork, McSherry, Nissim & Smith 2006; Dwork & Roth 2014, Theorem 3.16).
///
/// - Complexity: O(count).
public func basicComposition(_ guarantees: [PrivacyGuarantee]) -> PrivacyGuarantee {
  var total = PrivacyGuarantee(epsilon: 0, delta: 0)
  for guarantee in guarantees {
    total.epsilon += guarantee.epsilon
    total.delta += guarantee.delta
  }
  return total
}

/// Basic composition of `count` mechanisms that are each (ε, δ)-DP: (k·ε, k·δ).
public func basicComposition(epsilon: Double, delta: Double = 0, count k: Int) -> PrivacyGuarantee {
  precondition(k >= 0, "count \(k) < 0")
  return PrivacyGuarantee(epsilon: Double(k) * epsilon, delta: Double(k) * delta)
}

/// Advanced composition (Dwork, Rothblum & Vadhan 2010, Theorem III.3; Dwork & Roth 2014,
/// Theorem 3.20): `count` adaptively chosen mechanisms, each (ε, δ)-DP, are together
/// (ε′, k·δ + δ′)-DP for every δ′ > 0, with
///
///     ε′ = √(2k·ln(1/δ′))·ε + k·ε·(e^ε − 1).
///
/// It beats basic composition (k·ε) only when k is large and ε small; see
/// ``bestComposition(epsilon:delta:count:deltaPrime:)``.
///
/// - Parameters:
///   - epsilon: each mechanism's ε ≥ 0.
///   - delta: each mechanism's δ ≥ 0.
///   - k: the number of mechanisms.
///   - deltaPrime: the extra failure probability δ′ in (0, 1).
public func advancedComposition(
  epsilon: Double, delta: Double = 0, count k: Int, deltaPrime: Double
) -> PrivacyGuarantee {
  precondition(k >= 0, "count \(k) < 0")
  precondition(deltaPrime > 0 && deltaPrime < 1, "δ′ = \(deltaPrime) outside (0, 1)")
  let count = Double(k)
  let spread = (2 * count * log(1 / deltaPrime)).squareRoot() * epsilon
  let drift = count * epsilon * expm1(epsilon)
  return PrivacyGuarantee(epsilon: spread + drift, delta: count * delta + deltaPrime)
}

/// The tighter of basic and advanced composition for `count` (ε, δ)-DP mechanisms: the one with
/// the smaller ε, with its own δ — (k·ε, k·δ) when basic wins, (ε′, k·δ + δ′) otherwise. Both
/// are valid guarantees, so the smaller ε is one too.
public func bestComposition(
  epsilon: Double, delta: Double = 0, count k: Int, deltaPrime: Double
) -> PrivacyGuarantee {
  let basic = basicComposition(epsilon: epsilon, delta: delta, count: k)
  let advanced = advancedComposition(
    epsilon: epsilon, delta: delta, count: k, deltaPrime: deltaPrime)
  return basic.epsilon <= advanced.epsilon ? basic : advanced
}
