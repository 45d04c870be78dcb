import CoLearnTensor

/// A sequence of layers with the activation workspaces to run them on batches (STYLE §2).
///
/// The network holds no parameters: `forward` and `backward` take the flat parameter and
/// gradient vectors of a model, so one network (and its workspaces) can train many models in
/// turn — the participants of a simulation share one. Workspaces are allocated by
/// ``reserve(batchSize:)`` (the backward pass's on the first backward pass) and reused: a
/// training step after the first allocates nothing.
///
/// Threading: a network belongs to one training thread at a time.
public final class Network {
  /// The layers, input to output.
  public let layers: [any Layer]
  /// Where each layer's parameters lie in the flat vector.
  public let layout: ParameterLayout
  /// The per-sample input shape.
  public let inputShape: TensorShape
  /// The per-sample output shape.
  public let outputShape: TensorShape
  /// The largest batch the workspaces hold.
  public private(set) var capacity = 0

  private var activations: [FloatBuffer] = []
  /// tanhFused[i]: layer i when it is a direct-kernel ``Conv2D`` followed by a ``Tanh`` (else
  /// nil); forward writes tanh(conv) straight into the Tanh's output
  /// (``Conv2D/forwardApplyingTanh``): the convolution's own output, which no backward reads, is
  /// left unwritten.
  private let tanhFused: [Conv2D?]
  /// Builds layers like ``layers`` (fresh objects, their own workspaces), when the network was
  /// made with a recipe: ``twin()``.
  private let makeLayers: (() -> [any Layer])?
  /// The backward passes' ∂L/∂activations, two of the largest layer width × ``capacity``,
  /// made by the first backward pass (``reserveBackwardWorkspace()``): inference does not
  /// allocate and zero them (8 MB per mnist-mlp network at an evaluation batch of 1,000).
  private var gradientBuffers: [FloatBuffer] = []

  /// A network over `layers`, which must chain: each layer's input shape is the previous
  /// layer's output shape (a ``Linear`` accepts any shape of the same count). It has no
  /// ``twin()``.
  public convenience init(layers: [any Layer]) {
    self.init(layers: layers, makeLayers: nil)
  }

  /// A network over `layers` (as ``init(layers:)``) that can make its ``twin()``.
  ///
  /// - Parameter makeLayers: when given, builds layers like `layers` again, so that
  ///   ``twin()`` can make a second network of the same architecture (a data-parallel step
  ///   runs half of a batch on each).
  public init(layers: [any Layer], makeLayers: (() -> [any Layer])?) {
    precondition(!layers.isEmpty, "a network needs at least one layer")
    for (previous, next) in zip(layers, layers.dropFirst()) {
      precondition(
        previous.outputShape.count == next.inputShape.count,
        "\(previous.description) outputs \(previous.outputShape) but \(next.description) "
          + "expects \(next.inputShape)")
    }
    BLAS.ensureKernelsMatchCPU()
    self.layers = layers
    self.makeLayers = makeLayers
    self.layout = ParameterLayout(layers: layers)
    self.inputShape = layers[0].inputShape
    self.outputShape = layers[layers.count - 1].outputShape
    self.tanhFused = layers.indices.map { index in
      guard index + 1 < layers.count, layers[index + 1] is Tanh,
        let conv = layers[index] as? Conv2D, conv.usesDirectKernels
      else { return nil }
      return conv
    }
  }

  /// A second network of this architecture with its own layers and workspaces (none reserved),
  /// or nil when this one was made from layer objects alone.
  public func twin() -> Network? {
    makeLayers.map { Network(layers: $0(), makeLayers: $0) }
  }

  /// |w|: the length of the flat parameter vector this network reads.
  public var parameterCount: Int { layout.parameterCount }

  /// `samples` as this network's plain-SGD epochs read them fastest: with each sample's entries
  /// off the background listed (``LabeledSamples/indexingSparseRows()``) when the first layer is
  /// a ``Linear``, whose sparse epoch reads the listing; unchanged otherwise (a convolution reads
  /// the features, and a listing would only cost memory and a scan).
  public func trainingSamples(_ samples: LabeledSamples) -> LabeledSamples {
    layers.first is Linear ? samples.indexingSparseRows() : samples
  }

  /// Whether some layer mixes the samples of a batch (``Layer/mixesSamples``): then there are no
  /// per-sample gradients, and DP-SGD refuses the network.
  public var mixesSamples: Bool { layers.contains { $0.mixesSamples } }

