import CoLearnTensor
import Synchronization

/// Evaluation and prediction on every core: the batches of a sample set go to one network per
/// core (``BLAS/threadCount`` of them), each running its batches whole on one thread with
/// single-threaded BLAS, and a network whose first layer is a ``Linear`` reads samples listed as
/// ``SparseRows`` (``prepared(_:)``) through ``Network/forward(listed:samples:parameters:)``,
/// multiplying only each sample's entries off the background — or, for one pass over samples
/// that are not listed (``outputs(parameters:on:batchSize:mergeSingletonRemainder:onePass:)``),
/// finding each batch's entries as it reads them, with the same bits.
///
/// Why not one network with threaded layers, as training runs: an evaluation batch is large,
/// so splitting the batches between the cores keeps every core busy through every layer (the
/// small products and the element-wise layers too, which a threaded GEMM leaves to one core)
/// with no hand-off inside a batch; and the first layer's sparse product has no GEMM to thread.
///
/// Results do not depend on the thread count: the batches are the same (so a network with batch
/// statistics sees the same batches), each is computed whole by one network, and the per-batch
/// losses are summed in batch order. On listed samples the first layer's sums are regrouped, so
/// the outputs agree with ``evaluate(_:parameters:on:batchSize:)``'s to rounding.
///
/// Threading: one thread uses an evaluator at a time; while it runs, BLAS is held at one thread
/// per call and the ``WorkerPool`` is busy.
public final class Evaluator {
  private let makeNetwork: () -> Network
  /// One network per core, made when first needed.
  private var networks: [Network] = []
  /// The first layer's stores for listed samples, one per core, reused from model to model.
  private var listedWeights: [SparseInputInference?] = [nil]
  /// The last listed samples' entries sorted for their batches, reused while the samples and
  /// the batching stay the same.
  private var listedBatches: ListedBatches?
  /// The next batch a core takes.
  private let nextBatch = Atomic<Int>(0)

  /// An evaluator whose networks come from `makeNetwork` (every call must build the same
  /// architecture).
  public init(makeNetwork: @escaping () -> Network) {
    self.makeNetwork = makeNetwork
  }

  /// An evaluator of `spec`'s networks.
  public convenience init(_ spec: ModelSpec) {
    self.init(makeNetwork: { spec.makeNetwork() })
  }

  /// `samples` as this evaluator reads them fastest: listed (``LabeledSamples/indexingSparseRows()``)
  /// when the first layer is a ``Linear`` and the samples are sparse enough, else unchanged.
  /// For a test set evaluated many times, prepare it once.
  public func prepared(_ samples: LabeledSamples) -> LabeledSamples {
    network(0).trainingSamples(samples)
  }

  private func network(_ index: Int) -> Network {
    while networks.count <= index { networks.append(makeNetwork()) }
    return networks[index]
  }

  /// Test-set accuracy and mean loss of `parameters` on `samples`, in batches of `batchSize`
  /// (with `mergeSingletonRemainder`, a last batch of one sample joins the one before it).
  public func evaluate(
    parameters: [Float], on samples: LabeledSamples, batchSize: Int,
    mergeSingletonRemainder: Bool = false
  ) -> EvaluationResult {
    let batches = Self.batches(
      count: samples.count, batchSize: batchSize, mergeSingletonRemainder: mergeSingletonRemainder)
    let classes = network(0).outputShape.count
    var losses = [Float](repeating: 0, count: batches.count)
    var corrects = [Int](repeating: 0, count: batches.count)
    losses.withUnsafeMutableBufferPointer { lossSlots in
      corrects.withUnsafeMutableBufferPointer { correctSlots in
        samples.labels.withUnsafeBufferPointer { labels in
          run(parameters: parameters, on: samples, batches: batches) { index, output in
            let (start, size) = batches[index]
            let result = negativeLogLikelihood(
              logProbabilities: output, labels: labels.baseAddress! + start, batchSize: size,
              classes: classes, gradient: nil)
            lossSlots[index] = result.loss
            correctSlots[index] = result.correct
          }
        }
      }
    }
    var totalLoss = 0.0
    var correct = 0
    for (index, batch) in batches.enumerated() {
      totalLoss += Double(losses[index]) * Double(batch.size)
      correct += corrects[index]
    }
    let count = max(samples.count, 1)
    return EvaluationResult(
      accuracy: Double(correct) / Double(count), meanLoss: totalLoss / Double(count),
      samples: samples.count)
  }

