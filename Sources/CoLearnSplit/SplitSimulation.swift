import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor

/// What one epoch of split learning measured.
public struct SplitEpochStatistics: Sendable, Hashable, Codable {
  /// The mean training loss of the coordinator's back over the epoch (weighted by batch size),
  /// on the noisy values it received.
  public var meanLoss: Double
  /// The fraction of the epoch's samples the back classified correctly (before each update).
  public var trainingAccuracy: Double
  /// The samples sent.
  public var samples: Int
  /// The coordinator steps (one per batch).
  public var steps: Int
  /// Values that crossed to the coordinator.
  public var valuesSent: Int
  /// Seconds spent drawing and adding the noise.
  public var noiseSeconds: Double
}

/// Differentially private split learning on one machine (Jiang et al.; SPEC §9): N participants,
/// each holding a shard and a copy of the convolutional front, and one coordinator training the
/// dense back.
///
/// One step, for the participants in turn (round-robin, each on its next mini-batch of B):
/// 1. the participant runs its front on the batch: features f = BatchNorm(front(x)), each in
///    [−√(B−1), √(B−1)];
/// 2. it releases f̃ = f + Lap(S/ε) per value, S = 2·√(B−1) (``BoundedLaplaceRelease``, exact
///    noise on a grid from ``NoiseSource``), and sends f̃ with the B labels to the coordinator;
/// 3. the coordinator runs the back on f̃, takes the NLL loss, updates the back by SGD and
///    returns g = ∂L/∂f̃ (which equals ∂L/∂f, as f̃ = f + n);
/// 4. the participant back-propagates g through its front (with the activations of step 1) to
///    the front gradient ∂L/∂w_front, shares it with the other participants, and **every**
///    participant applies w_front −= α_t·∂L/∂w_front: same values, same operations, so the
///    fronts stay bit-identical.
///
/// With ``SplitBoundary/pixels`` the noise is added to the raw pixels instead (S = 255 on the
/// 0…255 scale) and the coordinator trains the whole network on them; the front is then run
/// on the noisy pixels — the same computation wherever it runs, so the simulation keeps it in
/// the participants' code path.
///
/// With ε = ∞ (``SplitConfiguration/epsilon`` nil) nothing is noised and the split computes
/// exactly the gradients of the unsplit network (a test compares them).
///
/// An epoch: every participant visits its shard once in a fresh random order; turns go
/// round-robin over the participants that still have batches. The step count t of the Torch7
/// decay is the coordinator's.
///
/// Threading: one thread at a time. A step allocates nothing.
public final class SplitSimulation {
  /// The network and its cut.
  public let architecture: SplitArchitecture
  /// The settings.
  public let configuration: SplitConfiguration
  /// The participants, by id.
  public private(set) var participants: [SplitParticipant]
  /// The coordinator.
  public let coordinator: SplitCoordinator
  /// Epochs finished.
  public private(set) var epoch = 0
  /// The shared front workspaces (the participants take turns).
  public let frontNetwork: Network
  /// Whether the noise comes from the secure generator.
  public var noiseIsSecure: Bool { noise.isSecure }

  private let pixelInterval: ClosedRange<Float>?
  private var noise: NoiseSource
  private var generator: SeededGenerator
  private let inputSize: Int
  private let featureSize: Int
  private let input: FloatBuffer
  private let labels: UnsafeMutablePointer<Int32>
  private let message: FloatBuffer
  private let featureGradient: FloatBuffer
  private let frontGradient: FloatBuffer

  /// A simulation.
  ///
  /// - Parameters:
  ///   - architecture: the split network.
  ///   - configuration: N, B, α, ε and the boundary.
  ///   - shards: one sample set per participant (N of them), of `architecture.inputShape`.
  ///   - initialFront: the front's initial flat vector, given to every participant.
  ///   - initialBack: the back's initial flat vector, given to the coordinator.
  ///   - pixelInterval: for ``SplitBoundary/pixels``: the (standardised) values of raw pixels
  ///     0 and 255, the interval whose width is the sensitivity 255.
  ///   - noise: where the noise comes from (``NoiseSource/secure`` for privacy).
  ///   - generator: the seeded source of the sample orders.
  public init(
    architecture: SplitArchitecture, configuration: SplitConfiguration,
    shards: [LabeledSamples], initialFront: [Float], initialBack: [Float],
    pixelInterval: ClosedRange<Float>? = nil, noise: NoiseSource, generator: SeededGenerator
  ) {
    precondition(shards.count == configuration.participants, "one shard per participant")
    precondition(
      configuration.boundary == .features || pixelInterval != nil,
      "the pixel boundary needs the pixel interval")
    let front = architecture.makeFront()
    precondition(initialFront.count == front.parameterCount, "front parameter count mismatch")
    self.architecture = architecture
    self.configuration = configuration
    frontNetwork = front
    participants = shards.enumerated().map {
      precondition($1.sampleSize == front.inputShape.count, "shard \($0): wrong sample size")
      return SplitParticipant(id: $0, samples: $1, front: initialFront)
    }
    let batch = configuration.batchSize
    coordinator = SplitCoordinator(
      network: architecture.makeBack(), parameters: initialBack, capacity: batch)
    front.reserve(batchSize: batch)
    self.pixelInterval = pixelInterval
    self.noise = noise
    self.generator = generator
    inputSize = front.inputShape.count
    featureSize = front.outputShape.count
    input = FloatBuffer(count: batch * inputSize)
    labels = .allocate(capacity: batch)
    labels.initialize(repeating: 0, count: batch)
    let sent = configuration.boundary == .features ? featureSize : inputSize
    message = FloatBuffer(count: batch * sent)
    featureGradient = FloatBuffer(count: batch * featureSize)
    frontGradient = FloatBuffer(count: front.parameterCount)
  }

