/// One parameter tensor of a layer: its name within the layer and its shape.
public struct ParameterShape: Hashable, Sendable {
  /// The name within the layer, such as "weight" or "bias".
  public var name: String
  /// The dimensions, outermost first.
  public var dimensions: [Int]

  /// The number of values.
  public var count: Int { dimensions.reduce(1, *) }

  public init(name: String, dimensions: [Int]) {
    self.name = name
    self.dimensions = dimensions
  }
}

/// A differentiable layer with an explicit forward/backward pair and no autograd tape (STYLE §2).
///
/// A layer is built for one per-sample input shape and knows its output shape. It holds no
/// parameters: it reads them from, and writes their gradients to, a range of the model's flat
/// vectors that the caller passes as pointers (SPEC §2, STYLE §1). Its workspaces (saved argmax
/// positions, im2col matrices, …) are allocated by ``reserve(batchSize:)`` once per batch size, so
/// that ``forward(_:into:batchSize:parameters:)`` and
/// ``backward(input:output:outputGradient:inputGradient:batchSize:parameters:parameterGradients:)``
/// allocate nothing.
///
/// Batches are sample-major: sample `b` of a batch starts at `b · shape.count`.
///
/// Gradient convention: `backward` **overwrites** the parameter gradients of its range with the
/// gradient of this batch (it does not accumulate). Every layer computes its parameter gradient
/// in one pass over the batch, so overwriting saves a zeroing pass and a read over |w| per step;
/// see docs/ARCHITECTURE.md.
///
/// Threading: a layer instance and its workspaces belong to one training thread at a time.
public protocol Layer: AnyObject {
  /// A short description such as `Linear(1024→128)`.
  var description: String { get }
  /// The per-sample input shape.
  var inputShape: TensorShape { get }
  /// The per-sample output shape.
  var outputShape: TensorShape { get }
  /// The parameter tensors in the order they lie in the layer's range of the flat vector.
  var parameterShapes: [ParameterShape] { get }
  /// The number of multiply–adds of one sample's forward pass (for FLOP reports).
  var forwardMultiplyAdds: Int { get }

  /// Allocates the workspaces needed for batches of up to `batchSize` samples.
  func reserve(batchSize: Int)

  /// Writes the initial parameter values into `parameters` (this layer's range).
  func initialize<G: RandomNumberGenerator>(
    _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout G)

  /// Computes the output of a batch.
  ///
  /// - Parameters:
  ///   - input: `batchSize × inputShape.count` values.
  ///   - output: `batchSize × outputShape.count` values, overwritten.
  ///   - batchSize: at most the size last passed to ``reserve(batchSize:)``.
  ///   - parameters: the start of this layer's range of the flat parameter vector.
  func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>)

  /// Back-propagates the gradient of a batch just passed through
  /// ``forward(_:into:batchSize:parameters:)``.
  ///
  /// - Parameters:
  ///   - input: the input given to `forward`.
  ///   - output: the output `forward` wrote.
  ///   - outputGradient: ∂L/∂output, `batchSize × outputShape.count` values.
  ///   - inputGradient: where to write ∂L/∂input; `nil` for the first layer, which needs none.
  ///   - parameters: the start of this layer's range of the flat parameter vector.
  ///   - parameterGradients: the start of this layer's range of the flat gradient vector;
  ///     overwritten with ∂L/∂parameters for this batch.
  func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>)

  /// Back-propagates like
  /// ``backward(input:output:outputGradient:inputGradient:batchSize:parameters:parameterGradients:)``
  /// but, instead of writing ∂L/∂w, applies the plain SGD update w −= rate · ∂L/∂w to this
  /// layer's parameters in place — after ∂input has been computed with the old values.
  ///
  /// This is the fast path of plain SGD (θ = 1): the update folds into the weight-gradient GEMM
  /// (alpha = −rate, beta = 1), so the gradient vector is never written or read.
  func backwardApplyingSGD(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafeMutablePointer<Float>, rate: Float)

  /// Opens an epoch of plain SGD on the first layer of a network: until
  /// ``endSGDEpoch(changes:)``, the only calls on `parameters` will be
  /// ``forward(_:into:batchSize:parameters:)`` and
  /// ``backwardApplyingSGD(input:output:outputGradient:inputGradient:batchSize:parameters:rate:)``
  /// with no input gradient, so the layer may keep its parameters in a form of its own and write
  /// them back at the end (``Linear`` does, for sparse inputs). The default does nothing.
  ///
  /// With `rows`, the listed entries of the epoch's training samples, the layer may read each
  /// batch from them, and may produce the changes of some of its parameters over the epoch when
  /// it writes them back: the returned plan says which it does.
  @discardableResult
  func beginSGDEpoch(parameters: UnsafeMutablePointer<Float>, rows: SparseRows?) -> SGDEpochPlan

  /// The samples (positions in the epoch's `rows`) of the next batch, when the plan reads rows.
  func selectSGDEpochBatch(_ samples: UnsafeBufferPointer<Int>)

  /// Closes the epoch opened by ``beginSGDEpoch(parameters:rows:)``; the parameters are then
  /// up to date in the flat vector. With `changes`, writes w_new − w_old of the layer's first
  /// ``SGDEpochPlan/changesWritten`` parameters into it (w_old: the values when the epoch
  /// opened).
  func endSGDEpoch(changes: UnsafeMutablePointer<Float>?)

  /// Adds to `squaredNorms[b]`, for every sample b of a batch, ‖∂ℓ_b/∂w‖²: the squared L2 norm
  /// of the gradient of sample b's own loss with respect to this layer's parameters (DP-SGD's
  /// per-example clipping, ``DPSGDTrainer``). `input` is the layer's input and
  /// `outputGradient` ∂ℓ/∂output of the batch's summed loss, whose row b is ∂ℓ_b/∂output_b
  /// because no layer before the loss mixes samples (``mixesSamples``). Parameter-free layers
  /// add nothing (the default). Allocates nothing after ``reserve(batchSize:)``.
  func addPerSampleGradientSquaredNorms(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    into squaredNorms: UnsafeMutablePointer<Float>)

  /// Whether a sample's output depends on the other samples of its batch (``BatchNorm``'s
  /// batch statistics): then a sample's gradient is not its own, and DP-SGD's per-example
  /// clipping bounds nothing. False by default.
  var mixesSamples: Bool { get }
}

