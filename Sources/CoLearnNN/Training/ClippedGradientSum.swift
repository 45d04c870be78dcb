import CoLearnTensor

/// One network's share of a DP-SGD step (issue 21): the sum of the clipped per-example
/// gradients of some samples, Σ_b g_b · min(1, C / (‖g_b‖ + 10⁻⁶)), with the workspaces to
/// compute it. ``DPSGDTrainer`` runs one, or two on a convolutional network's batches (one
/// per core, each on half of the batch; see `DataParallelStep` for why).
///
/// Threading: one thread at a time; two instances may run at once (their networks and
/// workspaces are their own).
final class ClippedGradientSum {
  /// The network this share runs on.
  let network: Network
  /// Samples per forward/backward pass: more run in chunks.
  let chunk: Int
  /// The share's clipped sum, |w| values (written by ``accumulate(_:samples:parameters:bound:)``).
  let sum: FloatBuffer
  /// The share's summed loss and correct predictions.
  private(set) var loss = 0.0
  private(set) var correct = 0
  private let gradients: FloatBuffer
  private let batchFeatures: FloatBuffer
  private let batchLabels: UnsafeMutablePointer<Int32>
  private let lossGradient: FloatBuffer
  private let squaredNorms: FloatBuffer
  private let classes: Int

  /// Workspaces for `network` in passes of up to `chunk` samples (reserves the network).
  init(network: Network, chunk: Int) {
    self.network = network
    self.chunk = chunk
    network.reserve(batchSize: chunk)
    classes = network.outputShape.count
    gradients = FloatBuffer(count: network.parameterCount)
    sum = FloatBuffer(count: network.parameterCount)
    batchFeatures = FloatBuffer(count: chunk * network.inputShape.count)
    batchLabels = .allocate(capacity: chunk)
    batchLabels.initialize(repeating: 0, count: chunk)
    lossGradient = FloatBuffer(count: chunk * classes)
    squaredNorms = FloatBuffer(count: chunk)
  }

  deinit {
    batchLabels.deallocate()
  }

  /// Sets ``sum`` to the clipped sum of the samples `indices` of `samples` (zero for none), and
  /// ``loss`` and ``correct`` to their summed loss and correct predictions under `parameters`.
  ///
  /// Per-example norms come from the batched backward pass; the clipped sum is a second
  /// backward pass with each example's loss gradient scaled by its clip factor, skipped when no
  /// example was clipped (the first pass's sum is then already the clipped sum).
  func accumulate(
    _ indices: UnsafeBufferPointer<Int>, samples: LabeledSamples, parameters: UnsafePointer<Float>,
    bound: Float
  ) {
    let size = network.parameterCount
    sum.pointer.update(repeating: 0, count: size)
    loss = 0
    correct = 0
    let sampleSize = samples.sampleSize
    samples.features.withUnsafeBufferPointer { features in
      samples.labels.withUnsafeBufferPointer { labels in
        var start = 0
        while start < indices.count {
          let count = min(chunk, indices.count - start)
          for slot in 0..<count {
            let index = indices[start + slot]
            (batchFeatures.pointer + slot * sampleSize).update(
              from: features.baseAddress! + index * sampleSize, count: sampleSize)
            batchLabels[slot] = labels[index]
          }
          let input = UnsafePointer(batchFeatures.pointer)
          let output = network.forward(input, batchSize: count, parameters: parameters)
          let result = negativeLogLikelihood(
            logProbabilities: output, labels: batchLabels, batchSize: count, classes: classes,
            gradient: nil)
          loss += Double(result.loss) * Double(count)
          correct += result.correct
          // ∂(Σ_b ℓ_b)/∂y: −1 at each example's label, so row b is example b's own gradient.
          let dy = lossGradient.pointer
          dy.update(repeating: 0, count: count * classes)
          for b in 0..<count { dy[b * classes + Int(batchLabels[b])] = -1 }
          network.backward(
            input: input, outputGradient: dy, batchSize: count, parameters: parameters,
            gradients: gradients.pointer, perSampleSquaredNorms: squaredNorms.pointer)
          var clipped = false
          for b in 0..<count {
            let factor = min(1, bound / (squaredNorms.pointer[b].squareRoot() + 1e-6))
            if factor < 1 {
              clipped = true
              for c in 0..<classes { dy[b * classes + c] *= factor }
            }
          }
          if clipped {
            network.backward(
              input: input, outputGradient: dy, batchSize: count, parameters: parameters,
              gradients: gradients.pointer)
          }
          BLAS.axpy(count: size, alpha: 1, x: gradients.pointer, y: sum.pointer)
          start += count
        }
      }
    }
  }
}