  deinit {
    labels.deallocate()
  }

  /// Whether every participant's front is bit for bit the same as participant 0's.
  public var frontsAreIdentical: Bool {
    let reference = participants[0].front
    return participants.allSatisfy { participant in
      participant.front.withUnsafeBytes { a in reference.withUnsafeBytes { b in a.elementsEqual(b) } }
    }
  }

  /// The mechanism of a batch of `batchSize`, or nil when ε = ∞.
  public func mechanism(batchSize: Int) -> BoundedLaplaceRelease? {
    guard let epsilon = configuration.epsilon else { return nil }
    switch configuration.boundary {
    case .features:
      return BoundedLaplaceRelease(
        center: 0, bound: Float(batchNormBound(batchSize: batchSize)), epsilon: epsilon)
    case .pixels:
      let interval = pixelInterval!
      return BoundedLaplaceRelease(
        center: (interval.lowerBound + interval.upperBound) / 2,
        bound: (interval.upperBound - interval.lowerBound) / 2, epsilon: epsilon)
    }
  }

  /// One epoch (see the type's documentation).
  ///
  /// - Parameter observer: called after every release with what crossed the boundary (the
  ///   values are valid during the call only); the CLI writes the audit from it.
  /// - Throws: ``PrivacyError`` when the secure generator cannot be read; nothing of the
  ///   failed step has been sent then.
  public func runEpoch(
    observer: ((BoundaryCrossing) throws -> Void)? = nil
  ) throws -> SplitEpochStatistics {
    epoch += 1
    let batch = configuration.batchSize
    var batches: [Int] = []
    for p in participants.indices {
      shufflePermutation(
        &participants[p].order, count: participants[p].samples.count, using: &generator)
      let count = participants[p].batchCount(batchSize: batch)
      batches.append(count)
      if let epsilon = configuration.epsilon, count > 0 {
        _ = participants[p].ledger.beginEpoch(epsilon: epsilon, capacity: count)
      }
    }
    var statistics = SplitEpochStatistics(
      meanLoss: 0, trainingAccuracy: 0, samples: 0, steps: 0, valuesSent: 0, noiseSeconds: 0)
    var totalLoss = 0.0
    var correct = 0
    for k in 0..<(batches.max() ?? 0) {
      for p in participants.indices where k < batches[p] {
        let result = try step(participant: p, batch: k, statistics: &statistics, observer: observer)
        totalLoss += Double(result.loss) * Double(result.size)
        correct += result.correct
      }
    }
    for p in participants.indices where participants[p].ledger.isEpochOpen {
      participants[p].ledger.closeEpoch()
    }
    let count = max(statistics.samples, 1)
    statistics.meanLoss = totalLoss / Double(count)
    statistics.trainingAccuracy = Double(correct) / Double(count)
    return statistics
  }

