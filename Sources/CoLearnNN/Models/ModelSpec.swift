/// A declarative model: an input shape, ordered layers and a classification task (SPEC §2).
///
/// A spec comes from a model file (``ModelFile``: TOML or JSON) or is one of the paper's four
/// presets (``presets``: `mnist-mlp`, `svhn-mlp`, `mnist-cnn`, `svhn-cnn`), which are model files
/// embedded in the binary. Every spec is checked when it is made: each layer's output shape is
/// inferred from the one before it, and a layer that does not fit its input, or a last layer
/// whose output is not one value per class, is refused with a ``ModelSpecError`` that names the
/// layer. ``makeNetwork()`` then builds channels-last layers that cannot fail.
///
/// The task is classification over ``classCount`` classes (binary included): the last layer is
/// always ``LayerSpec/logSoftmax`` (added when a file leaves it out), trained with the negative
/// log-likelihood.
public struct ModelSpec: Hashable, Sendable, CustomStringConvertible {
  /// The model's name, shown in run records and on the wire (`mnist-cnn`, `breast-cancer-mlp`).
  public let name: String
  /// The per-sample input shape, channels-last: `[height, width, channels]` or `[features]`.
  public let inputShape: TensorShape
  /// The number of classes K; the model outputs K log-probabilities.
  public let classCount: Int
  /// The layers, input to output, ending in ``LayerSpec/logSoftmax``.
  public let layers: [LayerSpec]
  /// The output shape of each layer, in the order of ``layers``.
  public let shapes: [TensorShape]
  /// The dataset a preset is built for (`mnist`, `svhn`), used when no `--data` is given; nil
  /// for a model file. Not part of the model's identity.
  public let defaultData: String?

  /// A spec after checking that every layer fits the shape it receives.
  ///
  /// - Parameters:
  ///   - name: a non-empty name of letters, digits, `-`, `_` and `.`.
  ///   - inputShape: the per-sample input shape.
  ///   - classCount: K ≥ 2.
  ///   - layers: the layers; a final ``LayerSpec/logSoftmax`` is added when missing.
  ///   - defaultData: for presets, the dataset they are built for.
  /// - Throws: ``ModelSpecError`` naming the layer (index from 1, and kind) and what does not fit.
  public init(
    name: String, inputShape: TensorShape, classCount: Int, layers: [LayerSpec],
    defaultData: String? = nil
  ) throws(ModelSpecError) {
    guard !name.isEmpty, name.utf8.count <= 64,
      name.unicodeScalars.allSatisfy({ Self.nameCharacters.contains($0) })
    else { throw .invalidName(name) }
    guard classCount >= 2, classCount <= Self.maximumSetting else {
      throw .invalidClassCount(classCount)
    }
    guard (1...3).contains(inputShape.dimensions.count),
      inputShape.dimensions.allSatisfy({ $0 <= Self.maximumSetting }),
      inputShape.dimensions.reduce(1, *) <= Self.maximumValues
    else {
      throw .invalidInputShape(inputShape.dimensions)
    }
    var layers = layers
    if layers.last != .logSoftmax { layers.append(.logSoftmax) }
    self.name = name
    self.inputShape = inputShape
    self.classCount = classCount
    self.layers = layers
    self.shapes = try Self.inferShapes(of: layers, input: inputShape, classCount: classCount)
    self.defaultData = defaultData
  }

  /// The largest dimension, size, kernel, stride, padding or class count a spec may give
  /// (2^20): larger ones describe no model this machine could train, and bounding them keeps
  /// every shape computation far from overflow on hostile files.
  public static let maximumSetting = 1 << 20

  /// The most values one sample's activation may have at any layer (2^26, 256 MiB of floats).
  public static let maximumValues = 1 << 26

  /// The most parameters a model may have: Int32.max, since indices on the wire are 32-bit.
  public static let maximumParameters = Int(Int32.max)

  /// Letters, digits, `-`, `_` and `.`: what a model name may hold.
  static let nameCharacters = Set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.".unicodeScalars)

  public var description: String { name }

  /// Whether the model has a convolution (its evaluation batches are kept smaller to bound the
  /// im2col workspace).
  public var isConvolutional: Bool {
    layers.contains { if case .conv2d = $0 { true } else { false } }
  }

