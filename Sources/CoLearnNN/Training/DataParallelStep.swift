import CoLearnTensor

/// A mini-batch step of a convolutional network run as two halves, one per core (issue 24):
/// each half goes forward and backward through its own ``Network`` of the same architecture
/// (the trainer's and its ``Network/twin()``) with single-threaded kernels, and the two
/// gradients are summed, first half first.
///
/// Why: splitting every layer across the cores (the GEMMs, the direct kernels, the element
/// loops) joins the cores about twenty times a step and leaves each core's caches holding half
/// of every activation; at mini-batch 32 the profile's layers summed to 3.2 ms of a 4.2 ms
/// mnist-cnn step. Halves join once.
///
/// The split depends on the batch size only, never on the thread count: one core runs the
/// halves one after the other and gets the same bits as two. The cost: a second set of
/// activation workspaces (the twin's, for half the batch) and two gradient vectors.
final class DataParallelStep {
  /// The smallest batch that is split: halves of at least 4 samples. A choice, not a measured
  /// threshold (a smaller step has less to share between the cores; batch 1, the paper's
  /// mini-batch, is never split).
  static let minimumBatch = 8

  /// The second half's network.
  private let twin: Network
  /// The two halves' gradients, |w| each.
  private let gradients: [FloatBuffer]
  private let classes: Int
  /// Each half's mean loss and correct predictions (written by the half's own thread).
  private let losses: UnsafeMutablePointer<Float> = .allocate(capacity: 2)
  private let corrects: UnsafeMutablePointer<Int> = .allocate(capacity: 2)

  /// A split step for `network`'s batches of up to `batchSize`, or nil when they would not be
  /// split: batches below ``minimumBatch``, networks without a convolution (the MLPs' sparse
  /// epochs already use both cores), networks whose layers mix the samples of a batch (a
  /// ``BatchNorm``: halves would change its statistics), or a network made without a recipe
  /// for its twin.
  init?(network: Network, batchSize: Int) {
    guard let twin = Self.twin(of: network, batchSize: batchSize) else { return nil }
    self.twin = twin
    twin.reserve(batchSize: (batchSize + 1) / 2)
    gradients = [
      FloatBuffer(count: network.parameterCount), FloatBuffer(count: network.parameterCount),
    ]
    classes = network.outputShape.count
    losses.initialize(repeating: 0, count: 2)
    corrects.initialize(repeating: 0, count: 2)
  }

  /// A twin of `network` (``Network/twin()``) when its batches of up to `batchSize` are split,
  /// else nil (see ``init(network:batchSize:)``): the one test of whether a network runs halves,
  /// for plain SGD and for DP-SGD.
  static func twin(of network: Network, batchSize: Int) -> Network? {
    guard batchSize >= minimumBatch, network.layers.contains(where: { $0 is Conv2D }),
      !network.mixesSamples
    else { return nil }
    return network.twin()
  }

  deinit {
    losses.deallocate()
    corrects.deallocate()
  }

  /// Whether a batch of `batchSize` samples is split.
  func splits(batchSize: Int) -> Bool { batchSize >= Self.minimumBatch }

  /// Forward, loss and backward of a batch as two halves (samples 0..<⌈B/2⌉ on `network`, the
  /// rest on the twin), on two cores when ``BLAS/threadCount`` allows. Returns the batch's mean
  /// loss, its correct predictions and ∂L/∂w of the batch's mean loss (|w| values, valid until
  /// the next call).
  ///
  /// - Parameters:
  ///   - lossGradient: `batchSize × classes` values of workspace.
  func gradient(
    network: Network, parameters: UnsafePointer<Float>, input: UnsafePointer<Float>,
    labels: UnsafePointer<Int32>, batchSize: Int, lossGradient: UnsafeMutablePointer<Float>
  ) -> (loss: Float, correct: Int, gradient: UnsafePointer<Float>) {
    let first = (batchSize + 1) / 2
    Self.runHalves { share in
      runHalf(
        share, network: network, parameters: parameters, input: input, labels: labels,
        batchSize: batchSize, lossGradient: lossGradient)
    }
    let sum = gradients[0].pointer
    let second = UnsafePointer(gradients[1].pointer)
    for j in 0..<gradients[0].count { sum[j] += second[j] }
    let loss = (losses[0] * Float(first) + losses[1] * Float(batchSize - first)) / Float(batchSize)
    return (loss, corrects[0] + corrects[1], UnsafePointer(sum))
  }

  /// Runs `half(0)` and `half(1)`: on two cores, each with single-threaded kernels (the pool's
  /// nested calls run inline), when ``BLAS/threadCount`` allows; else one after the other.
  static func runHalves(_ half: (Int) -> Void) {
    let threads = BLAS.threadCount
    guard threads > 1, WorkerPool.shared.maximumWidth > 1 else {
      half(0)
      half(1)
      return
    }
    BLAS.setThreadCount(1)
    WorkerPool.shared.run(width: 2, half)
    BLAS.setThreadCount(threads)
  }

  /// Half `share` of ``gradient(network:parameters:input:labels:batchSize:lossGradient:)``: its
  /// forward pass, its rows of the loss gradient (of the whole batch's mean) and its backward
  /// pass into `gradients[share]`.
  private func runHalf(
    _ share: Int, network: Network, parameters: UnsafePointer<Float>,
    input: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int,
    lossGradient: UnsafeMutablePointer<Float>
  ) {
    let first = (batchSize + 1) / 2
    let net = share == 0 ? network : twin
    let start = share == 0 ? 0 : first
    let count = share == 0 ? first : batchSize - first
    let halfInput = input + start * network.inputShape.count
    let output = net.forward(halfInput, batchSize: count, parameters: parameters)
    let outputGradient = lossGradient + start * classes
    let result = negativeLogLikelihood(
      logProbabilities: output, labels: labels + start, batchSize: count, classes: classes,
      gradient: outputGradient, meanOver: batchSize)
    losses[share] = result.loss
    corrects[share] = result.correct
    net.backward(
      input: halfInput, outputGradient: UnsafePointer(outputGradient), batchSize: count,
      parameters: parameters, gradients: gradients[share].pointer)
  }
}
