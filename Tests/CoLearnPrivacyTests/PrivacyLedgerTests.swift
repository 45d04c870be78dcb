import CoLearnPrivacy
import CoLearnTestSupport
import Foundation
import Testing

@Suite struct PrivacyLedgerTests {
  @Test func uploadsAreChargedEpsilonOverCAndEpochsTheirWholeEpsilon() {
    var ledger = PrivacyLedger()
    let opened = ledger.beginEpoch(epsilon: 0.9, capacity: 10)
    #expect(opened)
    for _ in 0..<3 { ledger.chargeUpload() }
    // Open epochs count already: the mechanism runs once the epoch is open.
    #expect(ledger.spentEpsilon == 0.9)
    ledger.closeEpoch()
    // Paper: 3 uploads · 0.9/10 = 0.27. Guarantee: 0.9 for the epoch.
    #expect(isApproximatelyEqual(ledger.epochs[0].epsilonChargedByUploads, 0.27, absolute: 1e-15))
    #expect(ledger.epochs[0].epsilonPerUpload == 0.09)
    #expect(isApproximatelyEqual(ledger.uploadCharges, 0.27, absolute: 1e-15))

    // An epoch without uploads still spends its ε.
    let reopened = ledger.beginEpoch(epsilon: 0.9, capacity: 10)
    #expect(reopened)
    ledger.closeEpoch()
    #expect(isApproximatelyEqual(ledger.spentEpsilon, 1.8, absolute: 1e-15))
    #expect(isApproximatelyEqual(ledger.uploadCharges, 0.27, absolute: 1e-15))
    #expect(ledger.uploads == 3)
    #expect(ledger.basicTotal == PrivacyGuarantee(epsilon: ledger.spentEpsilon, delta: 0))
  }

  @Test func aMechanismReportIsRecorded() throws {
    var delta = [Float](repeating: 0, count: 200)
    for j in stride(from: 0, to: 200, by: 10) { delta[j] = 0.001 }
    var ledger = PrivacyLedger()
    var technique = SparseVectorTechnique()
    var noise = NoiseSource.insecureSeeded(3)
    let opened = ledger.beginEpoch(epsilon: 1e9, capacity: 50)
    #expect(opened)
    let (_, report) = try delta.withUnsafeBufferPointer { d in
      try Result { () throws(PrivacyError) in
        try technique.select(
          delta: d, count: 50, bound: 0.001, threshold: 0.0001, epsilon: 1e9, noise: &noise)
      }.get()
    }
    ledger.record(report)
    #expect(!ledger.isEpochOpen)
    #expect(ledger.uploads == 20)
    #expect(ledger.epochs[0].epsilonChargedByUploads == report.epsilonChargedByUploads)
    #expect(ledger.spentEpsilon == report.epsilonSpent)
  }

  @Test func theBudgetStopsBeforeTheEpochThatWouldExceedIt() throws {
    var ledger = PrivacyLedger(budget: try PrivacyBudget(totalEpsilon: 3.5))
    for _ in 1...3 {
      #expect(ledger.canAfford(nextEpochEpsilon: 1))
      let opened = ledger.beginEpoch(epsilon: 1, capacity: 4)
      #expect(opened)
      ledger.closeEpoch()
    }
    // Epoch 4 would bring the total to 4 > 3.5.
    #expect(!ledger.canAfford(nextEpochEpsilon: 1))
    #expect(ledger.canAfford(nextEpochEpsilon: 0.5))
    let opened = ledger.beginEpoch(epsilon: 1, capacity: 4)
    #expect(!opened)
    #expect(ledger.stopReason == .budgetExhausted(spent: 3, nextEpoch: 1, budget: 3.5))
    #expect(ledger.epochs.count == 3)
    // Stopped for good, even for an epoch that would fit.
    #expect(!ledger.canAfford(nextEpochEpsilon: 0.5))
    let openedAfterStop = ledger.beginEpoch(epsilon: 0.5, capacity: 4)
    #expect(!openedAfterStop)
    #expect(ledger.stopReason?.description.contains("budget") == true)
  }

  @Test func roundingInSumsDoesNotCostAnEpoch() throws {
    // Thirty sums of 0.1 come out a hair away from 3 in binary floating point; a budget of 3
    // must still allow exactly 30 epochs.
    var ledger = PrivacyLedger(budget: try PrivacyBudget(totalEpsilon: 3))
    var epochs = 0
    while ledger.beginEpoch(epsilon: 0.1, capacity: 1) {
      ledger.closeEpoch()
      epochs += 1
    }
    #expect(epochs == 30)
  }

  @Test func advancedAndBestTotals() {
    var ledger = PrivacyLedger()
    for _ in 0..<100 {
      _ = ledger.beginEpoch(epsilon: 0.1, capacity: 10)
      ledger.closeEpoch()
    }
    // Basic: 100·0.1 = 10. Advanced (δ′ = 10⁻⁵): 5.850235093 (see CompositionTests).
    #expect(isApproximatelyEqual(ledger.basicTotal.epsilon, 10, absolute: 1e-12))
    let advanced = ledger.advancedTotal(deltaPrime: 1e-5)
    #expect(abs(advanced.epsilon - 5.850235093) < 1e-8 && advanced.delta == 1e-5)
    #expect(ledger.bestTotal(deltaPrime: 1e-5) == advanced)

    // Heterogeneous epochs use the largest ε: 2 epochs of 0.1 and 1: k = 2, ε = 1.
    var mixed = PrivacyLedger()
    for epsilon in [0.1, 1.0] {
      _ = mixed.beginEpoch(epsilon: epsilon, capacity: 1)
      mixed.closeEpoch()
    }
    let expected = advancedComposition(epsilon: 1, count: 2, deltaPrime: 1e-5)
    #expect(mixed.advancedTotal(deltaPrime: 1e-5) == expected)
    #expect(isApproximatelyEqual(mixed.bestTotal(deltaPrime: 1e-5).epsilon, 1.1, absolute: 1e-15))
  }

  @Test func theLedgerRoundTripsThroughJSON() throws {
    var ledger = PrivacyLedger(budget: try PrivacyBudget(totalEpsilon: 2))
    _ = ledger.beginEpoch(epsilon: 1, capacity: 3)
    ledger.chargeUpload()
    ledger.closeEpoch()
    _ = ledger.beginEpoch(epsilon: 1, capacity: 3)
    ledger.closeEpoch()
    _ = ledger.beginEpoch(epsilon: 1, capacity: 3)
    let data = try JSONEncoder().encode(ledger)
    let decoded = try JSONDecoder().decode(PrivacyLedger.self, from: data)
    #expect(decoded == ledger)
    #expect(decoded.stopReason != nil)

    #expect(throws: PrivacyError.invalidBudget(epsilon: 0)) { try PrivacyBudget(totalEpsilon: 0) }
    let badBudget = Data(#"{"totalEpsilon": -1}"#.utf8)
    #expect(throws: (any Error).self) { try JSONDecoder().decode(PrivacyBudget.self, from: badBudget) }
  }
}
