import CoLearnTensor

/// The input columns of a mini-batch that vary between its samples, the batch gathered down to
/// those columns, and the constant value of every other column: the workspace of ``Linear``'s
/// path for inputs that are mostly background.
///
/// Split the batch x [B, in] into the varying columns x_V and the columns that hold one value
/// c_i in every sample (c is zero on V). Then, exactly,
///
///     y  = x_V·W_Vᵀ + (b + W·c)            — a GEMM over |V| columns
///     ∂W = ∂yᵀ·x_V  on V,  + (Σ_b ∂y) ⊗ c   — a GEMM over |V| columns and a rank-1 term
///
/// Images are mostly background: after standardisation every background pixel of MNIST holds
/// the same value, and a batch of 32 digits padded to 32×32 varies in only about 455 of the
/// 1,024 pixels. The two GEMMs that dominate a dense layer's step then shrink by half, at the
/// price of one pass over W in the forward pass (gather W_V, compute W·c) and one in the
/// update (scatter the GEMM's result, add the rank-1 term). The products are the same sums
/// regrouped (rounding may differ in the last bits); nothing is approximated.
///
/// V is kept as runs of consecutive columns, so that the gathers and scatters are contiguous
/// copies: constant columns separated by at most ``mergedGap`` columns from their neighbours in V
/// join the run (they are then multiplied like varying ones, with c = 0 there). For an image
/// that gives about one run per image row.
///
/// Columns are compared bit for bit, so NaN and ±∞ are carried like any other value.
final class VaryingInputColumns {
  /// Use the split when at most this share of the columns is in V; above it the extra passes
  /// over W cost more than the smaller GEMMs save.
  static let maximumVaryingShare = 0.75
  /// Constant gaps of up to this many columns between varying ones are folded into one run.
  static let mergedGap = 8

  private let inputs: Int
  private let outputs: Int
  private var capacityBatch = 0
  /// Per column, the OR over the batch of (bits of x[b, i]) XOR (bits of x[0, i]).
  private let differences: UnsafeMutablePointer<UInt32>
  /// The runs of V: `runStarts[r]` and `runLengths[r]` for r < `runCount`, ascending.
  private let runStarts: UnsafeMutablePointer<Int>
  private let runLengths: UnsafeMutablePointer<Int>
  private var runCount = 0
  /// c: each constant column's value, zero on V.
  private let constants: UnsafeMutablePointer<Float>
  /// Whether some constant column is not zero (else W·c and the rank-1 term vanish).
  private var hasNonzeroConstant = false
  /// The batch gathered to V: [batch, count].
  private var compactInput: UnsafeMutablePointer<Float>
  /// W gathered to V, or the weight update on V: [outputs, count].
  let compactWeight: UnsafeMutablePointer<Float>
  /// b + W·c, or Σ_b ∂y: [outputs].
  let outputScratch: UnsafeMutablePointer<Float>
  /// |V| after the last ``split(_:batchSize:)``.
  private(set) var count = 0
  /// The batch the current split was made for (its address and size), so that the backward
  /// pass of the batch the forward pass just saw reuses it.
  private var splitInput: UnsafePointer<Float>?
  private var splitBatchSize = 0
  private var splitSucceeded = false

  init(inputs: Int, outputs: Int) {
    self.inputs = inputs
    self.outputs = outputs
    differences = .allocate(capacity: inputs)
    runStarts = .allocate(capacity: inputs)
    runLengths = .allocate(capacity: inputs)
    constants = .allocate(capacity: inputs)
    compactWeight = .allocate(capacity: inputs * outputs)
    outputScratch = .allocate(capacity: outputs)
    compactInput = .allocate(capacity: 0)
  }

  deinit {
    differences.deallocate()
    runStarts.deallocate()
    runLengths.deallocate()
    constants.deallocate()
    compactWeight.deallocate()
    outputScratch.deallocate()
    compactInput.deallocate()
  }

  /// Makes room for batches of up to `batchSize` samples.
  func reserve(batchSize: Int) {
    guard batchSize > capacityBatch else { return }
    compactInput.deallocate()
    compactInput = .allocate(capacity: batchSize * inputs)
    capacityBatch = batchSize
    splitInput = nil
  }

