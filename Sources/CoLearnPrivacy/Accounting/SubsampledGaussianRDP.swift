#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// Rényi differential privacy (RDP) of the Gaussian mechanism, with and without Poisson
// subsampling, as pure functions of (q, σ, α). Everything is in units of the L2 sensitivity:
// σ is the *noise multiplier*, the noise's standard deviation divided by the sensitivity.
//
// A mechanism M is (α, ρ)-RDP when D_α(M(D) ‖ M(D′)) ≤ ρ for all neighbouring D, D′, with the
// Rényi divergence D_α(P ‖ Q) = 1/(α − 1)·log E_Q[(P/Q)^α] (Mironov 2017). RDP composes by
// addition at each order, adaptively: that is what ``RDPAccountant`` does.

/// The RDP at order `α` of one step of the Poisson-subsampled Gaussian mechanism: every record
/// is included independently with probability q, the included records' contributions (each of L2
/// norm at most 1 after clipping) are summed and N(0, σ²·I) is added. Neighbouring datasets
/// differ by adding or removing one record.
///
/// * q = 0: 0 (no record is ever used); σ = 0 and q > 0: +∞ (no privacy);
/// * q = 1 (no subsampling): α/(2σ²), the Gaussian mechanism's exact RDP (Mironov 2017, Prop. 7);
/// * 0 < q < 1: log(A_α)/(α − 1) with A_α = E_{z∼μ₀}[(μ(z)/μ₀(z))^α], μ₀ = N(0, σ²),
///   μ = (1 − q)·μ₀ + q·N(1, σ²) (Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of
///   the Sampled Gaussian Mechanism", §3.3; their Theorem 5 shows this direction of the
///   divergence is the larger one, and reduces the d-dimensional case to this one):
///   - integer α: the binomial expansion A_α = Σᵢ C(α, i)·(1 − q)^(α−i)·qⁱ·exp((i² − i)/(2σ²)),
///     summed in log space as 1 + (A_α − 1) so that tiny values keep their precision;
///   - fractional α: the two-sided series of MTZ §3.3 split at z₀ = σ²·log(1/q − 1) + ½, with
///     signed generalized binomial coefficients (as Opacus does; dp-accounting adds the
///     absolute values, a slightly larger upper bound), until both terms are decreasing
///     (dp-accounting's rule) and below e⁻³⁰ (Opacus's) — at most 100 000 terms,
///     else +∞ (the order is then useless rather than wrong). Past z₀ the geometric factors
///     cancel exactly and the terms decay only like i^−(α+1), so small orders need thousands of
///     terms when q is large and σ small (2159 at q = 0.1, σ = 0.5, α = 1.1): dp-accounting
///     gives up after 1000 and excludes those orders, which is why its ε can be larger than
///     Opacus's and colearn's there. The neglected tail is about e⁻³⁰·i/α < 10⁻⁹.
///
/// These are the formulas of Opacus 1.6 (`opacus.accountants.analysis.rdp`) and dp-accounting
/// 0.6 (`RdpAccountant`), both from TF Privacy; Tests/Fixtures/privacy holds their values.
///
/// - Parameters:
///   - q: the sampling rate in [0, 1].
///   - sigma: the noise multiplier σ ≥ 0.
///   - alpha: the Rényi order α > 1 (+∞ allowed: the result is then +∞ unless q = 0).
/// - Returns: the RDP ρ(α) ≥ 0 of one step, possibly +∞.
/// - Complexity: O(α) for integer α; for fractional α, O(terms): tens to hundreds, up to a few
///   thousand at small α with large q and small σ.
public func poissonSubsampledGaussianRDP(
  samplingRate q: Double, noiseMultiplier sigma: Double,
  order alpha: Double
) -> Double {
  precondition(q >= 0 && q <= 1, "sampling rate q = \(q) outside [0, 1]")
  precondition(sigma >= 0, "noise multiplier σ = \(sigma) is negative")
  precondition(alpha > 1, "Rényi order α = \(alpha) must exceed 1")
  if q == 0 { return 0 }
  if sigma == 0 || alpha.isInfinite { return .infinity }
  if q == 1 { return alpha / (2 * sigma * sigma) }
  let logA =
    alpha.rounded() == alpha
    ? logAOfIntegerOrder(q: q, sigma: sigma, alpha: Int(alpha))
    : logAOfFractionalOrder(q: q, sigma: sigma, alpha: alpha)
  // A series that failed numerically (a negative difference in log space) bounds nothing: the
  // order is given up (+∞), never charged as 0.
  guard !logA.isNaN else { return .infinity }
  // A_α ≥ 1 in exact arithmetic (Jensen); a rounding error must not produce a negative RDP.
  return max(0, logA / (alpha - 1))
}

