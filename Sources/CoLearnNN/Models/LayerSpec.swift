/// One layer of a declarative model (a line of a model file's `[[layers]]`).
///
/// Shapes are not stored: ``ModelSpec`` infers each layer's input and output shape from the
/// model's input shape, layer by layer (``ModelSpec/shapes``), and checks that every layer fits
/// the shape it receives before anything is built.
public enum LayerSpec: Hashable, Sendable {
  /// A fully connected layer with `outputs` units (Torch7 `nn.Linear`; reads any input shape as
  /// a vector).
  case linear(outputs: Int)
  /// A 2-D convolution with `channels` filters of side `kernel`, moved by `stride`, over the
  /// input zero-padded by `padding` on every side (image inputs only).
  case conv2d(channels: Int, kernel: Int, stride: Int, padding: Int)
  /// Max pooling over `size`×`size` windows moved by `stride`.
  case maxPool(size: Int, stride: Int)
  /// L2 pooling (square, average, square root) over `size`×`size` windows moved by `stride`.
  case l2Pool(size: Int, stride: Int)
  /// Torch7's subtractive normalisation with a normalised Gaussian kernel of side `kernel`.
  case subtractiveNormalization(kernel: Int)
  /// Batch normalisation with no learned scale or shift, per feature or per channel.
  case batchNorm(perChannel: Bool)
  /// max(0, x).
  case relu
  /// tanh(x).
  case tanh
  /// 1 / (1 + e^−x).
  case sigmoid
  /// Reads the input as a vector. Free: it changes the tracked shape, builds no layer, and so
  /// does not change the model's identity.
  case flatten
  /// The classification output: log-probabilities over the classes (always the last layer).
  case logSoftmax

  /// The spelling of the layer's kind in a model file.
  public var kind: String {
    switch self {
    case .linear: "linear"
    case .conv2d: "conv2d"
    case .maxPool: "maxpool"
    case .l2Pool: "l2pool"
    case .subtractiveNormalization: "subtractive-norm"
    case .batchNorm: "batchnorm"
    case .relu: "relu"
    case .tanh: "tanh"
    case .sigmoid: "sigmoid"
    case .flatten: "flatten"
    case .logSoftmax: "log-softmax"
    }
  }

  /// Every kind a model file may name, in the order the documentation lists them.
  public static let kinds = [
    "linear", "conv2d", "maxpool", "l2pool", "subtractive-norm", "batchnorm", "relu", "tanh",
    "sigmoid", "flatten", "log-softmax",
  ]

  /// The layer's settings as a model file writes them (`key = value` pairs, every setting
  /// explicit), in a fixed order: the canonical form two model files are compared in.
  public var settings: [(key: String, value: String)] {
    switch self {
    case .linear(let outputs): [("outputs", "\(outputs)")]
    case .conv2d(let channels, let kernel, let stride, let padding):
      [
        ("channels", "\(channels)"), ("kernel", "\(kernel)"), ("stride", "\(stride)"),
        ("padding", "\(padding)"),
      ]
    case .maxPool(let size, let stride), .l2Pool(let size, let stride):
      [("size", "\(size)"), ("stride", "\(stride)")]
    case .subtractiveNormalization(let kernel): [("kernel", "\(kernel)")]
    case .batchNorm(let perChannel): [("per_channel", "\(perChannel)")]
    case .relu, .tanh, .sigmoid, .flatten, .logSoftmax: []
    }
  }

  /// For example `conv2d channels=32 kernel=5 stride=1 padding=0`.
  public var summary: String {
    ([kind] + settings.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
  }

  /// How the layer's parameters are drawn (``Network/initialize(_:using:)``), for `model show`
  /// and the documentation.
  public var initialization: String {
    switch self {
    case .linear: "W, b ~ U(±1/√fan_in) (Torch7)"
    case .conv2d: "W, b ~ U(±1/√(k·k·C)) (Torch7)"
    default: "no parameters"
    }
  }
}
