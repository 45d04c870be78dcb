/// The paper's four architectures (SPEC §2, paper Table 3) as model files embedded in the
/// binary; `models/NAME.toml` in the repository holds the same text (a test keeps them equal).
/// Inputs are 32×32 images: MNIST's 28×28 zero-padded (1 channel), SVHN in YUV (3 channels).
extension ModelSpec {
  /// Linear 1024→128, ReLU, Linear 128→64, ReLU, Linear 64→10 — 140,106 parameters.
  public static let mnistMLP = preset(PresetFiles.mnistMLP, data: "mnist")
  /// Linear 3072→128, ReLU, Linear 128→64, ReLU, Linear 64→10 — 402,250 parameters.
  public static let svhnMLP = preset(PresetFiles.svhnMLP, data: "svhn")
  /// Conv 1→32 5×5, Tanh, MaxPool 3/3, Conv 32→64 5×5, Tanh, MaxPool 2/2, Linear 256→200, Tanh,
  /// Linear 200→10 — 105,506 parameters.
  public static let mnistCNN = preset(PresetFiles.mnistCNN, data: "mnist")
  /// Conv 3→64 5×5, Tanh, L2Pool 2/2, SubtractiveNormalization, Conv 64→64 5×5, Tanh, L2Pool 2/2,
  /// SubtractiveNormalization, Linear 1600→128, Tanh, Linear 128→10 — 313,546 parameters.
  public static let svhnCNN = preset(PresetFiles.svhnCNN, data: "svhn")

  /// The four presets, in the paper's order.
  public static let presets: [ModelSpec] = [mnistMLP, svhnMLP, mnistCNN, svhnCNN]

  /// Whether this is one of the paper's presets (same name and architecture), for which
  /// reference figures exist.
  public var isPreset: Bool {
    Self.preset(named: name)?.specificationHash == specificationHash
  }

  /// The preset called `name`, if any.
  public static func preset(named name: String) -> ModelSpec? {
    presets.first { $0.name == name }
  }

  /// The embedded model-file text of the preset called `name`, if any.
  public static func presetText(named name: String) -> String? {
    PresetFiles.all.first { $0.name == name }?.text
  }

  /// What `--model` names: a preset, else a model file's path.
  ///
  /// - Throws: ``ModelFileError`` when the argument is no preset and no readable, valid file.
  public static func resolve(_ argument: String) throws(ModelFileError) -> ModelSpec {
    if let preset = preset(named: argument) { return preset }
    return try ModelFile.load(path: argument)
  }

  private static func preset(_ text: String, data: String) -> ModelSpec {
    do {
      let spec = try ModelFile.parse(text, file: "preset")
      return try ModelSpec(
        name: spec.name, inputShape: spec.inputShape, classCount: spec.classCount,
        layers: spec.layers, defaultData: data)
    } catch {
      preconditionFailure("embedded preset does not parse: \(error)")
    }
  }
}

/// The presets' model files, byte for byte the files in `models/`.
enum PresetFiles {
  static var all: [(name: String, text: String)] {
    [
      ("mnist-mlp", mnistMLP), ("svhn-mlp", svhnMLP), ("mnist-cnn", mnistCNN),
      ("svhn-cnn", svhnCNN),
    ]
  }

  static let mnistMLP = """
    # The paper's MLP for MNIST (Shokri & Shmatikov, Table 3): 140,106 parameters.
    # Input: the 28×28 digit zero-padded to 32×32, one channel, read as 1,024 values.
    name = "mnist-mlp"
    input = [32, 32, 1]
    classes = 10

    [[layers]]
    type = "linear"
    outputs = 128

    [[layers]]
    type = "relu"

    [[layers]]
    type = "linear"
    outputs = 64

    [[layers]]
    type = "relu"

    [[layers]]
    type = "linear"
    outputs = 10

    [[layers]]
    type = "log-softmax"

    """

  static let svhnMLP = """
    # The paper's MLP for SVHN (Shokri & Shmatikov, Table 3): 402,250 parameters.
    # Input: 32×32 colour digits in YUV, read as 3,072 values.
    name = "svhn-mlp"
    input = [32, 32, 3]
    classes = 10

    [[layers]]
    type = "linear"
    outputs = 128

    [[layers]]
    type = "relu"

    [[layers]]
    type = "linear"
    outputs = 64

    [[layers]]
    type = "relu"

    [[layers]]
    type = "linear"
    outputs = 10

    [[layers]]
    type = "log-softmax"

    """

  static let mnistCNN = """
    # The paper's CNN for MNIST (Shokri & Shmatikov, Table 3): 105,506 parameters.
    # Input: the 28×28 digit zero-padded to 32×32, one channel (channels-last).
    name = "mnist-cnn"
    input = [32, 32, 1]
    classes = 10

    [[layers]]
    type = "conv2d"
    channels = 32
    kernel = 5

    [[layers]]
    type = "tanh"

    [[layers]]
    type = "maxpool"
    size = 3
    stride = 3

    [[layers]]
    type = "conv2d"
    channels = 64
    kernel = 5

    [[layers]]
    type = "tanh"

    [[layers]]
    type = "maxpool"
    size = 2
    stride = 2

    [[layers]]
    type = "flatten"

    [[layers]]
    type = "linear"
    outputs = 200

    [[layers]]
    type = "tanh"

    [[layers]]
    type = "linear"
    outputs = 10

    [[layers]]
    type = "log-softmax"

    """

  static let svhnCNN = """
    # The paper's CNN for SVHN (Shokri & Shmatikov, Table 3): 313,546 parameters.
    # Input: 32×32 colour digits in YUV, three channels (channels-last).
    name = "svhn-cnn"
    input = [32, 32, 3]
    classes = 10

    [[layers]]
    type = "conv2d"
    channels = 64
    kernel = 5

    [[layers]]
    type = "tanh"

    [[layers]]
    type = "l2pool"
    size = 2
    stride = 2

    [[layers]]
    type = "subtractive-norm"

    [[layers]]
    type = "conv2d"
    channels = 64
    kernel = 5

    [[layers]]
    type = "tanh"

    [[layers]]
    type = "l2pool"
    size = 2
    stride = 2

    [[layers]]
    type = "subtractive-norm"

    [[layers]]
    type = "flatten"

    [[layers]]
    type = "linear"
    outputs = 128

    [[layers]]
    type = "tanh"

    [[layers]]
    type = "linear"
    outputs = 10

    [[layers]]
    type = "log-softmax"

    """
}
