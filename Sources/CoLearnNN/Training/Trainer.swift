import CoLearnTensor

/// The state of one model under local training: its flat parameter vector and the number of
/// mini-batch steps it has taken (t in the Torch7 learning-rate decay, SPEC §4).
public struct LocalModel: Sendable, Equatable {
  /// The flat parameter vector w.
  public var parameters: [Float]
  /// t: mini-batch steps taken so far.
  public var stepCount: Int

  public init(parameters: [Float], stepCount: Int = 0) {
    self.parameters = parameters
    self.stepCount = stepCount
  }
}

/// What one epoch of training measured.
public struct EpochStatistics: Sendable {
  /// The mean training loss over the epoch's mini-batches (weighted by batch size).
  public var meanLoss: Double
  /// The fraction of training samples classified correctly during the epoch (before each
  /// step's update).
  public var trainingAccuracy: Double
  /// The number of samples visited.
  public var samples: Int
  /// The number of mini-batch steps taken.
  public var steps: Int
}

/// Runs (selective) SGD on a model (SPEC §4, §5), owning every workspace a step needs: the
/// gradient vector, the mini-batch buffers, the loss gradient and the selection workspace. After
/// the first epoch nothing is allocated.
///
/// One trainer can train many models in turn (the participants of a simulation share one): the
/// per-model state is the ``LocalModel`` passed in.
///
/// Threading: a trainer belongs to one thread at a time.
public final class Trainer {
  /// The network whose workspaces this trainer uses.
  public let network: Network
  /// The SGD settings.
  public let configuration: SGDConfiguration

  private let gradients: FloatBuffer
  private let batchFeatures: FloatBuffer
  private let batchLabels: UnsafeMutablePointer<Int32>
  private let lossGradient: FloatBuffer
  private var order: [Int] = []
  private var selector = MagnitudeSelector()
  private var selected: [Int32] = []
  private let classes: Int
  /// Runs a convolutional network's batches as two halves, one per core; nil for other networks.
  private let dataParallel: DataParallelStep?
  /// Whether steps run on all cores or on this thread alone, timed now and then.
  private var width = StepWidthChooser()

  /// A trainer for `network` with `configuration`; reserves the network for the batch size.
  public init(network: Network, configuration: SGDConfiguration) {
    self.network = network
    self.configuration = configuration
    let batch = configuration.batchSize
    network.reserve(batchSize: batch)
    classes = network.outputShape.count
    // The gradient vector is only needed by selective SGD; plain SGD fuses the update.
    gradients = FloatBuffer(count: configuration.selectFraction < 1 ? network.parameterCount : 0)
    batchFeatures = FloatBuffer(count: batch * network.inputShape.count)
    batchLabels = .allocate(capacity: batch)
    batchLabels.initialize(repeating: 0, count: batch)
    lossGradient = FloatBuffer(count: batch * classes)
    dataParallel = DataParallelStep(network: network, batchSize: batch)
    if configuration.selectFraction < 1 {
      selected = [Int32](
        repeating: 0, count: configuration.selectedCount(parameterCount: network.parameterCount))
    }
  }

  deinit {
    batchLabels.deallocate()
  }

  /// Whether a step on a batch of `batchSize` samples runs as two data-parallel halves, one per
  /// core (a convolutional network's batches of 8 or more; see `DataParallelStep`): the
  /// result is then w − α·(g₁ + g₂), the same bits on any number of threads.
  public func runsHalves(batchSize: Int) -> Bool {
    dataParallel?.splits(batchSize: batchSize) ?? false
  }