  /// A good batch size for evaluating a test set: large enough for efficient GEMMs, small
  /// enough that the workspaces stay in the tens of megabytes.
  public var evaluationBatchSize: Int { isConvolutional ? 200 : 1000 }

  /// Builds the layers, input to output. A ``LayerSpec/flatten`` builds none and leaves the
  /// shape the next layer is built for as it was (a ``Linear`` reads any shape as a vector, and
  /// an element-wise layer does not care), so that flattening changes neither the computation
  /// nor the model's identity.
  public func makeLayers() -> [any Layer] {
    var built: [any Layer] = []
    var shape = inputShape
    for (layer, output) in zip(layers, shapes) {
      if layer == .flatten { continue }
      switch layer {
      case .linear(let outputs): built.append(Linear(input: shape, outputs: outputs))
      case .conv2d(let channels, let kernel, let stride, let padding):
        built.append(
          Conv2D(
            input: shape, outputChannels: channels, kernelSize: kernel, stride: stride,
            padding: padding))
      case .maxPool(let size, let stride):
        built.append(MaxPool2D(input: shape, size: size, stride: stride))
      case .l2Pool(let size, let stride):
        built.append(L2Pool2D(input: shape, size: size, stride: stride))
      case .subtractiveNormalization(let kernel):
        built.append(SubtractiveNormalization(input: shape, kernelSize: kernel))
      case .batchNorm(let perChannel):
        built.append(BatchNorm(input: shape, perChannel: perChannel))
      case .relu: built.append(ReLU(input: shape))
      case .tanh: built.append(Tanh(input: shape))
      case .sigmoid: built.append(Sigmoid(input: shape))
      case .flatten: break
      case .logSoftmax: built.append(LogSoftmax(input: shape))
      }
      shape = output
    }
    return built
  }

  /// A network of this architecture with no workspaces reserved yet (it can make its
  /// ``Network/twin()``).
  public func makeNetwork() -> Network {
    Network(layers: makeLayers(), makeLayers: { self.makeLayers() })
  }

  /// |w|, computed from the shapes without building the layers.
  public var parameterCount: Int {
    zip(layers, [inputShape] + shapes).reduce(0) { $0 + Self.parameters(of: $1.0, input: $1.1) }
  }

  /// The number of parameters of `layer` when it receives `input`.
  public static func parameters(of layer: LayerSpec, input: TensorShape) -> Int {
    switch layer {
    case .linear(let outputs): (input.count + 1) * outputs
    case .conv2d(let channels, let kernel, _, _):
      (kernel * kernel * input.dimensions[input.dimensions.count - 1] + 1) * channels
    default: 0
    }
  }

  /// The canonical text of the architecture: one line per built layer with its shapes, used to
  /// identify a model (SPEC §10) — two specs agree on it exactly when they compute the same
  /// function of the same flat vector (a `flatten` or the model's name changes nothing).
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

  /// The lines in which `other`'s architecture differs from this one's, for a message that
  /// says exactly what differs ("layer 2: Linear(30→16) here, Linear(30→32) there"); empty when
  /// the two compute the same function.
  public func differences(from other: ModelSpec, here: String, there: String) -> [String] {
    var lines: [String] = []
    if inputShape != other.inputShape {
      lines.append("input: \(inputShape) \(here), \(other.inputShape) \(there)")
    }
    if classCount != other.classCount {
      lines.append("classes: \(classCount) \(here), \(other.classCount) \(there)")
    }
    let mine = layerSpecification.split(separator: "\n")
    let theirs = other.layerSpecification.split(separator: "\n")
    for index in 0..<max(mine.count, theirs.count) {
      let a = index < mine.count ? String(mine[index]) : "nothing"
      let b = index < theirs.count ? String(theirs[index]) : "nothing"
      if a != b { lines.append("layer \(index + 1): \(a) \(here), \(b) \(there)") }
    }
    return lines
  }
}