/// What the first layer does in an epoch of plain SGD (``Layer/beginSGDEpoch(parameters:rows:)``).
public struct SGDEpochPlan: Sendable, Equatable {
  /// Every batch is read from the epoch's rows: ``Layer/selectSGDEpochBatch(_:)`` names its
  /// samples before it is passed forward, and the input passed forward and backward is not read.
  public var readsRows: Bool
  /// ``Layer/endSGDEpoch(changes:)`` writes w_new − w_old of the layer's first this many
  /// parameters (those it holds in a form of its own during the epoch).
  public var changesWritten: Int

  public init(readsRows: Bool, changesWritten: Int) {
    self.readsRows = readsRows
    self.changesWritten = changesWritten
  }

  /// Nothing: the dense path, on the flat vector.
  public static let none = SGDEpochPlan(readsRows: false, changesWritten: 0)
}

extension Layer {
  @discardableResult
  public func beginSGDEpoch(parameters: UnsafeMutablePointer<Float>, rows: SparseRows?)
    -> SGDEpochPlan
  {
    .none
  }
  public func selectSGDEpochBatch(_ samples: UnsafeBufferPointer<Int>) {}
  public func endSGDEpoch(changes: UnsafeMutablePointer<Float>?) {}

  public func addPerSampleGradientSquaredNorms(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    into squaredNorms: UnsafeMutablePointer<Float>
  ) {
    precondition(parameterShapes.isEmpty, "\(description) has parameters but no per-sample norms")
  }

  public var mixesSamples: Bool { false }

  /// The number of parameters of the layer.
  public var parameterCount: Int {
    parameterShapes.reduce(0) { $0 + $1.count }
  }
}

/// A layer without parameters; supplies the parameter requirements.
public protocol ParameterFreeLayer: Layer {}

extension ParameterFreeLayer {
  public var parameterShapes: [ParameterShape] { [] }

  public func backwardApplyingSGD(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafeMutablePointer<Float>, rate: Float
  ) {
    backward(
      input: input, output: output, outputGradient: outputGradient, inputGradient: inputGradient,
      batchSize: batchSize, parameters: parameters, parameterGradients: parameters)
  }

  public func initialize<G: RandomNumberGenerator>(
    _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout G
  ) {}
}

/// A parameter-free layer whose output has its input's shape (activations, log-softmax);
/// supplies the shape, the FLOP count (none worth counting) and an empty workspace.
public protocol ShapePreservingLayer: ParameterFreeLayer {}

extension ShapePreservingLayer {
  public var outputShape: TensorShape { inputShape }
  public var forwardMultiplyAdds: Int { 0 }
  public func reserve(batchSize: Int) {}
}
