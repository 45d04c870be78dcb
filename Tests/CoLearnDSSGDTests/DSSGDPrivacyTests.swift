import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

/// The private selection criteria inside the simulation: ledgers, budgets and settings.
@Suite struct DSSGDPrivacyTests {
  let base = DSSGDSimulationTests()

  @Test func privateCriteriaNeedEpsilonAndGammaAndEpsilonNeedsThem() throws {
    let privacy = try PrivacySettings(epsilon: 1)
    #expect(throws: ConfigurationError.self) {
      try DSSGDConfiguration(participants: 3, uploadFraction: 0.1, selection: .svt, bound: 0.001)
    }
    #expect(throws: ConfigurationError.self) {
      try DSSGDConfiguration(
        participants: 3, uploadFraction: 0.1, selection: .exponential, privacy: privacy)
    }
    #expect(throws: ConfigurationError.self) {
      try DSSGDConfiguration(participants: 3, uploadFraction: 0.1, bound: 0.001, privacy: privacy)
    }
    #expect(
      throws: ConfigurationError.outOfRange(
        setting: "dp-epsilon", value: "0.0", expected: "a number > 0")
    ) { try PrivacySettings(epsilon: 0) }
    #expect(throws: ConfigurationError.self) { try PrivacySettings(epsilon: 1, budget: -1) }
    #expect(throws: ConfigurationError.self) { try PrivacySettings(epsilon: 1, delta: 1) }
  }

  /// Every participant charges ε once per round to its own ledger, and with seeded noise the
  /// run is reproducible.
  @Test(arguments: [SelectionCriterion.svt, .exponential])
  func everyRoundChargesEachLedgerOnce(selection: SelectionCriterion) throws {
    let privacy = try PrivacySettings(epsilon: 2, insecureSeededNoise: true)
    let (a, _) = try base.federation(selection: selection, privacy: privacy)
    let (b, _) = try base.federation(selection: selection, privacy: privacy)
    for _ in 0..<3 {
      _ = try a.runRound()
      _ = try b.runRound()
    }
    #expect(a.server.parameters == b.server.parameters)
    let k = fractionCount(0.1, of: a.server.dimension)
    for participant in a.participants {
      let ledger = try #require(participant.privacy?.ledger)
      #expect(ledger.epochs.count == 3)
      #expect(ledger.spentEpsilon == 6)
      #expect(ledger.epochs.allSatisfy { $0.capacity == k && $0.uploads <= k })
      #expect(ledger.stopReason == nil)
      #expect(participant.privacy?.noise.isSecure == false)
    }
    #expect(a.server.uploadCount == 9)
  }

  /// With a total budget of 2.5 epochs, every participant uploads in rounds 1 and 2, then stops
  /// (and says why) while it keeps training.
  @Test func aSpentBudgetStopsUploadsAtTheRightEpoch() throws {
    let privacy = try PrivacySettings(epsilon: 1, budget: 2.5, insecureSeededNoise: true)
    let (federation, _) = try base.federation(selection: .svt, privacy: privacy)
    var uploads: [Int] = []
    for _ in 0..<4 {
      _ = try federation.runRound()
      uploads.append(federation.server.uploadCount)
    }
    #expect(uploads == [3, 6, 6, 6])
    for participant in federation.participants {
      let ledger = try #require(participant.privacy?.ledger)
      #expect(ledger.epochs.count == 2)
      #expect(ledger.spentEpsilon == 2)
      #expect(
        ledger.stopReason == .budgetExhausted(spent: 2, nextEpoch: 1, budget: 2.5))
      #expect(participant.model.stepCount == 4 * 10)
    }
  }

  @Test func secureNoiseIsTheDefault() throws {
    let (federation, _) = try base.federation(
      selection: .svt, privacy: try PrivacySettings(epsilon: 1))
    #expect(federation.participants.allSatisfy { $0.privacy?.noise.isSecure == true })
    _ = try federation.runRound()
    #expect(federation.server.uploadCount == 3)
  }
}

extension DSSGDPrivacyTests {
  /// Issue 21 item 6: a deployed participant's privacy-ledger.json states the unit of its ε,
  /// and still reads back as the ledger it was (the unit is ignored on reading).
  @Test func theLedgerFileStatesItsUnitAndReadsBack() throws {
    let directory = try makeTemporaryDirectory("colearn-ledger-unit")
    defer { try? FileManager.default.removeItem(at: directory) }
    var ledger = PrivacyLedger(budget: try PrivacyBudget(totalEpsilon: 3))
    let began = ledger.beginEpoch(epsilon: 1, capacity: 4)
    #expect(began)
    let path = directory.appendingPathComponent(LedgerFile.fileName).path
    try LedgerFile.write(ledger, to: path)
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        as? [String: Any])
    #expect(json["unit"] as? String == PrivateUploadSelection.unit)
    #expect(PrivateUploadSelection.unit.contains("NOT in one training record"))
    #expect(try LedgerFile.read(from: path) == ledger)
  }
}