  /// The network's outputs (log-probabilities for a classifier) for every sample, row-major
  /// [samples, classes], in batches as ``evaluate(parameters:on:batchSize:mergeSingletonRemainder:)``
  /// runs them.
  ///
  /// With `onePass`, samples that are not listed still take the first ``Linear`` layer's
  /// sparse products: each batch's entries off the background (the first value of the first
  /// sample, 0 when that is not finite) are found as the batch is read
  /// (``Network/forward(features:batchSize:weights:parameters:)``) instead of the whole set
  /// being listed and sorted first, which a single pass does not win back. The outputs are the
  /// bits of the prepared samples' (``prepared(_:)``) when those are listed and no chunk of 64
  /// samples is denser than ``SparseRows/maximumDensity`` (such a batch runs the dense products).
  public func outputs(
    parameters: [Float], on samples: LabeledSamples, batchSize: Int,
    mergeSingletonRemainder: Bool = false, onePass: Bool = false
  ) -> [Float] {
    let batches = Self.batches(
      count: samples.count, batchSize: batchSize, mergeSingletonRemainder: mergeSingletonRemainder)
    let classes = network(0).outputShape.count
    var result = [Float](repeating: 0, count: samples.count * classes)
    result.withUnsafeMutableBufferPointer { target in
      run(parameters: parameters, on: samples, batches: batches, onePass: onePass) {
        index, output in
        let (start, size) = batches[index]
        (target.baseAddress! + start * classes).update(from: output, count: size * classes)
      }
    }
    return result
  }

  /// The batches of an evaluation: consecutive (start, size) over `count` samples, of
  /// `batchSize` but the last; with `mergeSingletonRemainder` a last batch of one sample joins
  /// the one before it.
  public static func batches(count: Int, batchSize: Int, mergeSingletonRemainder: Bool)
    -> [(start: Int, size: Int)]
  {
    let batchSize = max(1, batchSize)
    var batches: [(start: Int, size: Int)] = []
    batches.reserveCapacity(count / batchSize + 1)
    var start = 0
    while start < count {
      var size = min(batchSize, count - start)
      if mergeSingletonRemainder, count - start - size == 1 { size += 1 }
      batches.append((start, size))
      start += size
    }
    return batches
  }

  /// `samples`' listed entries sorted for `batches` (kept for the next call with the same
  /// samples and batches), or nil when the samples are not listed or the first layer is not a
  /// ``Linear`` that reads them.
  private func listing(_ samples: LabeledSamples, batches: [(start: Int, size: Int)])
    -> ListedBatches?
  {
    guard let rows = samples.sparseRows,
      (network(0).layers.first as? Linear)?.inputCount == rows.sampleSize
    else { return nil }
    if let kept = listedBatches, kept.rows === rows, kept.batches.elementsEqual(batches, by: ==) {
      return kept
    }
    let sorted = ListedBatches(rows: rows, batches: batches)
    listedBatches = sorted
    return sorted
  }

  /// Evaluates each of `models` on `samples` (a federation's participants and its global model):
  /// the cores take whole models, so they meet once per call instead of once per model, and each
  /// core prepares its own first-layer store. Each result is the bits
  /// ``evaluate(parameters:on:batchSize:mergeSingletonRemainder:)`` gives.
  public func evaluate(models: [[Float]], on samples: LabeledSamples, batchSize: Int)
    -> [EvaluationResult]
  {
    let threads = BLAS.threadCount
    let width = min(threads, WorkerPool.shared.maximumWidth, models.count)
    guard width > 1, samples.count > 0 else {
      return models.map { evaluate(parameters: $0, on: samples, batchSize: batchSize) }
    }
    precondition(samples.sampleSize == network(0).inputShape.count, "sample size mismatch")
    let batches = Self.batches(count: samples.count, batchSize: batchSize, mergeSingletonRemainder: false)
    let largest = batches.map(\.size).max() ?? 1
    for index in 0..<width { network(index).reserve(batchSize: largest) }
    let sorted = listing(samples, batches: batches)
    while listedWeights.count < width { listedWeights.append(nil) }
    let networks = networks
    let classes = networks[0].outputShape.count
    var results = [EvaluationResult](
      repeating: EvaluationResult(accuracy: 0, meanLoss: 0, samples: 0), count: models.count)
    nextBatch.store(0, ordering: .relaxed)
    // Each core runs whole models on one thread: no BLAS threads and no nested splits.
    BLAS.setThreadCount(1)
    defer { BLAS.setThreadCount(threads) }
    results.withUnsafeMutableBufferPointer { slots in
      listedWeights.withUnsafeMutableBufferPointer { stores in
        samples.features.withUnsafeBufferPointer { features in
          samples.labels.withUnsafeBufferPointer { labels in
            WorkerPool.shared.run(width: width) { share in
              let network = networks[share]
              while true {
                let model = self.nextBatch.add(1, ordering: .relaxed).oldValue
                guard model < models.count else { break }
                models[model].withUnsafeBufferPointer { w in
                  var weights: SparseInputInference?
                  if let sorted {
                    weights = network.prepareListedForward(
                      parameters: w.baseAddress!, rows: sorted.rows, reusing: stores[share])
                    stores[share] = weights
                  }
                  var totalLoss = 0.0
                  var correct = 0
                  for (index, (start, size)) in batches.enumerated() {
                    let output: UnsafePointer<Float>
                    if let sorted, let weights {
                      output = network.forward(
                        listed: sorted, batch: index, weights: weights, parameters: w.baseAddress!)
                    } else {
                      output = network.forward(
                        features.baseAddress! + start * samples.sampleSize, batchSize: size,
                        parameters: w.baseAddress!)
                    }
                    let result = negativeLogLikelihood(
                      logProbabilities: output, labels: labels.baseAddress! + start,
                      batchSize: size, classes: classes, gradient: nil)
                    totalLoss += Double(result.loss) * Double(size)
                    correct += result.correct
                  }
                  let count = Double(samples.count)
                  slots[model] = EvaluationResult(
                    accuracy: Double(correct) / count, meanLoss: totalLoss / count,
                    samples: samples.count)
                }
              }
            }
          }
        }
      }
    }
    return results
  }

