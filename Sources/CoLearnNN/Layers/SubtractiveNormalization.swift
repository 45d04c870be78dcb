import CoLearnTensor
import Foundation

/// Subtracts from every value the Gaussian-weighted local mean over the neighbourhood and over all
/// channels (Torch7 `nn.SpatialSubtractiveNormalization(C, image.gaussian1D(kernelSize))`,
/// SPEC §2 `svhn-cnn`). No parameters.
///
/// Shapes: x [B, H, W, C] → y [B, H, W, C] (NHWC).
///
/// Kernel: g_i = exp(−((i − center) / (0.25 · k))² / 2) for i = 1 … k, center = 0.5 · k + 0.5,
/// normalised to Σ g_i = 1 (Torch7 `image.gaussian1D(k)` with its default σ = 0.25 and mean 0.5,
/// normalised by the module). The 2-D kernel is the outer product g_i · g_j. It is symmetric,
/// g_i = g_{k+1−i}.
///
/// Forward, with p = (k − 1)/2 and sums over the taps that fall inside the image:
///
///     mass(h, w) = (Σ_{i: 0 ≤ h+i−p < H} g_i) · (Σ_{j: 0 ≤ w+j−p < W} g_j)
///     m(h, w)    = Σ_c Σ_{i,j} g_i g_j x_c(h+i−p, w+j−p) / (C · mass(h, w))
///     y_c(h, w)  = x_c(h, w) − m(h, w)         (the same m for every channel)
///
/// Dividing by the kernel mass inside the image is Torch7's border correction (its `coef`), so a
/// constant image maps to exactly zero everywhere, borders included.
///
/// Backward (the adjoint): with s(h, w) = Σ_c ∂y_c(h, w) / (C · mass(h, w)),
///
///     ∂x_c(h, w) = ∂y_c(h, w) − Σ_{i,j} g_i g_j s(h+i−p, w+j−p)
///
/// (the transposed zero-padded correlation is the correlation with the flipped kernel, which is
/// the same kernel because g is symmetric).
///
/// Both passes use the separability: a channel mean (H·W·C adds), a horizontal and a vertical
/// 1-D pass (2·H·W·k multiply–adds) on one H×W plane, then the subtraction (H·W·C), per sample.
/// The two H×W planes of workspace and the border masses are allocated in `init` (they do not
/// depend on the batch size), so forward and backward allocate nothing.
///
/// Checked against the peer reference `/work/shared/peers/models.py` (`SubtractiveNorm`) through
/// the golden fixture made by `Tests/Fixtures/nn/make_subtractive_norm.py`.
public final class SubtractiveNormalization: ParameterFreeLayer {
  public let inputShape: TensorShape
  public var outputShape: TensorShape { inputShape }
  /// The number of taps of the 1-D Gaussian (odd).
  public let kernelSize: Int
  /// The normalised 1-D kernel g (sums to 1).
  public let kernel: [Float]

  /// 1 / mass(h, w) for every position, H·W values, row-major.
  private let inverseMass: FloatBuffer
  /// Per-sample H×W planes for the channel mean and the two 1-D passes.
  private let planeA: FloatBuffer
  private let planeB: FloatBuffer

  /// The normalised Gaussian of Torch7 `image.gaussian1D(size)` (σ = 0.25, mean 0.5, relative to
  /// the size), divided by its sum.
  public static func gaussianKernel(size: Int) -> [Float] {
    let center = 0.5 * Double(size) + 0.5
    let sigma = 0.25 * Double(size)
    let raw = (1...size).map { i -> Double in
      let z = (Double(i) - center) / sigma
      return exp(-z * z / 2)
    }
    let total = raw.reduce(0, +)
    return raw.map { Float($0 / total) }
  }

  /// A subtractive normalisation over `input` (an image shape `[H, W, C]`).
  ///
  /// - Parameters:
  ///   - input: the per-sample input shape, channels-last.
  ///   - kernelSize: the taps of the 1-D Gaussian; odd, as Torch7 requires. SPEC §2 uses 7.
  public init(input: TensorShape, kernelSize: Int = 7) {
    precondition(
      kernelSize >= 1 && kernelSize % 2 == 1,
      "SubtractiveNormalization needs an odd kernel size, got \(kernelSize)")
    inputShape = input
    self.kernelSize = kernelSize
    let kernel = Self.gaussianKernel(size: kernelSize)
    self.kernel = kernel
    let height = input.height
    let width = input.width
    inverseMass = FloatBuffer(count: height * width)
    for (index, value) in Self.inverseMass(kernel: kernel, height: height, width: width).enumerated() {
      inverseMass.pointer[index] = value
    }
    planeA = FloatBuffer(count: height * width)
    planeB = FloatBuffer(count: height * width)
  }

