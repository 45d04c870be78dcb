import CoLearnAudit
import CoLearnNN
import CoLearnTensor
import Testing

/// The loss-threshold attack on models whose membership leakage is known by construction.
@Suite struct LossThresholdAttackTests {
  static let inputs = 32
  static let classes = 4

  /// A model trained to about zero loss on 20 records with random labels has memorised them: each
  /// of them scores above (almost) every one of 200 unseen records.
  @Test func memorisedMembersAreFound() throws {
    var generator = SeededGenerator(seed: 7)
    let network = AuditFixtures.mlp(inputs: Self.inputs, hidden: 64, classes: Self.classes)
    let members = AuditFixtures.randomRecords(
      count: 20, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let nonMembers = AuditFixtures.randomRecords(
      count: 200, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let parameters = try AuditFixtures.train(network, on: members, epochs: 400, using: &generator)
    let attack = LossThresholdAttack(network: network, parameters: parameters)
    #expect(attack.scores(members).allSatisfy { $0 > -0.02 }, "the model did not memorise")
    let metrics = try attack.run(members: members, nonMembers: nonMembers)
    #expect(metrics.auc > 0.95, "AUC \(metrics.auc)")
    #expect(metrics.members == 20 && metrics.nonMembers == 200)
  }

  /// A model trained on neither set cannot tell them apart: AUC ≈ 0.5 (200 against 200 records,
  /// standard error about 0.03).
  @Test func modelTrainedOnNoneIsAtChance() throws {
    var generator = SeededGenerator(seed: 8)
    let network = AuditFixtures.mlp(inputs: Self.inputs, hidden: 64, classes: Self.classes)
    let training = AuditFixtures.randomRecords(
      count: 20, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let pretendMembers = AuditFixtures.randomRecords(
      count: 200, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let nonMembers = AuditFixtures.randomRecords(
      count: 200, inputs: Self.inputs, classes: Self.classes, using: &generator)
    let parameters = try AuditFixtures.train(network, on: training, epochs: 200, using: &generator)
    let metrics = try LossThresholdAttack(network: network, parameters: parameters)
      .run(members: pretendMembers, nonMembers: nonMembers)
    #expect(abs(metrics.auc - 0.5) < 0.1, "AUC \(metrics.auc)")
  }

  /// The score is the log-probability of the true label, whatever the batch size (to rounding).
  @Test func scoresAreLogProbabilitiesOfTheLabel() throws {
    var generator = SeededGenerator(seed: 9)
    let network = AuditFixtures.mlp(inputs: 5, hidden: 3, classes: 2)
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    let samples = AuditFixtures.randomRecords(count: 7, inputs: 5, classes: 2, using: &generator)
    let whole = LossThresholdAttack(network: network, parameters: parameters).scores(samples)
    let oneByOne = LossThresholdAttack(network: network, parameters: parameters, batchSize: 1)
      .scores(samples)
    #expect(zip(whole, oneByOne).allSatisfy { abs($0 - $1) < 1e-6 })  // GEMM vs GEMV rounding
    let evaluation = evaluate(network, parameters: parameters, on: samples, batchSize: 7)
    let meanLoss = -whole.reduce(0, +) / Double(whole.count)
    #expect(abs(meanLoss - evaluation.meanLoss) < 1e-5)
  }

  @Test func emptySetIsATypedError() throws {
    var generator = SeededGenerator(seed: 10)
    let network = AuditFixtures.mlp(inputs: 5, hidden: 3, classes: 2)
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    let some = AuditFixtures.randomRecords(count: 3, inputs: 5, classes: 2, using: &generator)
    let none = LabeledSamples(features: [], labels: [], sampleSize: 5)
    #expect(throws: AuditError.noScores(what: "non-member")) {
      try LossThresholdAttack(network: network, parameters: parameters)
        .run(members: some, nonMembers: none)
    }
  }
}