  /// Forward multiply–adds of one sample.
  public var forwardMultiplyAdds: Int { layers.reduce(0) { $0 + $1.forwardMultiplyAdds } }

  /// Makes the workspaces hold batches of up to `batchSize` samples. Growing reallocates;
  /// asking for a size no larger than ``capacity`` does nothing.
  public func reserve(batchSize: Int) {
    precondition(batchSize >= 1, "batch size must be at least 1, got \(batchSize)")
    guard batchSize > capacity else { return }
    capacity = batchSize
    activations = layers.map { FloatBuffer(count: batchSize * $0.outputShape.count) }
    gradientBuffers = []
    for layer in layers {
      layer.reserve(batchSize: batchSize)
    }
  }

  /// The two gradient buffers for batches of up to ``capacity``, made when first needed.
  private func reserveBackwardWorkspace() {
    if gradientBuffers.isEmpty {
      let largest = layers.map { max($0.inputShape.count, $0.outputShape.count) }.max() ?? 1
      gradientBuffers = [
        FloatBuffer(count: capacity * largest), FloatBuffer(count: capacity * largest),
      ]
    }
  }

  /// Draws initial parameters for every layer (each layer documents its distribution).
  ///
  /// - Parameters:
  ///   - parameters: the flat vector, of length ``parameterCount``; overwritten.
  ///   - generator: the seeded source of the draws.
  public func initialize<G: RandomNumberGenerator>(
    _ parameters: inout [Float], using generator: inout G
  ) {
    precondition(parameters.count == parameterCount, "parameter vector has the wrong length")
    parameters.withUnsafeMutableBufferPointer { all in
      for (layer, range) in zip(layers, layout.layerRanges) where !range.isEmpty {
        layer.initialize(UnsafeMutableBufferPointer(rebasing: all[range]), using: &generator)
      }
    }
  }

  /// Runs a batch forward and returns the output (valid until the next call).
  ///
  /// - Parameters:
  ///   - input: `batchSize × inputShape.count` values.
  ///   - batchSize: at most ``capacity``.
  ///   - parameters: the flat parameter vector.
  /// - Returns: `batchSize × outputShape.count` values in the network's workspace.
  @discardableResult
  public func forward(
    _ input: UnsafePointer<Float>, batchSize: Int, parameters: UnsafePointer<Float>
  ) -> UnsafePointer<Float> {
    precondition(batchSize <= capacity, "batch of \(batchSize) exceeds reserved \(capacity)")
    return forward(from: 0, input, batchSize: batchSize, parameters: parameters)
  }

  /// Runs layers `first...` on `input` (the output of layer `first − 1`, or the network's input).
  private func forward(
    from first: Int, _ input: UnsafePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) -> UnsafePointer<Float> {
    var current = input
    var index = first
    while index < layers.count {
      let parameters = parameters + layout.layerRanges[index].lowerBound
      if let conv = tanhFused[index],
        conv.forwardApplyingTanh(
          current, into: activations[index + 1].pointer, batchSize: batchSize,
          parameters: parameters)
      {
        current = UnsafePointer(activations[index + 1].pointer)
        index += 2
        continue
      }
      let output = activations[index].pointer
      layers[index].forward(current, into: output, batchSize: batchSize, parameters: parameters)
      current = UnsafePointer(output)
      index += 1
    }
    return current
  }

  /// Prepares ``forward(listed:batch:weights:parameters:)`` for `parameters` and samples
  /// listed as `rows`: the first layer's Wᵀ and shifted bias, in `store` when given (one pass
  /// over the weights, ``Linear/prepareListedForward(parameters:rows:reusing:)``). Returns nil,
  /// and prepares nothing, when the first layer is not a ``Linear`` or the rows do not have its
  /// input size: then run ``forward(_:batchSize:parameters:)`` on the features. Prepare again
  /// whenever the parameters change. The result serves every network of the same architecture.
  public func prepareListedForward(
    parameters: UnsafePointer<Float>, rows: SparseRows, reusing store: SparseInputInference? = nil
  ) -> SparseInputInference? {
    guard let first = layers[0] as? Linear, rows.sampleSize == first.inputCount else {
      return nil
    }
    return first.prepareListedForward(
      parameters: parameters + layout.layerRanges[0].lowerBound, rows: rows, reusing: store)
  }