  /// One epoch: a pass over `samples` in a fresh random order drawn from `generator`, in
  /// mini-batches of ``SGDConfiguration/batchSize`` (the last one may be smaller).
  ///
  /// - Parameters:
  ///   - changes: when given (|w| values), receives w_new − w_old, the change of every parameter
  ///     over the epoch (DSSGD's Δw). A sparse first layer computes most of it while writing its
  ///     weights back, so this is cheaper than keeping w_old and subtracting afterwards.
  ///   - progress: called now and then (every 256 steps) with the samples done so far.
  public func trainEpoch<G: RandomNumberGenerator>(
    _ model: inout LocalModel, on samples: LabeledSamples, using generator: inout G,
    changes: UnsafeMutableBufferPointer<Float>? = nil, progress: ((Int) -> Void)? = nil
  ) -> EpochStatistics {
    precondition(
      samples.sampleSize == network.inputShape.count,
      "samples have \(samples.sampleSize) values, the model expects \(network.inputShape.count)")
    precondition(model.parameters.count == network.parameterCount, "wrong parameter count")
    precondition(changes.map { $0.count == network.parameterCount } ?? true, "changes: |w| values")
    shufflePermutation(&order, count: samples.count, using: &generator)
    let batch = configuration.batchSize
    let sampleSize = samples.sampleSize
    let firstStep = model.stepCount
    var totalLoss = 0.0
    var correct = 0
    var steps = 0
    let fused = configuration.selectFraction >= 1
    model.parameters.withUnsafeMutableBufferPointer { w in
      let parameters = w.baseAddress!
      // Plain SGD: the first layer may hold its weights in its own form for the epoch, and
      // read each batch from the samples' listed entries instead of the gathered features.
      let plan =
        fused ? network.beginSGDEpoch(parameters: parameters, rows: samples.sparseRows) : .none
      let readsRows = plan.readsRows
      // The transpose that opened such an epoch and the write-back that closes it run on all
      // --threads cores; the steps between run on this one. The pool's workers are sent to
      // sleep for the steps (so that no core spins beside them), and woken one step before the
      // end so that the write-back's hand-off does not wait for a thread wake-up.
      let wakesWorkers = plan.changesWritten > 0 && BLAS.threadCount > 1
      if wakesWorkers { WorkerPool.shared.rest() }
      // w_old of the parameters whose changes the first layer does not produce.
      let produced = changes == nil ? 0 : plan.changesWritten
      if let changes {
        (changes.baseAddress! + produced).update(
          from: parameters + produced, count: changes.count - produced)
      }
      samples.features.withUnsafeBufferPointer { features in
        samples.labels.withUnsafeBufferPointer { labels in
          // Held for the whole epoch: the layer keeps each batch's slice until its step ran.
          order.withUnsafeBufferPointer { order in
            var start = 0
            while start < order.count {
              let size = min(batch, order.count - start)
              if wakesWorkers && start + size == order.count { WorkerPool.shared.wake() }
              let input: UnsafePointer<Float>
              let batchLabelPointer: UnsafePointer<Int32>
              if readsRows {
                // Only the labels are gathered; the features are not read.
                let slice = UnsafeBufferPointer(rebasing: order[start..<(start + size)])
                network.selectSGDEpochBatch(slice)
                for slot in 0..<size { batchLabels[slot] = labels[order[start + slot]] }
                input = UnsafePointer(batchFeatures.pointer)
                batchLabelPointer = UnsafePointer(batchLabels)
              } else if size == 1 {
                // A single sample is read in place: no gather.
                let index = order[start]
                input = features.baseAddress! + index * sampleSize
                batchLabelPointer = labels.baseAddress! + index
              } else {
                for (slot, index) in order[start..<(start + size)].enumerated() {
                  (batchFeatures.pointer + slot * sampleSize).update(
                    from: features.baseAddress! + index * sampleSize, count: sampleSize)
                  batchLabels[slot] = labels[index]
                }
                input = UnsafePointer(batchFeatures.pointer)
                batchLabelPointer = UnsafePointer(batchLabels)
              }
              let result = step(
                parameters, stepCount: firstStep + steps, input: input, labels: batchLabelPointer,
                batchSize: size)
              totalLoss += Double(result.loss) * Double(size)
              correct += result.correct
              steps += 1
              start += size
              if let progress, steps % 256 == 0 { progress(start) }
            }
          }
        }
      }
      if fused { network.endSGDEpoch(changes: produced > 0 ? changes?.baseAddress : nil) }
      if let changes {
        for j in produced..<changes.count { changes[j] = parameters[j] - changes[j] }
      }
    }
    model.stepCount += steps
    let count = max(samples.count, 1)
    return EpochStatistics(
      meanLoss: totalLoss / Double(count), trainingAccuracy: Double(correct) / Double(count),
      samples: samples.count, steps: steps)
  }

