#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An empirical lower bound on ε from one training run (Steinke, Nasr & Jagielski, "Privacy
/// auditing with one (1) training run", NeurIPS 2023).
///
/// The experiment: m canaries, each included in the training data by an independent fair coin
/// S_i ∈ {in, out}. After training, an attacker looks at what it can observe and for each canary
/// guesses "in", "out" or abstains. r is the number of guesses made, v the number of correct
/// ones. If training is ε-DP, then whatever the attacker does, conditionally on its guesses the
/// number correct is stochastically dominated by Binomial(r, e^ε / (1 + e^ε)) (their Theorem
/// 3.1 — the guesses of ε-randomised response on every coin). So
///
///     p(ε) = P[Binomial(r, e^ε/(1+e^ε)) ≥ v]
///
/// is a p-value for "the training is ε-DP", and the bound reported is the largest ε with
/// p(ε) < β: with probability at least 1 − β over the coins and the training, the true ε is at
/// least the bound. For (ε, δ)-DP (their Theorem 5.2) the p-value gains the term
///
///     2·m·δ · max_{i = 1…v} P[v − i ≤ Binomial(r, e^ε/(1+e^ε)) < v] / i.
///
/// **What the attacker is assumed to know**: nothing is assumed — the guesses may come from any
/// attack on any observable (the uploads for a server, the final model for a model user), and
/// the bound is valid whatever they are. The *auditor* knows the coins S_i to count v. The bound
/// holds for one fixed choice of how to guess: choosing, after seeing the outcome, the best of
/// several guessing rules makes it optimistic (apply a union bound over the rules tried).
public struct CanaryAudit: Sendable, Hashable, Codable {
  /// δ of the (ε, δ)-DP null hypothesis; 0 audits pure ε-DP.
  public var delta: Double
  /// 1 − β, the probability with which the true ε is at least the bound.
  public var confidence: Double

  /// An audit at `confidence` (in (0, 1)) against (ε, `delta`)-DP (δ in [0, 1)).
  ///
  /// - Throws: ``AuditError/invalidParameter(name:value:requirement:)`` naming the bad value.
  public init(delta: Double = 0, confidence: Double = 0.95) throws(AuditError) {
    guard delta >= 0, delta < 1 else {
      throw .invalidParameter(name: "δ", value: delta, requirement: "a number in [0, 1)")
    }
    guard confidence > 0, confidence < 1 else {
      throw .invalidParameter(
        name: "confidence", value: confidence, requirement: "a probability in (0, 1), e.g. 0.95")
    }
    self.delta = delta
    self.confidence = confidence
  }

  /// The p-value of "training is (ε, δ)-DP" after `correct` of `guesses` guesses on `canaries`
  /// canaries were right (see the type's documentation), at most 1.
  ///
  /// - Complexity: O(r).
  public func pValue(canaries m: Int, guesses r: Int, correct v: Int, epsilon: Double) -> Double {
    precondition(0 <= v && v <= r && r <= m, "need 0 ≤ correct ≤ guesses ≤ canaries")
    precondition(epsilon >= 0, "ε must be at least 0")
    guard v > 0 else { return 1 }
    let logPMF = binomialLogPMF(trials: r, epsilon: epsilon)
    var p = logSumExp((v...r).map(logPMF))
    p = exp(min(p, 0))
    if delta > 0 {
      var below = 0.0  // P[v − i ≤ Binomial < v]
      var worst = 0.0
      for i in 1...v {
        below += exp(logPMF(v - i))
        worst = max(worst, below / Double(i))
      }
      p += 2 * Double(m) * delta * worst
    }
    return min(p, 1)
  }