  /// Runs every batch forward, on up to ``BLAS/threadCount`` networks in parallel, and hands
  /// each batch's output to `consume(batch index, output)` on the thread that computed it
  /// (different batches concurrently; the output is valid during the call). With `onePass`,
  /// samples that are not listed go through the first layer's sparse products batch by batch.
  private func run(
    parameters: [Float], on samples: LabeledSamples, batches: [(start: Int, size: Int)],
    onePass: Bool = false, consume: (Int, UnsafePointer<Float>) -> Void
  ) {
    guard !batches.isEmpty else { return }
    precondition(samples.sampleSize == network(0).inputShape.count, "sample size mismatch")
    let threads = BLAS.threadCount
    let width = min(threads, WorkerPool.shared.maximumWidth, batches.count)
    let largest = batches.map(\.size).max() ?? 1
    for index in 0..<width { network(index).reserve(batchSize: largest) }
    let networks = networks
    nextBatch.store(0, ordering: .relaxed)
    parameters.withUnsafeBufferPointer { w in
      samples.features.withUnsafeBufferPointer { features in
        // The first layer's Wᵀ, prepared once and read by every core, and the samples' entries
        // sorted for the batches, kept for the next model evaluated on the same samples.
        var listed: (batches: ListedBatches, weights: SparseInputInference)?
        if let sorted = listing(samples, batches: batches),
          let weights = networks[0].prepareListedForward(
            parameters: w.baseAddress!, rows: sorted.rows, reusing: listedWeights[0])
        {
          listedWeights[0] = weights
          listed = (sorted, weights)
        }
        // Not listed: each batch's entries found as it is read, against the background the
        // listing would take (the first value, when finite).
        var scanned: SparseInputInference?
        if listed == nil, onePass,
          (networks[0].layers.first as? Linear)?.inputCount == samples.sampleSize,
          let first = features.first
        {
          scanned = networks[0].prepareSparseForward(
            parameters: w.baseAddress!, background: first.isFinite ? first : 0,
            reusing: listedWeights[0])
          listedWeights[0] = scanned
        }
        func body(_ share: Int) {
          let network = networks[share]
          while true {
            let index = self.nextBatch.add(1, ordering: .relaxed).oldValue
            guard index < batches.count else { break }
            let (start, size) = batches[index]
            let output: UnsafePointer<Float>
            if let (sorted, weights) = listed {
              output = network.forward(
                listed: sorted, batch: index, weights: weights, parameters: w.baseAddress!)
            } else if let scanned {
              output = network.forward(
                features: features.baseAddress! + start * samples.sampleSize, batchSize: size,
                weights: scanned, parameters: w.baseAddress!)
            } else {
              output = network.forward(
                features.baseAddress! + start * samples.sampleSize, batchSize: size,
                parameters: w.baseAddress!)
            }
            consume(index, output)
          }
        }
        guard width > 1 else {
          body(0)
          return
        }
        // Each core runs whole batches on one thread: no BLAS threads and no nested splits.
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(threads) }
        WorkerPool.shared.run(width: width, body)
      }
    }
  }
}
