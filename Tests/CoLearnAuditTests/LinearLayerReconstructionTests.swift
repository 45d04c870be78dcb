import CoLearnAudit
import CoLearnNN
import CoLearnTensor
import Testing

/// The analytic attack on a linear first layer's upload.
@Suite struct LinearLayerReconstructionTests {
  static let inputs = 64

  /// Δw of one local epoch of SGD (batch `batchSize`, learning rate 0.05) on `records`, as a
  /// participant computes it before selecting what to upload.
  func upload(
    _ network: Network, records: LabeledSamples, batchSize: Int, seed: UInt64
  ) throws -> [Float] {
    var generator = SeededGenerator(seed: seed)
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    let trainer = Trainer(
      network: network,
      configuration: try SGDConfiguration(learningRate: 0.05, batchSize: batchSize))
    var model = LocalModel(parameters: parameters)
    var change = [Float](repeating: 0, count: network.parameterCount)
    change.withUnsafeMutableBufferPointer { buffer in
      _ = trainer.trainEpoch(&model, on: records, using: &generator, changes: buffer)
    }
    return change
  }

  /// One record, one step: every row with a bias change gives back the record itself.
  @Test func singleSampleUploadIsReconstructedExactly() throws {
    var generator = SeededGenerator(seed: 21)
    let network = AuditFixtures.mlp(inputs: Self.inputs, hidden: 32, classes: 10)
    let record = AuditFixtures.randomRecords(
      count: 1, inputs: Self.inputs, classes: 10, using: &generator)
    let change = try upload(network, records: record, batchSize: 1, seed: 22)
    let attack = try #require(LinearLayerReconstruction(network: network))
    let result = try attack.run(change: change, records: record.features, threshold: 0.999)
    #expect(result.usableRows == 32 && result.rows == 32)
    #expect(abs(result.bestSimilarities[0] - 1) < 1e-6, "cos \(result.bestSimilarities[0])")
    #expect(result.recoveredFraction == 1)
    // The row with the largest bias change gives the record to float precision.
    let biasStart = 32 * Self.inputs
    let row = (0..<32).max { abs(change[biasStart + $0]) < abs(change[biasStart + $1]) }!
    let reconstruction = try attack.reconstructions(from: change)[row]
    let error = zip(reconstruction, record.features).map { abs($0 - $1) }.max()!
    #expect(error < 1e-3, "largest error \(error)")
  }

  /// 64 records mixed over an epoch: rows are blends, and few records (if any) come back.
  @Test func manySampleUploadRecoversLittle() throws {
    var generator = SeededGenerator(seed: 23)
    let network = AuditFixtures.mlp(inputs: Self.inputs, hidden: 32, classes: 10)
    let records = AuditFixtures.randomRecords(
      count: 64, inputs: Self.inputs, classes: 10, using: &generator)
    for batchSize in [1, 32] {
      let change = try upload(network, records: records, batchSize: batchSize, seed: 24)
      let result = try LinearLayerReconstruction(inputs: Self.inputs, outputs: 32)
        .run(change: change, records: records.features, threshold: 0.99)
      #expect(result.recoveredFraction <= 0.05, "batch \(batchSize): \(result.recoveredFraction)")
    }
  }

  /// A selective upload without a row's bias gives nothing for that row.
  @Test func rowsWithoutBiasChangeAreSkipped() throws {
    let attack = LinearLayerReconstruction(inputs: 2, outputs: 3)
    // W = [[2, 4], [1, 1], [3, 3]], b = [2, 0, -1]: rows 0 and 2 are usable.
    let change: [Float] = [2, 4, 1, 1, 3, 3, 2, 0, -1]
    #expect(try attack.reconstructions(from: change) == [[1, 2], [-3, -3]])
    let result = try attack.run(change: change, records: [1, 2, 3, 3], threshold: 0.99)
    #expect(result.usableRows == 2)
    #expect(result.bestSimilarities[0] > 0.999999)
    #expect(result.bestSimilarities[1] < 0.99)  // (3, 3) is the negation of row 2's (−3, −3)
    #expect(result.recoveredFraction == 0.5)
  }

  @Test func badInputsAreTypedErrors() {
    let attack = LinearLayerReconstruction(inputs: 2, outputs: 3)
    #expect(throws: AuditError.lengthMismatch(what: "the uploaded change", count: 4, expected: 9)) {
      try attack.reconstructions(from: [1, 2, 3, 4])
    }
    #expect(throws: AuditError.self) {
      try attack.run(change: [Float](repeating: 1, count: 9), records: [1, 2, 3], threshold: 0.9)
    }
    #expect(throws: AuditError.self) {
      try attack.run(change: [Float](repeating: 1, count: 9), records: [1, 2], threshold: 1.5)
    }
  }
}