  /// 1 / mass(h, w) for every position of an H×W plane, row-major: Torch7's border correction
  /// (the kernel's mass inside the image is the product of a row part and a column part).
  /// Also the constant of the exported ONNX graph (`colearn export`).
  public static func inverseMass(kernel: [Float], height: Int, width: Int) -> [Float] {
    let pad = kernel.count / 2
    func inside(_ position: Int, _ extent: Int) -> Double {
      var total = 0.0
      for i in kernel.indices where (0..<extent).contains(position + i - pad) {
        total += Double(kernel[i])
      }
      return total
    }
    let rowMass = (0..<height).map { inside($0, height) }
    let columnMass = (0..<width).map { inside($0, width) }
    var result = [Float](repeating: 0, count: height * width)
    for h in 0..<height {
      for w in 0..<width {
        result[h * width + w] = Float(1 / (rowMass[h] * columnMass[w]))
      }
    }
    return result
  }

  public var description: String { "SubtractiveNormalization(\(kernelSize))" }

  public var forwardMultiplyAdds: Int {
    inputShape.height * inputShape.width * (2 * inputShape.channels + 2 * kernelSize)
  }

  public func reserve(batchSize: Int) {}

  // MARK: - Separable smoothing

  /// Σ_{c < count} values[c], with four partial sums so that the additions do not form one
  /// latency-bound chain (floating-point reductions are not reassociated by the compiler).
  @inline(__always)
  private static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
    var (s0, s1, s2, s3): (Float, Float, Float, Float) = (0, 0, 0, 0)
    var c = 0
    while c + 4 <= count {
      s0 += values[c]
      s1 += values[c + 1]
      s2 += values[c + 2]
      s3 += values[c + 3]
      c += 4
    }
    while c < count {
      s0 += values[c]
      c += 1
    }
    return (s0 + s1) + (s2 + s3)
  }

  /// Smooths the H×W plane in `planeA` with the zero-padded separable kernel g ⊗ g, using
  /// `planeB` as scratch; the result is in `planeA`. O(H·W·k).
  private func smoothPlaneA() {
    let height = inputShape.height
    let width = inputShape.width
    let pad = kernelSize / 2
    let source = planeA.pointer
    let scratch = planeB.pointer
    kernel.withUnsafeBufferPointer { g in
      // Horizontal pass: scratch(h, w) = Σ_j g_j · source(h, w + j − pad).
      for h in 0..<height {
        let row = source + h * width
        let out = scratch + h * width
        for w in 0..<width {
          let first = max(0, pad - w)
          let last = min(kernelSize, width + pad - w)
          var total: Float = 0
          for j in first..<last {
            total += g[j] * row[w + j - pad]
          }
          out[w] = total
        }
      }
      // Vertical pass: source(h, w) = Σ_i g_i · scratch(h + i − pad, w); rows are contiguous, so
      // accumulate whole rows.
      for h in 0..<height {
        let out = source + h * width
        out.update(repeating: 0, count: width)
        let first = max(0, pad - h)
        let last = min(kernelSize, height + pad - h)
        for i in first..<last {
          let weight = g[i]
          let row = scratch + (h + i - pad) * width
          for w in 0..<width {
            out[w] += weight * row[w]
          }
        }
      }
    }
  }

  // MARK: - Forward and backward

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let positions = inputShape.height * inputShape.width
    let channels = inputShape.channels
    let count = inputShape.count
    let inverseChannels = 1 / Float(channels)
    let mean = planeA.pointer
    let inverseMass = inverseMass.pointer
    for b in 0..<batchSize {
      let x = input + b * count
      let y = output + b * count
      // Channel mean per position.
      for p in 0..<positions {
        mean[p] = Self.sum(x + p * channels, count: channels) * inverseChannels
      }
      smoothPlaneA()
      // y_c = x_c − m with the border correction.
      for p in 0..<positions {
        let m = mean[p] * inverseMass[p]
        let xp = x + p * channels
        let yp = y + p * channels
        for c in 0..<channels { yp[c] = xp[c] - m }
      }
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    let positions = inputShape.height * inputShape.width
    let channels = inputShape.channels
    let count = inputShape.count
    let inverseChannels = 1 / Float(channels)
    let spread = planeA.pointer
    let inverseMass = inverseMass.pointer
    for b in 0..<batchSize {
      let dy = outputGradient + b * count
      let dx = inputGradient + b * count
      // s(h, w) = Σ_c ∂y_c / (C · mass).
      for p in 0..<positions {
        spread[p] = Self.sum(dy + p * channels, count: channels) * inverseChannels * inverseMass[p]
      }
      smoothPlaneA()
      for p in 0..<positions {
        let m = spread[p]
        let dyp = dy + p * channels
        let dxp = dx + p * channels
        for c in 0..<channels { dxp[c] = dyp[c] - m }
      }
    }
  }
}
