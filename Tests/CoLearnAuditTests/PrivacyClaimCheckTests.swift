#if canImport(Glibc)
  import Glibc
#endif
import CoLearnAudit
import CoLearnTensor
import Testing

/// The ledger-vs-lower-bound check: a mechanism whose accountant under-reports its ε is caught,
/// a correct one is not.
@Suite struct PrivacyClaimCheckTests {
  /// A constructed bug: ε-randomised response at ε = 3 on 2,000 canaries whose "ledger" claims
  /// ε = 1 (an accountant that forgot a factor of 3). The canaries reject the claim.
  @Test func anUnderReportingLedgerIsFlaggedAsABug() throws {
    var generator = SeededGenerator(seed: 22)
    let (included, guesses) = randomizedResponse(canaries: 2_000, epsilon: 3, using: &generator)
    let result = try CanaryAudit(confidence: 0.95).run(included: included, guesses: guesses)
    let claim = try PrivacyClaim(
      epsilon: 1, delta: 0, unit: "record-level", source: "a broken ledger")
    let check = try PrivacyClaimCheck(result, against: claim)
    #expect(check.violated)
    #expect(check.lowerBound > 1)
    #expect(check.pValueOfClaim < 0.05)
    #expect(check.verdict.hasPrefix("BUG"), "\(check.verdict)")
    #expect(check.verdict.contains("a broken ledger"))
  }

  /// The same mechanism with its true ε claimed: not flagged, on every one of 200 seeds at the
  /// strict confidence 1 − 10⁻⁶ (a flag would be a false alarm with probability ≤ 10⁻⁶ each).
  @Test func aCorrectLedgerIsNotFlagged() throws {
    let claim = try PrivacyClaim(epsilon: 3, delta: 0, unit: "record-level", source: "ledger")
    for seed in 0..<200 {
      var generator = SeededGenerator(seed: UInt64(seed))
      let (included, guesses) = randomizedResponse(canaries: 2_000, epsilon: 3, using: &generator)
      let result = try CanaryAudit(confidence: 1 - 1e-6).run(included: included, guesses: guesses)
      let check = try PrivacyClaimCheck(result, against: claim)
      #expect(!check.violated, "seed \(seed): \(check.verdict)")
      #expect(check.lowerBound <= 3)
      #expect(check.verdict.hasPrefix("consistent"))
    }
  }

  /// The flag is exactly "lower bound above the claim": claims just below and just above the
  /// bound of a fixed outcome fall on either side.
  @Test func theFlagSitsAtTheLowerBound() throws {
    let result = try CanaryAudit().run(
      included: (0..<100).map { $0 % 2 == 0 }, guesses: (0..<100).map { $0 % 2 == 0 || $0 < 20 })
    let bound = result.epsilonLowerBound
    #expect(bound > 0.5)
    let below = try PrivacyClaimCheck(
      result, against: PrivacyClaim(epsilon: bound - 1e-3, delta: 0, unit: "u", source: "s"))
    let above = try PrivacyClaimCheck(
      result, against: PrivacyClaim(epsilon: bound + 1e-3, delta: 0, unit: "u", source: "s"))
    #expect(below.violated && !above.violated)
    #expect(abs(below.lowerBound - bound) < 1e-9)
    // No guarantee (ε = ∞) is never contradicted.
    let none = try PrivacyClaimCheck(
      result, against: PrivacyClaim(epsilon: .infinity, delta: 0, unit: "u", source: "s"))
    #expect(!none.violated && none.pValueOfClaim == 1)
  }

  /// The claim's δ is used, not the audit's: a larger δ makes the same outcome less surprising.
  @Test func theClaimsDeltaIsUsed() throws {
    let included = (0..<1000).map { $0 % 2 == 0 }
    let result = try CanaryAudit().run(
      included: included, guesses: included.enumerated().map { $0.offset < 300 ? $0.element : nil })
    let pure = try PrivacyClaimCheck(
      result, against: PrivacyClaim(epsilon: 4, delta: 0, unit: "u", source: "s"))
    let loose = try PrivacyClaimCheck(
      result, against: PrivacyClaim(epsilon: 4, delta: 1e-2, unit: "u", source: "s"))
    #expect(pure.violated && !loose.violated)
    #expect(loose.lowerBound < pure.lowerBound)
  }

  @Test func badClaimsAreTypedErrors() {
    #expect(throws: AuditError.self) {
      try PrivacyClaim(epsilon: -1, delta: 0, unit: "u", source: "s")
    }
    #expect(throws: AuditError.self) {
      try PrivacyClaim(epsilon: .nan, delta: 0, unit: "u", source: "s")
    }
    #expect(throws: AuditError.self) {
      try PrivacyClaim(epsilon: 1, delta: 1, unit: "u", source: "s")
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