  /// Splits `input` ([batchSize, inputs], batchSize ≥ 2) and, when few enough columns vary
  /// (``maximumVaryingShare``) and at least one does, gathers the batch to V and returns true.
  ///
  /// The forward pass splits (`reuse` false); the backward pass of the same batch passes
  /// `reuse` true and gets the forward pass's split back without a second scan.
  func split(_ input: UnsafePointer<Float>, batchSize: Int, reuse: Bool = false) -> Bool {
    if reuse, splitInput == input, splitBatchSize == batchSize { return splitSucceeded }
    reserve(batchSize: batchSize)
    splitInput = input
    splitBatchSize = batchSize
    splitSucceeded = findRuns(input, batchSize: batchSize)
    guard splitSucceeded else { return false }
    for b in 0..<batchSize {
      gatherRuns(from: input + b * inputs, into: compactInput + b * count)
    }
    return true
  }

  /// The number of columns whose `differences` are not zero.
  private func varyingCount() -> Int {
    var total = 0
    for i in 0..<inputs where differences[i] != 0 { total &+= 1 }
    return total
  }

  /// Fills `differences`, the runs, c and `count`; returns whether the split pays.
  private func findRuns(_ input: UnsafePointer<Float>, batchSize: Int) -> Bool {
    differences.update(repeating: 0, count: inputs)
    let limit = Int(Self.maximumVaryingShare * Double(inputs))
    let lanes = 16
    let vectorEnd = inputs - inputs % lanes
    let first = UnsafeRawPointer(input)
    for b in 1..<batchSize {
      let row = UnsafeRawPointer(input + b * inputs)
      var i = 0
      while i < vectorEnd {
        let value = row.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
        let reference = first.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
        let slot = UnsafeMutableRawPointer(differences + i)
        let bits = slot.loadUnaligned(as: SIMD16<UInt32>.self)
        slot.storeBytes(of: bits | (value ^ reference), as: SIMD16<UInt32>.self)
        i += lanes
      }
      while i < inputs {
        differences[i] |=
          row.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
          ^ first.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
        i += 1
      }
      // A dense batch (random or natural images) shows itself in its first rows: when more
      // columns already vary than the split allows, stop scanning (the runs could only add
      // bridged gaps, so the answer is the same). Checked after rows 16, 32, 64, …: a count
      // costs one pass over `differences`, a few percent of the rows scanned before it.
      if b >= 16, b & (b - 1) == 0, varyingCount() > limit { return false }
    }
    // Runs of varying columns, bridging constant gaps of up to `mergedGap` columns.
    runCount = 0
    var total = 0
    var lastVarying = -Self.mergedGap - 2
    for i in 0..<inputs where differences[i] != 0 {
      if runCount > 0, i - lastVarying <= Self.mergedGap + 1 {
        runLengths[runCount - 1] = i + 1 - runStarts[runCount - 1]
      } else {
        runStarts[runCount] = i
        runLengths[runCount] = 1
        runCount += 1
      }
      lastVarying = i
    }
    for r in 0..<runCount { total += runLengths[r] }
    count = total
    guard total > 0, Double(total) <= Self.maximumVaryingShare * Double(inputs) else {
      return false
    }
    constants.update(from: input, count: inputs)
    for r in 0..<runCount {
      (constants + runStarts[r]).update(repeating: 0, count: runLengths[r])
    }
    var nonzero: UInt32 = 0
    for i in 0..<inputs { nonzero |= constants[i].bitPattern & 0x7FFF_FFFF }
    hasNonzeroConstant = nonzero != 0
    return true
  }

  /// Copies the runs of one row (`inputs` values) into `count` consecutive values.
  @inline(__always)
  private func gatherRuns(from row: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
    var offset = 0
    for r in 0..<runCount {
      let length = runLengths[r]
      copyFloats(from: row + runStarts[r], to: target + offset, count: length)
      offset += length
    }
  }

  /// Calls `body(start, length)` for each stretch of constant columns: before, between and
  /// after the runs.
  @inline(__always)
  private func forEachGap(_ body: (_ start: Int, _ length: Int) -> Void) {
    var next = 0
    for r in 0..<runCount {
      if runStarts[r] > next { body(next, runStarts[r] - next) }
      next = runStarts[r] + runLengths[r]
    }
    if next < inputs { body(next, inputs - next) }
  }

  /// The batch gathered by the last successful ``split(_:batchSize:reuse:)``: [batch, count].
  var gatheredInput: UnsafePointer<Float> { UnsafePointer(compactInput) }

