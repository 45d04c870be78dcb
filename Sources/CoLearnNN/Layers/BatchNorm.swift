import CoLearnTensor

/// Normalises every feature over the batch to mean 0 and variance 1, with no learned scale or
/// shift and no running statistics (SPEC §9 split learning: "BatchNorm with fixed mean 0,
/// variance 1 per batch"). No parameters; training and evaluation behave the same.
///
/// Shapes: x [B, …] → y [B, …] (same shape). Statistics are taken over N values per group:
/// - per feature (the default, `perChannel: false`): each of the `inputShape.count` values of a
///   sample (each position and channel of an image) is its own group, N = B. This is what the
///   split-learning sensitivity below is derived for, and it applies to any input shape.
/// - per channel (`perChannel: true`, image shapes only, like PyTorch `BatchNorm2d`): the groups
///   are the C channels, pooled over the batch and all H·W positions, N = B·H·W.
///
/// Forward, per group: μ = (1/N) Σ x, σ² = (1/N) Σ (x − μ)² (biased), σ̂ = √(σ² + ε),
/// ŷ = y = (x − μ) / σ̂. If σ² + ε = 0 (a constant group with ε = 0) the output is 0.
///
/// Backward (the standard formula, with no affine part):
///
///     ∂x = (1/N) · (1/σ̂) · (N · ∂y − Σ ∂y − ŷ · Σ (∂y · ŷ))
///
/// Bound: with ε = 0, Σ ŷ = 0 and Σ ŷ² = N, and the largest |ŷ| subject to those is √(N − 1),
/// reached when one value differs from the N − 1 others (which are then all equal). So every
/// output satisfies |y| ≤ √(B − 1) per feature, and ε > 0 only shrinks it. SPEC §9 relies on this:
/// one sample's features move by at most 2·√(B − 1) per coordinate, the Laplace sensitivity
/// S = 2·√(N − 1). At B = 1 every output is 0. (Per channel the bound is √(B·H·W − 1).)
///
/// Cost: O(B · count) forward and backward; loops run sample-major with the innermost loop over
/// contiguous features. The per-group statistics live in workspaces of `groups` floats allocated
/// in `init`, so forward and backward allocate nothing. Backward reads the 1/σ̂ saved by the
/// forward pass of the same batch.
public final class BatchNorm: ParameterFreeLayer {
  public let inputShape: TensorShape
  public var outputShape: TensorShape { inputShape }
  /// Added to the variance before the square root.
  public let epsilon: Float
  /// The ε of every batch normalisation a ``ModelSpec`` builds (PyTorch's default too); an
  /// exported model (`colearn export`) uses the same.
  public static let defaultEpsilon: Float = 1e-5
  /// Whether statistics pool over the spatial positions (one group per channel).
  public let perChannel: Bool

  /// The number of groups: consecutive runs of `groups` values in a sample are "positions", and
  /// the value at index `p · groups + g` belongs to group `g` (channels-last makes channels
  /// innermost).
  private let groups: Int
  /// Per group: the mean, then (backward) Σ ∂y.
  private let first: FloatBuffer
  /// Per group: 1/σ̂, saved by forward.
  private let inverseDeviation: FloatBuffer
  /// Per group: Σ (∂y · ŷ), backward only.
  private let second: FloatBuffer

  /// A batch normalisation over `input`.
  ///
  /// - Parameters:
  ///   - input: the per-sample shape.
  ///   - epsilon: added to the variance (≥ 0).
  ///   - perChannel: pool statistics over the H·W positions of an image shape too.
  public init(input: TensorShape, epsilon: Float = defaultEpsilon, perChannel: Bool = false) {
    precondition(epsilon >= 0, "BatchNorm epsilon must be non-negative, got \(epsilon)")
    inputShape = input
    self.epsilon = epsilon
    self.perChannel = perChannel
    groups = perChannel ? input.channels : input.count
    first = FloatBuffer(count: groups)
    inverseDeviation = FloatBuffer(count: groups)
    second = FloatBuffer(count: groups)
  }

  public var description: String { perChannel ? "BatchNorm(per channel)" : "BatchNorm" }
  /// Batch statistics: every output depends on the whole batch.
  public var mixesSamples: Bool { true }
  public var forwardMultiplyAdds: Int { 0 }
  public func reserve(batchSize: Int) {}

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let groups = groups
    let runs = batchSize * (inputShape.count / groups)  // B · positions: the rows of [N/…, groups]
    let inverseN = 1 / Float(runs)
    let mean = first.pointer
    let inverseDeviation = inverseDeviation.pointer
    // μ
    mean.update(repeating: 0, count: groups)
    for r in 0..<runs {
      let x = input + r * groups
      for g in 0..<groups { mean[g] += x[g] }
    }
    for g in 0..<groups { mean[g] *= inverseN }
    // σ² (two-pass for accuracy); y holds x − μ meanwhile.
    inverseDeviation.update(repeating: 0, count: groups)
    for r in 0..<runs {
      let x = input + r * groups
      let y = output + r * groups
      for g in 0..<groups {
        let centred = x[g] - mean[g]
        y[g] = centred
        inverseDeviation[g] += centred * centred
      }
    }
    for g in 0..<groups {
      let variance = inverseDeviation[g] * inverseN + epsilon
      inverseDeviation[g] = variance > 0 ? 1 / variance.squareRoot() : 0
    }
    for r in 0..<runs {
      let y = output + r * groups
      for g in 0..<groups { y[g] *= inverseDeviation[g] }
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    let groups = groups
    let runs = batchSize * (inputShape.count / groups)
    let inverseN = 1 / Float(runs)
    let sumGradient = first.pointer
    let sumGradientY = second.pointer
    let inverseDeviation = inverseDeviation.pointer
    sumGradient.update(repeating: 0, count: groups)
    sumGradientY.update(repeating: 0, count: groups)
    for r in 0..<runs {
      let y = output + r * groups
      let dy = outputGradient + r * groups
      for g in 0..<groups {
        sumGradient[g] += dy[g]
        sumGradientY[g] += dy[g] * y[g]
      }
    }
    // Fold 1/N into the sums: ∂x = (1/σ̂) · (∂y − Σ∂y/N − ŷ · Σ(∂y·ŷ)/N).
    for g in 0..<groups {
      sumGradient[g] *= inverseN
      sumGradientY[g] *= inverseN
    }
    for r in 0..<runs {
      let y = output + r * groups
      let dy = outputGradient + r * groups
      let dx = inputGradient + r * groups
      for g in 0..<groups {
        dx[g] = inverseDeviation[g] * (dy[g] - sumGradient[g] - y[g] * sumGradientY[g])
      }
    }
  }
}
