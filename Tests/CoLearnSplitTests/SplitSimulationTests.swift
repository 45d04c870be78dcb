import CoLearnNN
import CoLearnPrivacy
import CoLearnSplit
import CoLearnTensor
import CoLearnTestSupport
import Testing

@Suite struct SplitSimulationTests {
  func simulation(
    participants: Int, perParticipant: Int, batchSize: Int, epsilon: Double?,
    boundary: SplitBoundary = .features, architecture: SplitArchitecture = smallArchitecture
  ) throws -> (SplitSimulation, LabeledSamples, [Float]) {
    let (shards, test) = syntheticShards(
      architecture, participants: participants, perParticipant: perParticipant)
    let (front, back) = initialParameters(architecture)
    let configuration = try SplitConfiguration(
      participants: participants, batchSize: batchSize, learningRate: 0.05, epsilon: epsilon,
      boundary: boundary)
    let simulation = SplitSimulation(
      architecture: architecture, configuration: configuration, shards: shards,
      initialFront: front, initialBack: back,
      pixelInterval: boundary == .pixels ? -1...3 : nil,
      noise: .insecureSeeded(5), generator: SeededGenerator(seed: 17))
    return (simulation, test, front)
  }

  /// Every participant applies the same front update after every step, so the fronts are the
  /// same bit for bit — with noise, several epochs, uneven last batches.
  @Test func frontsStayBitIdentical() throws {
    let (simulation, _, initial) = try simulation(
      participants: 4, perParticipant: 27, batchSize: 8, epsilon: 2)
    for _ in 0..<3 { _ = try simulation.runEpoch() }
    #expect(simulation.frontsAreIdentical)
    #expect(simulation.participants[0].front != initial, "the fronts were trained")
    let first = simulation.participants[0].front
    for participant in simulation.participants {
      #expect(participant.front.withUnsafeBytes { a in first.withUnsafeBytes { b in a.elementsEqual(b) } })
    }
  }

  /// With ε = ∞ one split step is one SGD step of the unsplit network: the coordinator's
  /// ∂L/∂features, pushed through the front, gives the unsplit gradients.
  @Test func gradientExchangeMatchesTheUnsplitNetwork() throws {
    let architecture = smallArchitecture
    let batchSize = 6
    let (simulation, _, front) = try simulation(
      participants: 1, perParticipant: batchSize, batchSize: batchSize, epsilon: nil)
    let back = simulation.coordinator.parameters
    let samples = simulation.participants[0].samples

    // The unsplit reference: one network, one flat vector (front ++ back), backward.
    let combined = architecture.makeCombined()
    combined.reserve(batchSize: batchSize)
    let parameters = front + back
    var gradient = [Float](repeating: 0, count: parameters.count)
    var lossGradient = [Float](repeating: 0, count: batchSize * 10)
    parameters.withUnsafeBufferPointer { w in
      samples.features.withUnsafeBufferPointer { x in
        samples.labels.withUnsafeBufferPointer { y in
          let output = combined.forward(x.baseAddress!, batchSize: batchSize, parameters: w.baseAddress!)
          _ = lossGradient.withUnsafeMutableBufferPointer { g in
            negativeLogLikelihood(
              logProbabilities: output, labels: y.baseAddress!, batchSize: batchSize,
              classes: 10, gradient: g.baseAddress!)
          }
          gradient.withUnsafeMutableBufferPointer { g in
            combined.backward(
              input: x.baseAddress!, outputGradient: lossGradient, batchSize: batchSize,
              parameters: w.baseAddress!, gradients: g.baseAddress!)
          }
        }
      }
    }
    // One split epoch = one step on the whole (reordered) shard.
    var crossings = 0
    let statistics = try simulation.runEpoch { crossing in
      crossings += 1
      #expect(crossing.record.epsilon == nil && crossing.record.nominalScale == 0)
    }
    #expect(statistics.steps == 1 && crossings == 1)
    let rate = simulation.configuration.learningRate(atStep: 0)
    let expected = zip(parameters, gradient).map { $0 - rate * $1 }
    let split = simulation.participants[0].front + simulation.coordinator.parameters
    let difference = maximumAbsoluteDifference(split, expected)
    let largestStep = gradient.map { abs(rate * $0) }.max() ?? 0
    #expect(largestStep > 1e-3, "the step moves the parameters")
    #expect(difference < 1e-6, "split and unsplit updates differ by \(difference)")
  }