/// log A_α for an integer α ≥ 2 by the binomial expansion. Since Σᵢ C(α, i)(1 − q)^(α−i) qⁱ = 1
/// and the i = 0, 1 terms have exponent 0, A_α − 1 = Σ_{i≥2} C(α, i)(1 − q)^(α−i) qⁱ·expm1((i² − i)/(2σ²)),
/// all terms positive: summing that (in log space) and taking log1p keeps full relative
/// precision when A_α − 1 is tiny (q ≪ 1, large σ), where summing A_α itself — as Opacus and
/// dp-accounting do — loses the digits below 10⁻¹⁶ of A_α.
func logAOfIntegerOrder(q: Double, sigma: Double, alpha: Int) -> Double {
  let logQ = log(q)
  let log1MinusQ = log1p(-q)
  let twoVariance = 2 * sigma * sigma
  var terms = [Double]()
  terms.reserveCapacity(alpha)
  var logBinomial = log(Double(alpha))  // log C(α, 1)
  for i in 2...alpha {
    logBinomial += log(Double(alpha - i + 1)) - log(Double(i))
    let di = Double(i)
    let exponent = (di * di - di) / twoVariance
    let logExpm1 = exponent + log(-expm1(-exponent))  // log(e^c − 1), no overflow for large c
    terms.append(logBinomial + di * logQ + Double(alpha - i) * log1MinusQ + logExpm1)
  }
  return logAddExp(0, logSumExp(terms))
}

/// The most terms the fractional-order series may take before the order is given up (+∞).
let maximumFractionalOrderTerms = 100_000

/// log A_α for a fractional α by the series of MTZ 2019 §3.3; +∞ if it does not converge.
func logAOfFractionalOrder(q: Double, sigma: Double, alpha: Double) -> Double {
  let logQ = log(q)
  let log1MinusQ = log1p(-q)
  let twoVariance = 2 * sigma * sigma
  let z0 = sigma * sigma * log(1 / q - 1) + 0.5
  let scale = 2.0.squareRoot() * sigma
  // C(α, i) = Π_{k<i} (α − k)/(k + 1) has i − ⌈α⌉ negative factors once i > α: it is negative
  // exactly when that count is odd.
  let ceilingOfAlpha = alpha.rounded(.up)
  // Positive and negative terms are summed apart (in log space) and subtracted at the end.
  var positive = -Double.infinity
  var negative = -Double.infinity
  var lastS0 = -Double.infinity
  var lastS1 = -Double.infinity
  var logBinomial = 0.0  // log |C(α, 0)|
  for i in 0..<maximumFractionalOrderTerms {
    let di = Double(i)
    if i > 0 { logBinomial += log(abs(alpha - di + 1)) - log(di) }
    let j = alpha - di
    let logT0 = logBinomial + di * logQ + j * log1MinusQ
    let logT1 = logBinomial + j * logQ + di * log1MinusQ
    let logE0 = log(0.5) + logErfc((di - z0) / scale)
    let logE1 = log(0.5) + logErfc((z0 - j) / scale)
    let s0 = logT0 + (di * di - di) / twoVariance + logE0
    let s1 = logT1 + (j * j - j) / twoVariance + logE1
    let term = logAddExp(s0, s1)
    let isNegative = di > alpha && (di - ceilingOfAlpha).truncatingRemainder(dividingBy: 2) == 1
    if isNegative {
      negative = logAddExp(negative, term)
    } else {
      positive = logAddExp(positive, term)
    }
    if s0 < lastS0 && s1 < lastS1 && max(s0, s1) < -30 {
      return logSubExp(positive, negative)
    }
    lastS0 = s0
    lastS1 = s1
  }
  return .infinity
}

// MARK: - Log-space arithmetic

/// log(eˣ + eʸ) without overflow; −∞ is the logarithm of 0.
func logAddExp(_ x: Double, _ y: Double) -> Double {
  let (small, large) = x < y ? (x, y) : (y, x)
  if small == -.infinity { return large }
  return large + log1p(exp(small - large))
}

/// log(eˣ − eʸ) for x ≥ y; −∞ when x = y, NaN when x < y (a negative difference).
func logSubExp(_ x: Double, _ y: Double) -> Double {
  if y == -.infinity { return x }
  if x < y { return .nan }
  if x == y { return -.infinity }
  return x + log(-expm1(y - x))
}

/// log Σ exp(xᵢ), shifted by the maximum so that no term overflows.
func logSumExp(_ xs: [Double]) -> Double {
  guard let top = xs.max(), top > -.infinity else { return -.infinity }
  if top == .infinity { return .infinity }
  var total = 0.0
  for x in xs { total += exp(x - top) }
  return top + log(total)
}

/// log erfc(x), accurate where erfc(x) underflows: glibc's erfc below x = 20 (erfc(20) ≈ 5·10⁻¹⁷⁶,
/// still a normal double with full relative accuracy), and above it the continued fraction
/// erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (Abramowitz & Stegun
/// 7.1.14), whose 60-term truncation is exact to double precision for x ≥ 20.
func logErfc(_ x: Double) -> Double {
  if x < 20 { return log(erfc(x)) }
  var tail = x
  for n in stride(from: 60, through: 1, by: -1) {
    tail = x + (Double(n) / 2) / tail
  }
  return -x * x - 0.5 * log(Double.pi) - log(tail)
}
