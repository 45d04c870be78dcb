#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An (ε, δ) guarantee obtained from RDP, with the Rényi order that gave the smallest ε.
public struct RDPGuarantee: Sendable, Hashable, Codable {
  /// ε ≥ 0, or +∞ when no order gives a finite bound.
  public var epsilon: Double
  /// The δ asked for.
  public var delta: Double
  /// The optimal order; NaN when ε is +∞. An optimum at the first or last order of the list
  /// means a wider list could give a smaller ε.
  public var order: Double

  public init(epsilon: Double, delta: Double, order: Double) {
    self.epsilon = epsilon
    self.delta = delta
    self.order = order
  }

  /// The plain (ε, δ) pair.
  public var guarantee: PrivacyGuarantee { PrivacyGuarantee(epsilon: epsilon, delta: delta) }
}

/// Converts RDP to (ε, δ)-DP with the tight conversion of Balle, Barthe, Gaboardi, Hsu & Sato
/// 2020 ("Hypothesis testing interpretations and Rényi differential privacy", Theorem 21; also
/// Canonne, Kamath & Steinke 2020, Proposition 12): a mechanism that is (α, ρ)-RDP is (ε, δ)-DP
/// for
///
///     ε = ρ + log((α − 1)/α) − (log δ + log α)/(α − 1),
///
/// minimised over the orders, and clamped at 0. This is what Opacus 1.6's `get_privacy_spent`
/// and dp-accounting 0.6's `compute_epsilon` compute; two further rules of dp-accounting are
/// kept, both sound:
///
/// * an order with ρ ≤ −log(1 − δ²) gives ε = 0: D_α ≥ D₁ = KL, and the total variation is at
///   most √(1 − e^(−KL)) ≤ δ (Bretagnolle–Huber), which is exactly (0, δ)-DP;
/// * orders α ≤ 1.01 are skipped (the formula is numerically unstable there and never optimal).
///
/// A NaN ρ (an order whose series failed) is skipped; +∞ gives +∞.
///
/// - Parameters:
///   - rdp: ρ at each order (total over all composed steps).
///   - orders: the orders, each > 1, as many as `rdp`.
///   - delta: δ in (0, 1).
/// - Returns: the smallest ε and its order; ε = +∞ (order NaN) when every ρ is infinite.
/// - Complexity: O(orders).
public func epsilonFromRDP(_ rdp: [Double], orders: [Double], delta: Double) -> RDPGuarantee {
  precondition(rdp.count == orders.count, "\(rdp.count) RDP values for \(orders.count) orders")
  precondition(delta > 0 && delta < 1, "δ = \(delta) outside (0, 1)")
  var best = RDPGuarantee(epsilon: .infinity, delta: delta, order: .nan)
  let zeroThreshold = -log1p(-delta * delta)
  for (alpha, rho) in zip(orders, rdp) where !rho.isNaN {
    precondition(alpha > 1, "Rényi order α = \(alpha) must exceed 1")
    let epsilon: Double
    if rho <= zeroThreshold {
      epsilon = 0
    } else if alpha > 1.01 {
      epsilon = rho + log1p(-1 / alpha) - (log(delta) + log(alpha)) / (alpha - 1)
    } else {
      continue
    }
    if epsilon < best.epsilon {
      best.epsilon = max(0, epsilon)
      best.order = alpha
    }
  }
  return best
}
