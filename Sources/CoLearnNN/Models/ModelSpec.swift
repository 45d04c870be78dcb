/// The paper's four architectures (SPEC §2, paper Table 3), built channels-last.
///
/// Every model ends in ``LogSoftmax`` over 10 classes and is trained with
/// ``negativeLogLikelihood(logProbabilities:labels:batchSize:classes:gradient:)``. Inputs are
/// 32×32 images: MNIST's 28×28 zero-padded (1 channel), SVHN in YUV (3 channels).
public enum ModelSpec: String, CaseIterable, Sendable, CustomStringConvertible {
  /// Linear 1024→128, ReLU, Linear 128→64, ReLU, Linear 64→10 — 140,106 parameters.
  case mnistMLP = "mnist-mlp"
  /// Linear 3072→128, ReLU, Linear 128→64, ReLU, Linear 64→10 — 402,250 parameters.
  case svhnMLP = "svhn-mlp"
  /// Conv 1→32 5×5, Tanh, MaxPool 3/3, Conv 32→64 5×5, Tanh, MaxPool 2/2, Linear 256→200, Tanh,
  /// Linear 200→10 — 105,506 parameters.
  case mnistCNN = "mnist-cnn"
  /// Conv 3→64 5×5, Tanh, L2Pool 2/2, SubtractiveNormalization, Conv 64→64 5×5, Tanh, L2Pool 2/2,
  /// SubtractiveNormalization, Linear 1600→128, Tanh, Linear 128→10 — 313,546 parameters.
  case svhnCNN = "svhn-cnn"

  /// The model's name on the command line and the wire.
  public var description: String { rawValue }

  /// The number of classes of every model.
  public static let classCount = 10

  /// The dataset the model is built for ("mnist" or "svhn").
  public var datasetName: String {
    switch self {
    case .mnistMLP, .mnistCNN: return "mnist"
    case .svhnMLP, .svhnCNN: return "svhn"
    }
  }

  /// The per-sample input shape, [32, 32, channels].
  public var inputShape: TensorShape {
    switch self {
    case .mnistMLP, .mnistCNN: return .image(height: 32, width: 32, channels: 1)
    case .svhnMLP, .svhnCNN: return .image(height: 32, width: 32, channels: 3)
    }
  }

  /// |w| as given by the paper's Table 3; ``makeNetwork()`` must agree (a test pins it).
  public var expectedParameterCount: Int {
    switch self {
    case .mnistMLP: return 140_106
    case .svhnMLP: return 402_250
    case .mnistCNN: return 105_506
    case .svhnCNN: return 313_546
    }
  }

  /// Whether the model is convolutional (its evaluation batches are kept smaller to bound the
  /// im2col workspace).
  public var isConvolutional: Bool { self == .mnistCNN || self == .svhnCNN }

  /// A good batch size for evaluating the test set: large enough for efficient GEMMs, small
  /// enough that the workspaces stay in the tens of megabytes.
  public var evaluationBatchSize: Int { isConvolutional ? 200 : 1000 }

  /// Builds the layers, input to output.
  public func makeLayers() -> [any Layer] {
    var layers: [any Layer] = []
    var shape = inputShape
    func add(_ layer: any Layer) {
      layers.append(layer)
      shape = layer.outputShape
    }
    switch self {
    case .mnistMLP, .svhnMLP:
      add(Linear(input: shape, outputs: 128))
      add(ReLU(input: shape))
      add(Linear(input: shape, outputs: 64))
      add(ReLU(input: shape))
      add(Linear(input: shape, outputs: 10))
    case .mnistCNN:
      add(Conv2D(input: shape, outputChannels: 32, kernelSize: 5))
      add(Tanh(input: shape))
      add(MaxPool2D(input: shape, size: 3, stride: 3))
      add(Conv2D(input: shape, outputChannels: 64, kernelSize: 5))
      add(Tanh(input: shape))
      add(MaxPool2D(input: shape, size: 2, stride: 2))
      add(Linear(input: shape, outputs: 200))
      add(Tanh(input: shape))
      add(Linear(input: shape, outputs: 10))
    case .svhnCNN:
      add(Conv2D(input: shape, outputChannels: 64, kernelSize: 5))
      add(Tanh(input: shape))
      add(L2Pool2D(input: shape, size: 2, stride: 2))
      add(SubtractiveNormalization(input: shape))
      add(Conv2D(input: shape, outputChannels: 64, kernelSize: 5))
      add(Tanh(input: shape))
      add(L2Pool2D(input: shape, size: 2, stride: 2))
      add(SubtractiveNormalization(input: shape))
      add(Linear(input: shape, outputs: 128))
      add(Tanh(input: shape))
      add(Linear(input: shape, outputs: 10))
    }
    add(LogSoftmax(input: shape))
    return layers
  }

  /// A network of this architecture with no workspaces reserved yet.
  public func makeNetwork() -> Network {
    Network(layers: makeLayers())
  }

  /// The canonical text of the architecture: one line per layer with its shapes, used to
  /// identify a model (SPEC §10) — two builds agree on it exactly when they compute the same
  /// function of the same flat vector.
  public var layerSpecification: String {
    makeLayers().map { "\($0.description) \($0.inputShape)->\($0.outputShape)" }
      .joined(separator: "\n")
  }

  /// A 64-bit FNV-1a hash of ``layerSpecification``, shown as 16 hex digits.
  public var specificationHash: String {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in layerSpecification.utf8 {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01B3
    }
    let digits = String(hash, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}