  /// One mini-batch step: forward, loss, backward, then the (selective) SGD update
  /// w_j −= α_t · ∂E/∂w_j with α_t = α / (1 + t·d) (SPEC §4); with θ < 1 only the k = ceil(θ|w|)
  /// positions of largest |∂E/∂w_j| are updated (SPEC §5). A convolutional network's batch of 8
  /// or more runs as two halves, one per core (``runsHalves(batchSize:)``).
  ///
  /// - Returns: the batch's mean loss and its number of correct predictions.
  @discardableResult
  public func step(
    _ model: inout LocalModel, input: UnsafePointer<Float>, labels: UnsafePointer<Int32>,
    batchSize: Int
  ) -> (loss: Float, correct: Int) {
    let result = model.parameters.withUnsafeMutableBufferPointer { w in
      step(
        w.baseAddress!, stepCount: model.stepCount, input: input, labels: labels,
        batchSize: batchSize)
    }
    model.stepCount += 1
    return result
  }

  /// One step on the flat parameter vector `w` of a model that has taken `stepCount` steps, on
  /// all `--threads` cores or on this thread alone, whichever ``StepWidthChooser`` last timed
  /// faster (the same bits either way).
  private func step(
    _ w: UnsafeMutablePointer<Float>, stepCount: Int, input: UnsafePointer<Float>,
    labels: UnsafePointer<Int32>, batchSize: Int
  ) -> (loss: Float, correct: Int) {
    width.run {
      unchosenStep(
        w, stepCount: stepCount, input: input, labels: labels, batchSize: batchSize)
    }
  }

  private func unchosenStep(
    _ w: UnsafeMutablePointer<Float>, stepCount: Int, input: UnsafePointer<Float>,
    labels: UnsafePointer<Int32>, batchSize: Int
  ) -> (loss: Float, correct: Int) {
    let rate = configuration.learningRate(atStep: stepCount)
    let parameters = UnsafePointer(w)
    if let dataParallel, dataParallel.splits(batchSize: batchSize) {
      let result = dataParallel.gradient(
        network: network, parameters: parameters, input: input, labels: labels,
        batchSize: batchSize, lossGradient: lossGradient.pointer)
      if configuration.selectFraction >= 1 {
        BLAS.axpy(count: network.parameterCount, alpha: -rate, x: result.gradient, y: w)
      } else {
        applySelectedUpdate(of: result.gradient, to: w, rate: rate)
      }
      return (result.loss, result.correct)
    }
    let output = network.forward(input, batchSize: batchSize, parameters: parameters)
    let result = negativeLogLikelihood(
      logProbabilities: output, labels: labels, batchSize: batchSize, classes: classes,
      gradient: lossGradient.pointer)
    if configuration.selectFraction >= 1 {
      // Plain SGD: the update is fused into each layer's weight-gradient computation.
      network.backwardApplyingSGD(
        input: input, outputGradient: lossGradient.pointer, batchSize: batchSize,
        parameters: w, rate: rate)
    } else {
      network.backward(
        input: input, outputGradient: lossGradient.pointer, batchSize: batchSize,
        parameters: parameters, gradients: gradients.pointer)
      applySelectedUpdate(of: UnsafePointer(gradients.pointer), to: w, rate: rate)
    }
    return result
  }

  /// w_j −= rate · g_j for the k positions of largest |g_j| (ties by lower index).
  private func applySelectedUpdate(
    of g: UnsafePointer<Float>, to w: UnsafeMutablePointer<Float>, rate: Float
  ) {
    let k = selected.count
    selected.withUnsafeMutableBufferPointer { chosen in
      selector.selectLargest(
        UnsafeBufferPointer(start: g, count: network.parameterCount), k: k,
        into: chosen.baseAddress!)
      for index in chosen {
        let j = Int(index)
        w[j] -= rate * g[j]
      }
    }
  }
}