  /// Prepares ``forward(features:batchSize:weights:parameters:)`` for `parameters` and samples
  /// whose background (the value most of their inputs hold) is `background`: the first
  /// layer's Wᵀ and shifted bias, in `store` when given. Returns nil, and prepares nothing, when
  /// the first layer is not a ``Linear``. Prepare again whenever the parameters change.
  public func prepareSparseForward(
    parameters: UnsafePointer<Float>, background: Float, reusing store: SparseInputInference? = nil
  ) -> SparseInputInference? {
    guard let first = layers[0] as? Linear else { return nil }
    return first.prepareSparseForward(
      parameters: parameters + layout.layerRanges[0].lowerBound, background: background,
      reusing: store)
  }

  /// Runs a batch of features forward, the first layer multiplying only each sample's entries
  /// off the background with `weights`, found as the batch is read
  /// (``Linear/forward(features:batchSize:into:weights:parameters:)``; dense batches run the
  /// dense product): one pass over samples that are not listed, with the outputs of
  /// ``forward(listed:batch:weights:parameters:)`` on them listed. Returns the output (valid
  /// until the next call).
  ///
  /// - Precondition: `weights` came from ``prepareSparseForward(parameters:background:reusing:)``
  ///   for these `parameters`; the batch holds at most ``capacity`` samples.
  @discardableResult
  public func forward(
    features input: UnsafePointer<Float>, batchSize: Int, weights: SparseInputInference,
    parameters: UnsafePointer<Float>
  ) -> UnsafePointer<Float> {
    precondition(batchSize <= capacity, "batch of \(batchSize) exceeds reserved \(capacity)")
    guard let first = layers[0] as? Linear else {
      preconditionFailure("forward(features:weights:) needs a Linear first layer")
    }
    let output = activations[0].pointer
    first.forward(
      features: input, batchSize: batchSize, into: output, weights: weights,
      parameters: parameters + layout.layerRanges[0].lowerBound)
    return forward(from: 1, UnsafePointer(output), batchSize: batchSize, parameters: parameters)
  }

  /// Runs batch `batch` of `listed` forward, the first layer multiplying only each sample's
  /// entries off the background with `weights` (inference: evaluation and prediction; the same
  /// outputs as ``forward(_:batchSize:parameters:)`` on their features, to rounding). Returns
  /// the output (valid until the next call).
  ///
  /// - Precondition: `weights` came from ``prepareListedForward(parameters:rows:reusing:)`` for
  ///   these `parameters` and `listed.rows`; the batch holds at most ``capacity`` samples.
  @discardableResult
  public func forward(
    listed: ListedBatches, batch: Int, weights: SparseInputInference,
    parameters: UnsafePointer<Float>
  ) -> UnsafePointer<Float> {
    let size = listed.batches[batch].size
    precondition(size <= capacity, "batch of \(size) exceeds reserved \(capacity)")
    guard let first = layers[0] as? Linear else {
      preconditionFailure("forward(listed:) needs a Linear first layer")
    }
    let output = activations[0].pointer
    first.forward(listed: listed, batch: batch, into: output, weights: weights)
    return forward(from: 1, UnsafePointer(output), batchSize: size, parameters: parameters)
  }

