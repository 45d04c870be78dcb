import CoLearnNN

/// The network of differentially private split learning (Jiang, Tan, Lou & Zhao, "Differentially
/// Private Collaborative Learning for the IoT Edge", Figure 2; SPEC §9), cut in two: the
/// participants' convolutional **front** and the coordinator's dense **back**.
///
/// Shapes (channels-last, one MNIST sample; the paper works on the 28×28 images, so the
/// 2-pixel zero padding colearn's loader adds is cropped off, see ``Dataset/croppedToMNISTSide()``):
///
/// | part | layer | output | parameters |
/// |---|---|---|---|
/// | front | Conv2D 1→30, 5×5 | 24×24×30 | 780 |
/// | front | MaxPool2D 2×2, stride 2 | 12×12×30 | 0 |
/// | front | Conv2D 30→80, 5×5 | 8×8×80 | 60,080 |
/// | front | MaxPool2D 2×2, stride 2 | 4×4×80 | 0 |
/// | front | BatchNorm (per feature, mean 0, variance 1, no affine, ε_BN = 0) | 1,280 | 0 |
/// | back | Linear 1280→512, ReLU | 512 | 655,872 |
/// | back | Linear 512→256, ReLU | 256 | 131,328 |
/// | back | Linear 256→128, ReLU | 128 | 32,896 |
/// | back | Linear 128→64, ReLU | 64 | 8,256 |
/// | back | Linear 64→10, LogSoftmax | 10 | 650 |
///
/// Front 60,860 parameters, back 829,002, together 889,862. The paper gives the channel counts
/// (30, 80), max-pooling after each convolution, BatchNorm after the second, and "four hidden
/// layers for reducing the data dimension gradually and one output layer" with ReLU; its figure
/// is not in the text we have, so kernel 5×5 (no padding), 2×2 pooling and the halving widths
/// 512–256–128–64 are our choices, the usual ones for MNIST CNNs. The paper names no
/// activation in the front; none is added (max-pooling is its non-linearity), so the front is
/// exactly the "conv → pool → conv → pool → BatchNorm".
///
/// BatchNorm normalises each of the 1,280 features over the batch with no ε in the variance, so
/// that every released feature lies in [−√(B−1), √(B−1)] exactly (the bound the sensitivity
/// S = 2·√(B−1) rests on; ``BatchNorm`` proves it).
public struct SplitArchitecture: Sendable, Hashable {
  /// The per-sample input shape, 28×28×1.
  public let inputShape: TensorShape
  /// Output channels of the two convolutions.
  public let convolutionChannels: [Int]
  /// The side of the convolution kernels.
  public let kernelSize: Int
  /// The side (and stride) of the max-pooling windows.
  public let poolSize: Int
  /// The widths of the back's hidden layers.
  public let hiddenWidths: [Int]
  /// The number of classes.
  public let classCount: Int

  /// A split network; ``paper`` is the one used by `colearn split simulate`.
  public init(
    inputShape: TensorShape, convolutionChannels: [Int], kernelSize: Int, poolSize: Int,
    hiddenWidths: [Int], classCount: Int
  ) {
    precondition(!convolutionChannels.isEmpty, "the front needs at least one convolution")
    self.inputShape = inputShape
    self.convolutionChannels = convolutionChannels
    self.kernelSize = kernelSize
    self.poolSize = poolSize
    self.hiddenWidths = hiddenWidths
    self.classCount = classCount
  }

  /// The network of the table above (Jiang et al., Figure 2, on 28×28 MNIST).
  public static let paper = SplitArchitecture(
    inputShape: .image(height: 28, width: 28, channels: 1), convolutionChannels: [30, 80],
    kernelSize: 5, poolSize: 2, hiddenWidths: [512, 256, 128, 64], classCount: 10)

  /// The front's layers: (Conv2D, MaxPool2D) per channel count, then BatchNorm.
  public func makeFrontLayers() -> [any Layer] {
    var layers: [any Layer] = []
    var shape = inputShape
    for channels in convolutionChannels {
      let convolution = Conv2D(input: shape, outputChannels: channels, kernelSize: kernelSize)
      let pool = MaxPool2D(input: convolution.outputShape, size: poolSize, stride: poolSize)
      layers += [convolution, pool]
      shape = pool.outputShape
    }
    layers.append(BatchNorm(input: shape, epsilon: 0))
    return layers
  }

  /// The back's layers: (Linear, ReLU) per hidden width, then Linear to the classes and
  /// LogSoftmax.
  public func makeBackLayers() -> [any Layer] {
    var layers: [any Layer] = []
    var shape = featureShape
    for width in hiddenWidths {
      let linear = Linear(input: shape, outputs: width)
      layers += [linear, ReLU(input: linear.outputShape)]
      shape = linear.outputShape
    }
    let output = Linear(input: shape, outputs: classCount)
    layers += [output, LogSoftmax(input: output.outputShape)]
    return layers
  }

  /// The shape of the features that cross the boundary (4×4×80 for ``paper``).
  public var featureShape: TensorShape {
    var shape = inputShape
    for channels in convolutionChannels {
      let side = (shape.height - kernelSize + 1 - poolSize) / poolSize + 1
      shape = .image(height: side, width: side, channels: channels)
    }
    return shape
  }

  /// A network of the front, with no workspaces yet.
  public func makeFront() -> Network { Network(layers: makeFrontLayers()) }

  /// A network of the back, with no workspaces yet.
  public func makeBack() -> Network { Network(layers: makeBackLayers()) }

  /// The same model in one piece (front layers then back layers): the non-split reference the
  /// tests compare the split gradients with. Its flat vector is the front's followed by the
  /// back's.
  public func makeCombined() -> Network { Network(layers: makeFrontLayers() + makeBackLayers()) }

  /// One line per layer with its shapes and the parameter counts, for run records.
  public var layerSpecification: String {
    let front = makeFrontLayers().map { "front \($0.description) \($0.inputShape)->\($0.outputShape)" }
    let back = makeBackLayers().map { "back \($0.description) \($0.inputShape)->\($0.outputShape)" }
    return (front + back).joined(separator: "\n")
  }
}

extension SplitArchitecture {
  /// The name the networked mode identifies the paper's network by (SPEC §10's architecture
  /// name).
  public static let paperName = "jiang-split-mnist"

  /// A 64-bit FNV-1a hash of ``layerSpecification``, as 16 hex digits (as `ModelSpec`'s):
  /// coordinator and participants must agree on it.
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
