#if canImport(Glibc)
  import Glibc
#endif
import CoLearnAudit
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// The one-run ε lower bound (Steinke, Nasr & Jagielski 2023) against an independent scipy
/// implementation (scripts/golden/audit-metrics.py, scipy 1.17.1) and against mechanisms whose ε
/// is known exactly.
@Suite struct CanaryAuditTests {
  /// (m, r, v, δ, p-value at ε = 1, lower bound at 95%) printed by the golden script.
  static let golden: [(Int, Int, Int, Double, Double, Double)] = [
    (1000, 1000, 1000, 0, 8.957312358145782e-137, 5.809068338546601),
    (1000, 100, 90, 0, 2.7358128007661584e-05, 1.6308231927409738),
    (1000, 100, 90, 1e-5, 0.0008412885614385305, 1.6261434806955521),
    (10000, 2000, 1400, 1e-5, 0.9991387655386954, 0.7647549301627552),
    (500, 500, 260, 0, 1.0, 0.0),
  ]

  @Test(arguments: golden.indices)
  func matchesScipyGolden(index: Int) throws {
    let (m, r, v, delta, p, bound) = Self.golden[index]
    let audit = try CanaryAudit(delta: delta, confidence: 0.95)
    let ours = audit.pValue(canaries: m, guesses: r, correct: v, epsilon: 1)
    #expect(
      isApproximatelyEqual(ours, p, absolute: 1e-300, relative: 1e-9), "p-value \(ours) vs \(p)")
    let lower = try audit.epsilonLowerBound(canaries: m, guesses: r, correct: v)
    #expect(
      isApproximatelyEqual(lower, bound, absolute: 1e-7, relative: 1e-7),
      "bound \(lower) vs \(bound)")
  }

  /// ε-randomised response on every canary's coin: each guess is right with probability
  /// e^ε/(1+e^ε), the worst case the theorem allows, so the bound may exceed the true ε only
  /// with probability β. At confidence 1 − 10⁻⁶ none of 1,000 seeds does (a failure would be a
  /// bug with probability > 0.999); at 95% at most 7% do (50 expected at most, 70 is 2.9
  /// standard deviations above), and the bound is still informative (above ε/2 on average with
  /// 2,000 canaries).
  @Test func randomizedResponseNeverBeatsItsTrueEpsilon() throws {
    let epsilon = 1.0
    let strict = try CanaryAudit(confidence: 1 - 1e-6)
    let usual = try CanaryAudit(confidence: 0.95)
    var usualExceedances = 0
    var total = 0.0
    let seeds = 1000
    for seed in 0..<seeds {
      var generator = SeededGenerator(seed: UInt64(seed))
      let (included, guesses) = randomizedResponse(
        canaries: 2_000, epsilon: epsilon, using: &generator)
      let strictBound = try strict.run(included: included, guesses: guesses).epsilonLowerBound
      #expect(strictBound <= epsilon, "seed \(seed): bound \(strictBound) > true ε = \(epsilon)")
      let usualBound = try usual.run(included: included, guesses: guesses).epsilonLowerBound
      if usualBound > epsilon { usualExceedances += 1 }
      total += usualBound
    }
    #expect(Double(usualExceedances) <= 0.07 * Double(seeds))
    #expect(total / Double(seeds) > 0.5 * epsilon)
  }

  /// With δ > 0 the same guesses are less surprising, so the bound can only drop.
  @Test func deltaLowersTheBound() throws {
    let pure = try CanaryAudit(delta: 0)
    let approximate = try CanaryAudit(delta: 1e-3)
    for (m, r, v) in [(1000, 200, 180), (1000, 1000, 1000), (5000, 100, 70)] {
      let a = try pure.epsilonLowerBound(canaries: m, guesses: r, correct: v)
      let b = try approximate.epsilonLowerBound(canaries: m, guesses: r, correct: v)
      #expect(b <= a)
    }
  }

  /// A non-private "mechanism": the attacker sees the coins and guesses all m right.
  @Test func perfectGuessesGiveALargeBound() throws {
    let included = (0..<1000).map { $0 % 3 == 0 }
    let result = try CanaryAudit().run(included: included, guesses: included.map { $0 })
    #expect(result.guesses == 1000 && result.correct == 1000)
    // q^1000 < 0.05 ⇔ q < 0.05^(1/1000): ε = log(q/(1−q)) ≈ 5.81.
    #expect(result.epsilonLowerBound > 5.8)
    // Guessing wrong every time proves nothing.
    let wrong = try CanaryAudit().run(included: included, guesses: included.map { !$0 })
    #expect(wrong.epsilonLowerBound == 0)
  }

  @Test func abstentionsAreNotGuesses() throws {
    let included = [true, false, true, false]
    let result = try CanaryAudit().run(included: included, guesses: [true, nil, nil, true])
    #expect(result.canaries == 4 && result.guesses == 2 && result.correct == 1)
  }

  @Test func guessesFromScoresTakeTheExtremes() {
    let guesses = CanaryAudit.guesses(
      scores: [0.5, 0.9, 0.1, 0.5, 0.7], positives: 2, negatives: 1)
    #expect(guesses == [nil, true, false, nil, true])
  }

  @Test func badSettingsAndCountsAreTypedErrors() throws {
    #expect(throws: AuditError.self) { try CanaryAudit(confidence: 1) }
    #expect(throws: AuditError.self) { try CanaryAudit(delta: -1e-5) }
    #expect(throws: AuditError.self) {
      try CanaryAudit().epsilonLowerBound(canaries: 10, guesses: 11, correct: 3)
    }
    #expect(throws: AuditError.lengthMismatch(what: "the guesses", count: 1, expected: 2)) {
      try CanaryAudit().run(included: [true, false], guesses: [true])
    }
  }

  /// Coins, and each coin reported truthfully with probability e^ε/(1+e^ε).
  func randomizedResponse(
    canaries: Int, epsilon: Double, using generator: inout SeededGenerator
  ) -> (included: [Bool], guesses: [Bool?]) {
    let truth = exp(epsilon) / (1 + exp(epsilon))
    var included: [Bool] = []
    var guesses: [Bool?] = []
    for _ in 0..<canaries {
      let coin = Bool.random(using: &generator)
      included.append(coin)
      guesses.append(Double.random(in: 0..<1, using: &generator) < truth ? coin : !coin)
    }
    return (included, guesses)
  }
}