  /// The largest ε whose p-value is below β = 1 − ``confidence`` (0 when even ε = 0 is not
  /// rejected), found by bisection to about 1e-9.
  ///
  /// - Throws: ``AuditError/invalidParameter(name:value:requirement:)`` when the counts are not
  ///   0 ≤ correct ≤ guesses ≤ canaries.
  public func epsilonLowerBound(canaries m: Int, guesses r: Int, correct v: Int)
    throws(AuditError) -> Double
  {
    guard r >= 0, r <= m else {
      throw .invalidParameter(
        name: "guesses", value: Double(r), requirement: "between 0 and the \(m) canaries")
    }
    guard v >= 0, v <= r else {
      throw .invalidParameter(
        name: "correct guesses", value: Double(v), requirement: "between 0 and the \(r) guesses")
    }
    let beta = 1 - confidence
    let rejected = { (epsilon: Double) in
      pValue(canaries: m, guesses: r, correct: v, epsilon: epsilon) < beta
    }
    guard rejected(0) else { return 0 }
    var low = 0.0
    var high = 1.0
    while rejected(high) {
      low = high
      high *= 2
      if high > 1e4 { return low }  // ε beyond 10⁴ means "no privacy" at any useful precision
    }
    while high - low > 1e-9 * max(1, low) {
      let middle = (low + high) / 2
      if rejected(middle) { low = middle } else { high = middle }
    }
    return low
  }

  /// Scores one run: `included[i]` is canary i's coin, `guesses[i]` the attacker's guess
  /// (true = "in", false = "out", nil = abstain).
  ///
  /// - Throws: ``AuditError/lengthMismatch(what:count:expected:)`` when the arrays differ in
  ///   length.
  public func run(included: [Bool], guesses: [Bool?]) throws(AuditError) -> CanaryAuditResult {
    guard guesses.count == included.count else {
      throw .lengthMismatch(what: "the guesses", count: guesses.count, expected: included.count)
    }
    var made = 0
    var correct = 0
    for (coin, guess) in zip(included, guesses) {
      guard let guess else { continue }
      made += 1
      if guess == coin { correct += 1 }
    }
    let bound = try epsilonLowerBound(canaries: included.count, guesses: made, correct: correct)
    return CanaryAuditResult(
      canaries: included.count, guesses: made, correct: correct, delta: delta,
      confidence: confidence, epsilonLowerBound: bound)
  }

  /// Guesses from membership scores (higher = more likely "in"): "in" for the `positives`
  /// highest scores, "out" for the `negatives` lowest, abstain on the rest (Steinke et al. §6).
  /// Ties at a cut are broken by index, so the counts are exact.
  public static func guesses(scores: [Double], positives: Int, negatives: Int) -> [Bool?] {
    precondition(positives >= 0 && negatives >= 0, "guess counts must be at least 0")
    precondition(positives + negatives <= scores.count, "more guesses than canaries")
    let order = scores.indices.sorted {
      scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1)
    }
    var guesses = [Bool?](repeating: nil, count: scores.count)
    for index in order.prefix(positives) { guesses[index] = true }
    for index in order.suffix(negatives) { guesses[index] = false }
    return guesses
  }
}

/// The outcome of ``CanaryAudit/run(included:guesses:)``.
public struct CanaryAuditResult: Sendable, Hashable, Codable {
  /// m, the canaries.
  public var canaries: Int
  /// r, the guesses made (the rest abstained).
  public var guesses: Int
  /// v, the correct guesses.
  public var correct: Int
  /// δ of the null hypothesis.
  public var delta: Double
  /// 1 − β.
  public var confidence: Double
  /// The empirical lower bound on ε.
  public var epsilonLowerBound: Double
}

/// k ↦ log P[Binomial(r, q) = k] for q = e^ε/(1 + e^ε), computed with log q = −log1p(e^−ε) and
/// log(1 − q) = −ε − log1p(e^−ε) so that large ε keeps full precision.
func binomialLogPMF(trials r: Int, epsilon: Double) -> (Int) -> Double {
  let logQ = -log1p(exp(-epsilon))
  let logNotQ = -epsilon + logQ
  let logFactorialR = logGamma(Double(r) + 1)
  return { k in
    logFactorialR - logGamma(Double(k) + 1) - logGamma(Double(r - k) + 1) + Double(k) * logQ
      + Double(r - k) * logNotQ
  }
}

/// log Σ exp(xᵢ), without overflow; −∞ for no terms.
func logSumExp(_ values: [Double]) -> Double {
  guard let largest = values.max(), largest > -.infinity else { return -.infinity }
  return largest + log(values.reduce(0) { $0 + exp($1 - largest) })
}

/// log Γ(x) (the C library's `lgamma`, named apart from Glibc's overload that also returns the
/// sign).
func logGamma(_ x: Double) -> Double {
  let value: Double = lgamma(x)
  return value
}