  /// Back-propagates ∂L/∂output of the batch last run by ``forward(_:batchSize:parameters:)``
  /// and writes ∂L/∂w into `gradients` (every position is overwritten).
  ///
  /// - Parameters:
  ///   - input: the input given to `forward`.
  ///   - outputGradient: ∂L/∂output, `batchSize × outputShape.count` values.
  ///   - batchSize: the batch size given to `forward`.
  ///   - parameters: the flat parameter vector given to `forward`.
  ///   - gradients: the flat gradient vector, of length ``parameterCount``.
  ///   - inputGradient: where to write ∂L/∂input (`batchSize × inputShape.count` values), or
  ///     `nil` (the default) when nobody needs it. Split learning (SPEC §9) needs it: the
  ///     coordinator's network returns ∂L/∂features to the participant that sent them.
  ///   - perSampleSquaredNorms: when given (`batchSize` values, overwritten), receives each
  ///     sample's ‖∂ℓ_b/∂w‖² (``Layer/addPerSampleGradientSquaredNorms(input:outputGradient:batchSize:into:)``),
  ///     for an `outputGradient` of the summed loss; the network must not mix samples
  ///     (``mixesSamples``).
  public func backward(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>,
    inputGradient: UnsafeMutablePointer<Float>? = nil,
    perSampleSquaredNorms: UnsafeMutablePointer<Float>? = nil
  ) {
    if let perSampleSquaredNorms {
      precondition(!mixesSamples, "per-sample gradients of a network that mixes samples")
      perSampleSquaredNorms.update(repeating: 0, count: batchSize)
    }
    var upstream = outputGradient
    reserveBackwardWorkspace()
    for index in layers.indices.reversed() {
      let layerInput = index == 0 ? input : UnsafePointer(activations[index - 1].pointer)
      let downstream: UnsafeMutablePointer<Float>? =
        index == 0 ? inputGradient : gradientBuffers[index % 2].pointer
      let offset = layout.layerRanges[index].lowerBound
      if let perSampleSquaredNorms {
        layers[index].addPerSampleGradientSquaredNorms(
          input: layerInput, outputGradient: upstream, batchSize: batchSize,
          into: perSampleSquaredNorms)
      }
      layers[index].backward(
        input: layerInput, output: activations[index].pointer, outputGradient: upstream,
        inputGradient: downstream, batchSize: batchSize, parameters: parameters + offset,
        parameterGradients: gradients + offset)
      if let downstream { upstream = UnsafePointer(downstream) }
    }
  }

  /// Opens an epoch of plain SGD on `parameters`: until ``endSGDEpoch(changes:)`` only
  /// ``forward(_:batchSize:parameters:)`` and
  /// ``backwardApplyingSGD(input:outputGradient:batchSize:parameters:rate:inputGradient:)``
  /// without an input gradient may run on them, and the flat vector may be stale in between
  /// (see ``Layer/beginSGDEpoch(parameters:rows:)``).
  ///
  /// - Returns: the first layer's plan. Its parameters come first in the flat vector, so
  ///   ``SGDEpochPlan/changesWritten`` counts from the start of `parameters`.
  @discardableResult
  public func beginSGDEpoch(parameters: UnsafeMutablePointer<Float>, rows: SparseRows? = nil)
    -> SGDEpochPlan
  {
    layers[0].beginSGDEpoch(parameters: parameters + layout.layerRanges[0].lowerBound, rows: rows)
  }

  /// The samples (positions in the epoch's rows) of the next batch.
  public func selectSGDEpochBatch(_ samples: UnsafeBufferPointer<Int>) {
    layers[0].selectSGDEpochBatch(samples)
  }

  /// Closes the epoch opened by ``beginSGDEpoch(parameters:rows:)``: the flat vector is current.
  /// With `changes` (as long as the flat vector), the first layer writes the changes of the
  /// plan's first ``SGDEpochPlan/changesWritten`` parameters into it.
  public func endSGDEpoch(changes: UnsafeMutablePointer<Float>? = nil) {
    layers[0].endSGDEpoch(changes: changes.map { $0 + layout.layerRanges[0].lowerBound })
  }

  /// Back-propagates like ``backward(input:outputGradient:batchSize:parameters:gradients:)`` but
  /// applies the plain SGD update w −= rate · ∂L/∂w in place, layer by layer, instead of writing
  /// a gradient vector (see ``Layer/backwardApplyingSGD(input:output:outputGradient:inputGradient:batchSize:parameters:rate:)``).
  ///
  /// The result equals `backward` followed by w −= rate · g, up to floating-point rounding.
  /// `inputGradient`, when given, receives ∂L/∂input computed with the old parameters.
  public func backwardApplyingSGD(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    parameters: UnsafeMutablePointer<Float>, rate: Float,
    inputGradient: UnsafeMutablePointer<Float>? = nil
  ) {
    var upstream = outputGradient
    reserveBackwardWorkspace()
    for index in layers.indices.reversed() {
      let layerInput = index == 0 ? input : UnsafePointer(activations[index - 1].pointer)
      let downstream: UnsafeMutablePointer<Float>? =
        index == 0 ? inputGradient : gradientBuffers[index % 2].pointer
      layers[index].backwardApplyingSGD(
        input: layerInput, output: activations[index].pointer, outputGradient: upstream,
        inputGradient: downstream, batchSize: batchSize,
        parameters: parameters + layout.layerRanges[index].lowerBound, rate: rate)
      if let downstream { upstream = UnsafePointer(downstream) }
    }
  }
}
