#if canImport(Glibc)
  import Glibc
#endif
import CoLearnAudit
import CoLearnNN
import CoLearnTensor
import Testing

/// Offline LiRA on models whose membership leakage is known by construction.
@Suite struct ReferenceModelAttackTests {
  static let inputs = 32
  static let classes = 4

  /// `count` reference models, each trained like the target on its own disjoint random records.
  func references(
    _ network: Network, count: Int, size: Int, epochs: Int,
    using generator: inout SeededGenerator
  ) throws -> [[Float]] {
    try (0..<count).map { _ in
      let data = AuditFixtures.randomRecords(
        count: size, inputs: Self.inputs, classes: Self.classes, using: &generator)
      return try AuditFixtures.train(network, on: data, epochs: epochs, using: &generator)
    }
  }

  /// A target that memorised 10 records with random labels: LiRA ranks them above (almost)
  /// every one of 200 unseen records, with 8 reference models trained on disjoint records.
  @Test func memorisedMembersAreFound() throws {
    var generator = SeededGenerator(seed: 17)
    let network = AuditFixtures.mlp(inputs: Self.inputs, hidden: 64, classes: Self.classes)
    let members = AuditFixtures.randomRecords(
      count: 10, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let nonMembers = AuditFixtures.randomRecords(
      count: 200, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let target = try AuditFixtures.train(network, on: members, epochs: 400, using: &generator)
    let references = try references(network, count: 8, size: 10, epochs: 400, using: &generator)
    let attack = try ReferenceModelAttack(network: network, target: target, references: references)
    let metrics = try attack.run(members: members, nonMembers: nonMembers)
    #expect(metrics.auc > 0.95, "AUC \(metrics.auc)")
    let perRecord = try ReferenceModelAttack(
      network: network, target: target, references: references, perRecordVariance: true)
    let perRecordAUC = try perRecord.run(members: members, nonMembers: nonMembers).auc
    #expect(perRecordAUC > 0.9, "AUC with per-record variance \(perRecordAUC)")
  }

  /// A target trained on neither set: AUC ≈ 0.5 (200 against 200, standard error about 0.03).
  @Test func modelTrainedOnNoneIsAtChance() throws {
    var generator = SeededGenerator(seed: 18)
    let network = AuditFixtures.mlp(inputs: Self.inputs, hidden: 64, classes: Self.classes)
    let training = AuditFixtures.randomRecords(
      count: 20, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let pretendMembers = AuditFixtures.randomRecords(
      count: 200, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let nonMembers = AuditFixtures.randomRecords(
      count: 200, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let target = try AuditFixtures.train(network, on: training, epochs: 200, using: &generator)
    let references = try references(network, count: 4, size: 20, epochs: 200, using: &generator)
    let metrics = try ReferenceModelAttack(
      network: network, target: target, references: references
    ).run(members: pretendMembers, nonMembers: nonMembers)
    #expect(abs(metrics.auc - 0.5) < 0.1, "AUC \(metrics.auc)")
  }

  /// φ = log p − log(1 − p): 0 at p = ½, log 9 at p = 0.9, finite at p = 1 (zero loss).
  @Test func logitConfidenceIsTheLogOdds() throws {
    // Linear(1 → 2) with W = 0 and b = (0, log 9): p(class 1) = 0.9 for every input.
    let first = Linear(inputs: 1, outputs: 2)
    let network = Network(layers: [first, LogSoftmax(input: first.outputShape)])
    let samples = LabeledSamples(features: [0.3, -2], labels: [1, 0], sampleSize: 1)
    let nine = try ReferenceModelAttack(
      network: network, target: [0, 0, 0, Float(log(9.0))], references: [[0, 0, 0, 0]])
    let phi = nine.logitConfidences(nine.target, on: samples)
    #expect(abs(phi[0] - log(9)) < 1e-5 && abs(phi[1] + log(9)) < 1e-5, "\(phi)")
    #expect(nine.logitConfidences([0, 0, 0, 0], on: samples).allSatisfy { abs($0) < 1e-6 })
    let certain = nine.logitConfidences([0, 0, 0, 1e4], on: samples)
    #expect(certain[0].isFinite && certain[0] > 30, "\(certain)")
  }

  @Test func tooFewReferencesAreTypedErrors() throws {
    let network = AuditFixtures.mlp(inputs: 3, hidden: 2, classes: 2)
    let model = [Float](repeating: 0, count: network.parameterCount)
    #expect(throws: AuditError.self) {
      try ReferenceModelAttack(network: network, target: model, references: [])
    }
    #expect(throws: AuditError.self) {
      try ReferenceModelAttack(
        network: network, target: model, references: [model], perRecordVariance: true)
    }
  }
}