  /// One step of participant `p` on its batch `k` (steps 1–4 of the type's documentation).
  private func step(
    participant p: Int, batch k: Int, statistics: inout SplitEpochStatistics,
    observer: ((BoundaryCrossing) throws -> Void)?
  ) throws -> (loss: Float, correct: Int, size: Int) {
    let indices = participants[p].batch(k, batchSize: configuration.batchSize)
    let size = indices.count
    let samples = participants[p].samples
    samples.features.withUnsafeBufferPointer { features in
      for (slot, index) in indices.enumerated() {
        (input.pointer + slot * inputSize).update(
          from: features.baseAddress! + index * inputSize, count: inputSize)
        labels[slot] = samples.labels[index]
      }
    }
    let release = mechanism(batchSize: size)
    let frontInput: UnsafePointer<Float>
    let sentCount: Int
    let features: UnsafePointer<Float>
    var noiseSeconds = 0.0
    switch configuration.boundary {
    case .features:
      // 1. front, 2. noise: the message is a copy of the BatchNorm output, then noised.
      frontInput = UnsafePointer(input.pointer)
      let output = participants[p].front.withUnsafeBufferPointer { w in
        frontNetwork.forward(frontInput, batchSize: size, parameters: w.baseAddress!)
      }
      sentCount = size * featureSize
      message.pointer.update(from: output, count: sentCount)
      if let release {
        let start = monotonicSeconds()
        try release.release(
          UnsafeMutableBufferPointer(start: message.pointer, count: sentCount), using: &noise)
        noiseSeconds = monotonicSeconds() - start
      }
      features = UnsafePointer(message.pointer)
    case .pixels:
      // Noise on the pixels; the coordinator's front then runs on them.
      sentCount = size * inputSize
      message.pointer.update(from: input.pointer, count: sentCount)
      if let release {
        let start = monotonicSeconds()
        try release.release(
          UnsafeMutableBufferPointer(start: message.pointer, count: sentCount), using: &noise)
        noiseSeconds = monotonicSeconds() - start
      }
      frontInput = UnsafePointer(message.pointer)
      features = participants[p].front.withUnsafeBufferPointer { w in
        frontNetwork.forward(frontInput, batchSize: size, parameters: w.baseAddress!)
      }
    }
    statistics.noiseSeconds += noiseSeconds
    if configuration.epsilon != nil { participants[p].ledger.chargeUpload() }
    let stepNumber = coordinator.stepCount + 1
    if let observer {
      let record = BoundaryRecord(
        step: stepNumber, epoch: epoch, participant: p, batchSize: size,
        boundary: configuration.boundary, valueCount: sentCount, labelCount: size,
        epsilon: release?.epsilon,
        center: release?.center ?? 0,
        bound: release?.bound
          ?? (configuration.boundary == .features
            ? Float(batchNormBound(batchSize: size))
            : (pixelInterval.map { ($0.upperBound - $0.lowerBound) / 2 } ?? 0)),
        sensitivity: release?.sensitivity ?? 0, nominalScale: release?.nominalScale ?? 0,
        appliedScale: release?.appliedScale ?? 0, gridStep: release?.gridStep ?? 0,
        gradientValuesReturned: configuration.boundary == .features ? sentCount : 0,
        frontGradientValuesShared: participants.count > 1 ? frontNetwork.parameterCount : 0)
      try observer(
        BoundaryCrossing(
          record: record, values: UnsafeBufferPointer(start: message.pointer, count: sentCount),
          labels: UnsafeBufferPointer(start: labels, count: size)))
    }
    // 3. the coordinator's step, 4. the front gradient and the common update.
    let rate = configuration.learningRate(atStep: coordinator.stepCount)
    let result = coordinator.train(
      on: features, labels: labels, batchSize: size, rate: rate,
      featureGradient: featureGradient.pointer)
    participants[p].front.withUnsafeBufferPointer { w in
      frontNetwork.backward(
        input: frontInput, outputGradient: featureGradient.pointer, batchSize: size,
        parameters: w.baseAddress!, gradients: frontGradient.pointer)
    }
    applyFrontUpdate(rate: rate)
    statistics.samples += size
    statistics.steps += 1
    statistics.valuesSent += sentCount
    return (result.loss, result.correct, size)
  }

  /// w_front −= rate·g on every participant's copy, with the same operations in the same order.
  private func applyFrontUpdate(rate: Float) {
    let g = frontGradient.pointer
    for p in participants.indices {
      participants[p].front.withUnsafeMutableBufferPointer { w in
        for j in w.indices { w[j] -= rate * g[j] }
      }
    }
  }

  /// Test accuracy of the model a participant holds after training: its front followed by the
  /// back the coordinator sends out, run locally with nothing noised (the paper's deployment).
  ///
  /// BatchNorm has no running statistics, so test samples are normalised over their test batch;
  /// batches have the training size B so that the features have the statistics the back was
  /// trained on (a remainder of one sample joins the previous batch).
  ///
  /// - Parameter participant: whose front (all are identical).
  public func evaluate(
    on samples: LabeledSamples, participant: Int = 0
  ) -> EvaluationResult {
    splitEvaluate(
      front: frontNetwork, frontParameters: participants[participant].front,
      back: coordinator.network, backParameters: coordinator.parameters, on: samples,
      batchSize: configuration.batchSize)
  }
}