  /// For the output rows `rows`: gathers W_V ([outputs, inputs] → ``compactWeight``) and writes
  /// b + W·c into ``outputScratch``, in one pass over those rows of W.
  func prepareForward(
    rows: Range<Int>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>
  ) {
    for o in rows {
      let row = weight + o * inputs
      gatherRuns(from: row, into: compactWeight + o * count)
      var shift: Float = 0
      if hasNonzeroConstant {
        // W·c over the constant columns only (the gaps between runs), each read once.
        forEachGap { start, length in
          shift += dot(row + start, constants + start, count: length)
        }
      }
      outputScratch[o] = bias[o] + shift
    }
  }

  /// For the output rows `rows`: ``compactWeight`` = alpha · ∂yᵀ·x_V and ``outputScratch`` =
  /// Σ_b ∂y.
  func weightProduct(
    rows: Range<Int>, outputGradient: UnsafePointer<Float>, batchSize: Int, alpha: Float
  ) {
    BLAS.gemm(
      .transposed, .none, m: rows.count, n: count, k: batchSize, alpha: alpha,
      a: outputGradient + rows.lowerBound, lda: outputs, b: gatheredInput, ldb: count,
      c: compactWeight + rows.lowerBound * count, ldc: count)
    for o in rows { outputScratch[o] = 0 }
    for b in 0..<batchSize {
      let row = outputGradient + b * outputs
      for o in rows { outputScratch[o] += row[o] }
    }
  }

  /// For the output rows `rows`: weight += ``compactWeight`` on V + alpha · (Σ_b ∂y) ⊗ c, in one
  /// pass over those rows of W — the SGD update (alpha = −rate, after
  /// ``weightProduct(rows:outputGradient:batchSize:alpha:)`` at the same alpha).
  func addUpdate(rows: Range<Int>, into weight: UnsafeMutablePointer<Float>, alpha: Float) {
    for o in rows {
      let row = weight + o * inputs
      if hasNonzeroConstant {
        let scale = alpha * outputScratch[o]
        forEachGap { start, length in
          addScaled(constants + start, scale: scale, to: row + start, count: length)
        }
      }
      var offset = 0
      let source = compactWeight + o * count
      for r in 0..<runCount {
        let length = runLengths[r]
        addScaled(source + offset, scale: 1, to: row + runStarts[r], count: length)
        offset += length
      }
    }
  }

  /// For the output rows `rows`: gradient = ``compactWeight`` on V + (Σ_b ∂y) ⊗ c (after
  /// ``weightProduct(rows:outputGradient:batchSize:alpha:)`` with alpha = 1).
  func writeGradient(rows: Range<Int>, into gradient: UnsafeMutablePointer<Float>) {
    (gradient + rows.lowerBound * inputs).update(repeating: 0, count: rows.count * inputs)
    addUpdate(rows: rows, into: gradient, alpha: 1)
  }
}

/// target[0..<count] = source[0..<count], in 16-lane blocks (runs are short: a memmove call
/// per run would cost more than the copy).
@inline(__always)
private func copyFloats(
  from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int
) {
  var i = 0
  while i + 16 <= count {
    UnsafeMutableRawPointer(target + i).storeBytes(
      of: UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Float>.self),
      as: SIMD16<Float>.self)
    i += 16
  }
  while i < count {
    target[i] = source[i]
    i += 1
  }
}

/// target[0..<count] += scale · source[0..<count].
@inline(__always)
private func addScaled(
  _ source: UnsafePointer<Float>, scale: Float, to target: UnsafeMutablePointer<Float>,
  count: Int
) {
  var i = 0
  let factor = SIMD16<Float>(repeating: scale)
  while i + 16 <= count {
    let slot = UnsafeMutableRawPointer(target + i)
    let value = UnsafeRawPointer(source + i).loadUnaligned(as: SIMD16<Float>.self)
    slot.storeBytes(
      of: slot.loadUnaligned(as: SIMD16<Float>.self) + factor * value, as: SIMD16<Float>.self)
    i += 16
  }
  while i < count {
    target[i] += scale * source[i]
    i += 1
  }
}

/// Σ a[i]·b[i] over `count` values, in 16 lanes.
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
  var sums = SIMD16<Float>(repeating: 0)
  var i = 0
  while i + 16 <= count {
    sums +=
      UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
      * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
    i += 16
  }
  var total = sums.sum()
  while i < count {
    total += a[i] * b[i]
    i += 1
  }
  return total
}
