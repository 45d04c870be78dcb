import CoLearnNN

/// Analytic input reconstruction from an upload of a linear first layer (Phong et al. 2018,
/// "Privacy-preserving deep learning via additively homomorphic encryption", §3; Geiping et al.
/// 2020, "Inverting gradients", Prop. 3.1).
///
/// **What the attacker is assumed to know**: the uploaded change Δw of the first layer
/// y = W·x + b (an honest-but-curious server sees every upload with its sender), the model
/// architecture, and — only to *score* the attack, not to run it — the participant's records.
/// No labels, no other layers, no training history.
///
/// For one SGD step on a single record x, ∂ℓ/∂W_i = (∂ℓ/∂y_i)·x and ∂ℓ/∂b_i = ∂ℓ/∂y_i, so every
/// row i with Δb_i ≠ 0 gives x̂ = ΔW_i / Δb_i = x exactly (the learning rate cancels). For a
/// mini-batch or several steps, row i gives a mixture Σ_b g_{b,i} x_b / Σ_b g_{b,i} of the
/// records, which resembles one record only when one record dominates that row's gradient: the
/// attack then degrades as the shard grows. Rows whose bias change was not uploaded (a selective
/// upload, Δb_i = 0) or is below `minimumBiasChange` in magnitude give nothing.
public struct LinearLayerReconstruction: Sendable {
  /// The first layer's number of inputs (a record's length).
  public let inputs: Int
  /// The first layer's number of outputs (rows of W).
  public let outputs: Int
  /// Rows with |Δb_i| at most this are skipped (their ratio is numerically meaningless).
  public let minimumBiasChange: Float

  /// The attack on a linear first layer of `inputs` → `outputs`.
  public init(inputs: Int, outputs: Int, minimumBiasChange: Float = 1e-12) {
    precondition(inputs >= 1 && outputs >= 1, "a linear layer needs inputs and outputs")
    self.inputs = inputs
    self.outputs = outputs
    self.minimumBiasChange = minimumBiasChange
  }

  /// The attack on the first layer of `network`, or nil when that layer is not ``Linear``.
  public init?(network: Network, minimumBiasChange: Float = 1e-12) {
    guard let first = network.layers.first as? Linear else { return nil }
    self.init(
      inputs: first.inputCount, outputs: first.outputCount, minimumBiasChange: minimumBiasChange)
  }

  /// The candidate inputs ΔW_i / Δb_i of every usable row of `change`, the change of the whole
  /// flat parameter vector (zeros where nothing was uploaded). The first layer's parameters come
  /// first in the vector: W ([outputs, inputs], row-major), then b.
  ///
  /// - Throws: ``AuditError/lengthMismatch(what:count:expected:)`` when `change` is shorter than
  ///   the first layer.
  /// - Complexity: O(outputs · inputs).
  public func reconstructions(from change: [Float]) throws(AuditError) -> [[Float]] {
    let firstLayer = outputs * inputs + outputs
    guard change.count >= firstLayer else {
      throw .lengthMismatch(what: "the uploaded change", count: change.count, expected: firstLayer)
    }
    var result: [[Float]] = []
    for row in 0..<outputs {
      let bias = change[outputs * inputs + row]
      guard abs(bias) > minimumBiasChange else { continue }
      let start = row * inputs
      result.append(change[start..<start + inputs].map { $0 / bias })
    }
    return result
  }

  /// How well `change` reveals `records`: for each record the best cosine similarity with any
  /// row's reconstruction, and the fraction of records whose best cosine is at least
  /// `threshold`.
  ///
  /// - Parameters:
  ///   - change: the uploaded change of the flat parameter vector (see
  ///     ``reconstructions(from:)``).
  ///   - records: the participant's records, `inputs` values each, concatenated.
  ///   - threshold: the cosine similarity at which a record counts as recovered, in (−1, 1].
  /// - Returns: the usable rows, each record's best similarity and the fraction recovered.
  /// - Throws: ``AuditError`` on a short `change`, records that are not whole, or a bad
  ///   threshold.
  public func run(change: [Float], records: [Float], threshold: Double = 0.99)
    throws(AuditError) -> ReconstructionResult
  {
    guard threshold > -1, threshold <= 1 else {
      throw .invalidParameter(
        name: "similarity threshold", value: threshold, requirement: "a cosine in (−1, 1]")
    }
    guard records.count % inputs == 0, !records.isEmpty else {
      throw .lengthMismatch(
        what: "the records", count: records.count,
        expected: max(1, records.count / inputs) * inputs)
    }
    let candidates = try reconstructions(from: change)
    let count = records.count / inputs
    var best = [Double](repeating: -1, count: count)
    for record in 0..<count {
      let x = records[record * inputs..<(record + 1) * inputs]
      for candidate in candidates {
        best[record] = max(best[record], cosineSimilarity(x, candidate))
      }
    }
    let recovered = best.filter { $0 >= threshold }.count
    return ReconstructionResult(
      usableRows: candidates.count, rows: outputs, bestSimilarities: best, threshold: threshold,
      recoveredFraction: Double(recovered) / Double(count))
  }
}

/// The outcome of ``LinearLayerReconstruction/run(change:records:threshold:)``.
public struct ReconstructionResult: Sendable, Hashable, Codable {
  /// Rows whose bias change was usable (each gave one reconstruction).
  public var usableRows: Int
  /// Rows of the first layer.
  public var rows: Int
  /// For each record, the largest cosine similarity between it and a reconstruction (−1 when
  /// no row was usable).
  public var bestSimilarities: [Double]
  /// The similarity at which a record counts as recovered.
  public var threshold: Double
  /// The fraction of records recovered.
  public var recoveredFraction: Double
}

/// cos(a, b) = a·b / (‖a‖‖b‖) in double precision; 0 when either is the zero vector.
public func cosineSimilarity<A: Collection<Float>, B: Collection<Float>>(_ a: A, _ b: B) -> Double {
  var dot = 0.0
  var aa = 0.0
  var bb = 0.0
  for (x, y) in zip(a, b) {
    dot += Double(x) * Double(y)
    aa += Double(x) * Double(x)
    bb += Double(y) * Double(y)
  }
  guard aa > 0, bb > 0 else { return 0 }
  return dot / (aa * bb).squareRoot()
}