extension ModelSpec {
  /// Each layer's output shape from `input`, checking that every layer fits what it receives
  /// and that the model ends with one value per class.
  static func inferShapes(
    of layers: [LayerSpec], input: TensorShape, classCount: Int
  ) throws(ModelSpecError) -> [TensorShape] {
    var shapes: [TensorShape] = []
    var shape = input
    var parameterTotal = 0
    for (offset, layer) in layers.enumerated() {
      func refuse(_ reason: String) -> ModelSpecError {
        .layerDoesNotFit(index: offset + 1, kind: layer.kind, reason: reason)
      }
      func image(_ what: String) throws(ModelSpecError) -> (h: Int, w: Int, c: Int) {
        let d = shape.dimensions
        guard d.count == 3 else {
          throw refuse(
            "\(what) needs an image input [height, width, channels] but receives \(shape); "
              + "give the model an image input and put it before any flatten or linear layer")
        }
        return (d[0], d[1], d[2])
      }
      func positive(_ value: Int, _ name: String, atLeast minimum: Int = 1) throws(ModelSpecError) {
        guard value >= minimum else { throw refuse("\(name) must be at least \(minimum), got \(value)") }
        guard value <= maximumSetting else {
          throw refuse("\(name) must be at most \(maximumSetting), got \(value)")
        }
      }
      let input = shape
      switch layer {
      case .linear(let outputs):
        try positive(outputs, "outputs")
        shape = TensorShape(outputs)
      case .conv2d(let channels, let kernel, let stride, let padding):
        try positive(channels, "channels")
        try positive(kernel, "kernel")
        try positive(stride, "stride")
        try positive(padding, "padding", atLeast: 0)
        let (h, w, c) = try image("a convolution")
        guard kernel <= 1 << 13, kernel * kernel * c <= maximumValues else {
          throw refuse(
            "a \(kernel)×\(kernel) kernel over \(c) channels has more than \(maximumValues) "
              + "weights per output channel; use a smaller kernel")
        }
        guard kernel <= h + 2 * padding, kernel <= w + 2 * padding else {
          throw refuse(
            "kernel \(kernel) does not fit the \(h)×\(w) input"
              + (padding > 0 ? " padded by \(padding)" : "")
              + "; use a smaller kernel, add padding or remove a pooling layer")
        }
        shape = TensorShape(
          (h + 2 * padding - kernel) / stride + 1, (w + 2 * padding - kernel) / stride + 1,
          channels)
      case .maxPool(let size, let stride), .l2Pool(let size, let stride):
        try positive(size, "size")
        try positive(stride, "stride")
        let (h, w, c) = try image("pooling")
        guard size <= h, size <= w else {
          throw refuse(
            "a \(size)×\(size) window does not fit the \(h)×\(w) input; "
              + "use a smaller size or remove an earlier pooling layer")
        }
        shape = TensorShape((h - size) / stride + 1, (w - size) / stride + 1, c)
      case .subtractiveNormalization(let kernel):
        try positive(kernel, "kernel")
        guard kernel % 2 == 1 else { throw refuse("kernel must be odd, got \(kernel)") }
        _ = try image("subtractive normalisation")
      case .batchNorm(let perChannel):
        if perChannel { _ = try image("per-channel batch normalisation") }
      case .relu, .tanh, .sigmoid: break
      case .flatten: shape = TensorShape(shape.count)
      case .logSoftmax:
        guard offset == layers.count - 1 else {
          throw refuse("log-softmax is the output and must be the last layer")
        }
        guard shape.count == classCount else {
          throw refuse(
            "the layer before it outputs \(shape.count) values but the model has \(classCount) "
              + "classes; end with a linear layer of \(classCount) outputs")
        }
        shape = TensorShape(classCount)
      }
      guard shape.count <= maximumValues else {
        throw refuse(
          "its output \(shape) has \(shape.count) values per sample, more than "
            + "\(maximumValues); use fewer channels or outputs, or pool earlier")
      }
      // Both factors are at most 2^26 · 2^20 here, far from overflowing 64 bits.
      parameterTotal += parameters(of: layer, input: input)
      guard parameterTotal <= maximumParameters else {
        throw refuse(
          "the model reaches \(parameterTotal) parameters here, more than "
            + "\(maximumParameters) (indices on the wire are 32-bit); use "
            + "smaller layers")
      }
      shapes.append(shape)
    }
    return shapes
  }
}