  /// The same gradients exactly, without the update: the coordinator's feature gradient through
  /// the front equals the unsplit network's front gradient, and the back's its back gradient.
  @Test func splitGradientsEqualUnsplitGradients() throws {
    let architecture = smallArchitecture
    let batchSize = 5
    let (shards, _) = syntheticShards(architecture, participants: 1, perParticipant: batchSize)
    let (front, back) = initialParameters(architecture)
    let x = shards[0].features
    let labels = shards[0].labels
    let frontNetwork = architecture.makeFront()
    let backNetwork = architecture.makeBack()
    let combined = architecture.makeCombined()
    for network in [frontNetwork, backNetwork, combined] { network.reserve(batchSize: batchSize) }

    func lossGradient(_ output: UnsafePointer<Float>) -> [Float] {
      var g = [Float](repeating: 0, count: batchSize * 10)
      _ = g.withUnsafeMutableBufferPointer { buffer in
        labels.withUnsafeBufferPointer { y in
          negativeLogLikelihood(
            logProbabilities: output, labels: y.baseAddress!, batchSize: batchSize, classes: 10,
            gradient: buffer.baseAddress!)
        }
      }
      return g
    }
    // Split: front → features → back (∂w_back, ∂features) → front (∂w_front).
    var frontGradient = [Float](repeating: 0, count: front.count)
    var backGradient = [Float](repeating: 0, count: back.count)
    var featureGradient = [Float](repeating: 0, count: batchSize * architecture.featureShape.count)
    let features = Array(
      UnsafeBufferPointer(
        start: frontNetwork.forward(x, batchSize: batchSize, parameters: front),
        count: batchSize * architecture.featureShape.count))
    let outputGradient = lossGradient(backNetwork.forward(features, batchSize: batchSize, parameters: back))
    backGradient.withUnsafeMutableBufferPointer { g in
      featureGradient.withUnsafeMutableBufferPointer { f in
        backNetwork.backward(
          input: features, outputGradient: outputGradient, batchSize: batchSize,
          parameters: back, gradients: g.baseAddress!, inputGradient: f.baseAddress!)
      }
    }
    frontGradient.withUnsafeMutableBufferPointer { g in
      frontNetwork.backward(
        input: x, outputGradient: featureGradient, batchSize: batchSize, parameters: front,
        gradients: g.baseAddress!)
    }
    // Unsplit.
    let all = front + back
    var gradient = [Float](repeating: 0, count: all.count)
    let combinedGradient = lossGradient(combined.forward(x, batchSize: batchSize, parameters: all))
    gradient.withUnsafeMutableBufferPointer { g in
      combined.backward(
        input: x, outputGradient: combinedGradient, batchSize: batchSize, parameters: all,
        gradients: g.baseAddress!)
    }
    #expect(frontGradient + backGradient == gradient, "same kernels, same order: bit-identical")
    #expect(frontGradient.contains { $0 != 0 })
  }

  /// The audit: one crossing per step, with B × d values, the labels, S = 2√(B−1) and S/ε; and
  /// the ledger charges ε per epoch.
  @Test func crossingsCarryTheirPrivacyParameters() throws {
    let (simulation, _, _) = try simulation(
      participants: 3, perParticipant: 21, batchSize: 8, epsilon: 2)
    var records: [BoundaryRecord] = []
    let statistics = try simulation.runEpoch { records.append($0.record) }
    // 21 = 8 + 8 + 5 per participant: 3 batches each.
    #expect(records.count == 9 && statistics.steps == 9)
    #expect(records.map(\.participant) == [0, 1, 2, 0, 1, 2, 0, 1, 2])
    let d = smallArchitecture.featureShape.count
    for record in records {
      let b = Double(record.batchSize)
      #expect(record.valueCount == record.batchSize * d && record.labelCount == record.batchSize)
      // γ is a Float: S = 2·Float(√(B−1)), within float precision of the exact value.
      #expect(abs(record.sensitivity - 2 * (b - 1).squareRoot()) < 1e-6 * record.sensitivity)
      #expect(record.sensitivity == 2 * Double(record.bound))
      #expect(abs(record.nominalScale - record.sensitivity / 2) < 1e-12)
      #expect(record.appliedScale >= record.nominalScale)
      #expect(record.epsilon == 2)
    }
    #expect(records.map(\.batchSize) == [8, 8, 8, 8, 8, 8, 5, 5, 5])
    #expect(statistics.valuesSent == 63 * d)
    for participant in simulation.participants {
      #expect(participant.ledger.spentEpsilon == 2)
      #expect(participant.ledger.epochs.first?.uploads == 3)
    }
  }

  /// Raw-pixel noise (the paper's comparison): S = 255 on the 0…255 scale, i.e. the width of
  /// the standardised pixel interval.
  @Test func pixelBoundaryUsesTheWidthOfThePixelRange() throws {
    let (simulation, _, _) = try simulation(
      participants: 2, perParticipant: 10, batchSize: 5, epsilon: 10, boundary: .pixels)
    let mechanism = try #require(simulation.mechanism(batchSize: 5))
    #expect(mechanism.sensitivity == 4)  // the interval −1...3 stands for 0...255
    #expect(mechanism.center == 1)
    var records: [BoundaryRecord] = []
    _ = try simulation.runEpoch { records.append($0.record) }
    #expect(records.allSatisfy { $0.valueCount == $0.batchSize * 256 && $0.sensitivity == 4 })
    #expect(simulation.frontsAreIdentical)
  }

  /// Training without noise learns the synthetic task; with heavy noise it learns less.
  @Test func learnsWithoutNoise() throws {
    let (simulation, test, _) = try simulation(
      participants: 3, perParticipant: 60, batchSize: 10, epsilon: nil)
    for _ in 0..<8 { _ = try simulation.runEpoch() }
    let accuracy = simulation.evaluate(on: test).accuracy
    #expect(accuracy > 0.8, "accuracy \(accuracy)")
  }

  @Test func badSettingsAreRefused() {
    #expect(throws: ConfigurationError.self) {
      try SplitConfiguration(participants: 2, batchSize: 1, learningRate: 0.1, epsilon: 1)
    }
    #expect(throws: ConfigurationError.self) {
      try SplitConfiguration(participants: 0, batchSize: 8, learningRate: 0.1, epsilon: 1)
    }
    #expect(throws: ConfigurationError.self) {
      try SplitConfiguration(participants: 2, batchSize: 8, learningRate: 0.1, epsilon: 0)
    }
  }

  @Test func privacyAccountComposesOverEpochs() {
    let account = SplitPrivacyAccount(
      epsilonPerValue: 2, epochs: 3, valuesPerSample: 1280, batchSize: 64, boundary: .features,
      deltaPrime: 1e-5)
    #expect(account.total(perEpoch: 2).epsilon == 6)
    #expect(account.epsilonPerSampleOwnValues == 2560)
    let coupled = try! #require(account.epsilonPerSampleWholeBatch)
    #expect(abs(coupled - 1280 * 64 * 2 / 63.0.squareRoot()) < 1e-9 * coupled)
  }
}
