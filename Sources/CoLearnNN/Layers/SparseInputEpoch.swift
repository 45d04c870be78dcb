import CoLearnTensor

/// ``Linear``'s path for an epoch of plain SGD as the first layer of a network whose inputs are
/// mostly one background value (the padded, standardised digits of MNIST): each sample is kept
/// as the list of its entries that differ from the background, and only those are multiplied.
///
/// Write a batch's sample as x = c·1 + x′, with c the background value of the batch and x′ sparse
/// (about 150 of 1,024 entries for a digit). With W = S + u·1ᵀ (S the stored matrix, u a vector
/// of the outputs that holds every update shared by all inputs) and σ = Σ_i S[:, i], exactly:
///
///     y       = b + c·σ + (n·c + Σ x′)·u + S·x′          — S·x′ over x′'s entries only
///     W − α·∂W: u −= α·c·Σ_b ∂y,  S −= α·∂yᵀ·x′,  σ −= α·∂yᵀ·(Σ x′ per sample)
///
/// because ∂W = ∂yᵀ·x = c·(Σ_b ∂y)·1ᵀ + ∂yᵀ·x′. The dense rank-1 term that every background input
/// adds to its column of W goes into u, once per step, instead of into every column; the
/// products and updates touch only the rows of S (the columns of W) that the batch's digits
/// cover. S is stored transposed ([inputs, outputs]) so that the entry of input i reads and
/// updates one contiguous row; W is transposed into S when the first batch of the epoch turns
/// out sparse enough, and W = (S + u·1ᵀ) is written back when the epoch ends.
///
/// The sums are the dense layer's regrouped, so results agree to rounding, not bit for bit (and a
/// non-finite input gives non-finite outputs of its sample, but an ∞ may come out as NaN); runs
/// stay reproducible, as every sum has a fixed order. The steps run on the calling thread:
/// splitting the outputs or the samples between two cores gave no gain on the 2-vCPU machine it
/// was measured on (the per-entry work is repeated by every core, and the hand-off costs about
/// what half the products save). Only the two passes over all of W, the transpose that opens
/// the epoch and the write-back that closes it, split by outputs over `--threads` cores.
///
/// Only ``Linear/forward(_:into:batchSize:parameters:)`` and
/// ``Linear/backwardApplyingSGD(input:output:outputGradient:inputGradient:batchSize:parameters:rate:)``
/// with no input gradient may touch the parameters while an epoch is open: the flat vector's
/// weights are stale until ``close()``.
final class SparseInputEpoch {
  /// Engage when the epoch's first batch has at most this share of entries off the background;
  /// above it the dense GEMMs are faster.
  static let maximumDensity = 0.3

  private enum State {
    /// No epoch is open.
    case closed
    /// Open; the first batch decides.
    case undecided
    /// Open, and the weights live in `stored` and `shift`.
    case engaged
    /// Open, but the inputs are too dense: the dense path runs and the flat vector stays valid.
    case declined
  }

  private let inputs: Int
  private let outputs: Int
  private var state = State.closed
  /// The parameters of the open epoch (the layer's range of the flat vector).
  private var parameters: UnsafeMutablePointer<Float>?
  /// S, transposed: [inputs, outputs]; allocated when an epoch first engages.
  private var stored: UnsafeMutablePointer<Float>
  /// u: [outputs].
  private let shift: UnsafeMutablePointer<Float>
  /// σ = Σ_i S[i, :]: [outputs].
  private let columnSums: UnsafeMutablePointer<Float>

  private var hasStorage = false
  private var capacityBatch = 0
  /// The batch's entries off the background, sample by sample (input index and x′ value):
  /// sample b's are `rowStarts[b]..<rowStarts[b + 1]`.
  private var rowInputs: UnsafeMutablePointer<Int32>
  private var rowValues: UnsafeMutablePointer<Float>
  private var rowStarts: UnsafeMutablePointer<Int>
  /// The same entries input by input (sample number and x′ value): input i's are
  /// `columnStarts[i]..<columnStarts[i + 1]`, in sample order.
  private var entrySamples: UnsafeMutablePointer<Int32>
  private var entryValues: UnsafeMutablePointer<Float>
  private let columnStarts: UnsafeMutablePointer<Int>
  /// Per input: its number of entries, then the next free slot while the columns are filled.
  private let columnCursors: UnsafeMutablePointer<Int>
  /// The inputs with at least one entry, ascending: `activeColumns[0..<activeCount]`.
  private let activeColumns: UnsafeMutablePointer<Int32>
  private var activeCount = 0
  /// Σ x′ of each sample.
  private var entrySums: UnsafeMutablePointer<Float>
  /// −α·∂y of the batch: [batch, outputs].
  private var scaledGradient: UnsafeMutablePointer<Float>
  /// c of the batch (of every batch, with `rows`).
  private var background: Float = 0
  /// The listed entries of the epoch's samples, when the trainer gave them.
  private var rows: SparseRows?
  /// The samples of the next batch, from ``selectBatch(_:)``.
  private var batchSamples: UnsafeBufferPointer<Int>?
  /// The number of entries of the last batch taken (for profiles and tests).
  private(set) var entryCount = 0
  /// The batch the entries were taken from (address and size), for the backward pass.
  private var entriesInput: UnsafePointer<Float>?
  private var entriesBatchSize = 0

  init(inputs: Int, outputs: Int) {
    self.inputs = inputs
    self.outputs = outputs
    stored = .allocate(capacity: 0)
    shift = .allocate(capacity: outputs)
    columnSums = .allocate(capacity: outputs)
    columnStarts = .allocate(capacity: inputs + 1)
    columnCursors = .allocate(capacity: inputs)
    activeColumns = .allocate(capacity: inputs)
    rowInputs = .allocate(capacity: 0)
    rowValues = .allocate(capacity: 0)
    rowStarts = .allocate(capacity: 1)
    entrySamples = .allocate(capacity: 0)
    entryValues = .allocate(capacity: 0)
    entrySums = .allocate(capacity: 0)
    scaledGradient = .allocate(capacity: 0)
  }

  deinit {
    stored.deallocate()
    shift.deallocate()
    columnSums.deallocate()
    columnStarts.deallocate()
    columnCursors.deallocate()
    activeColumns.deallocate()
    rowInputs.deallocate()
    rowValues.deallocate()
    rowStarts.deallocate()
    entrySamples.deallocate()
    entryValues.deallocate()
    entrySums.deallocate()
    scaledGradient.deallocate()
  }

  /// Makes room for batches of up to `batchSize` samples.
  func reserve(batchSize: Int) {
    guard batchSize > capacityBatch else { return }
    rowInputs.deallocate()
    rowValues.deallocate()
    rowStarts.deallocate()
    entrySamples.deallocate()
    entryValues.deallocate()
    entrySums.deallocate()
    scaledGradient.deallocate()
    rowInputs = .allocate(capacity: batchSize * inputs)
    rowValues = .allocate(capacity: batchSize * inputs)
    rowStarts = .allocate(capacity: batchSize + 1)
    entrySamples = .allocate(capacity: batchSize * inputs)
    entryValues = .allocate(capacity: batchSize * inputs)
    entrySums = .allocate(capacity: batchSize)
    scaledGradient = .allocate(capacity: batchSize * outputs)
    capacityBatch = batchSize
    entriesInput = nil
    entriesBatchSize = 0
  }

  /// Opens an epoch on `parameters` (weight [outputs, inputs] then bias [outputs]).
  ///
  /// With `rows` (the training samples' entries, listed once), the epoch engages at once and
  /// every batch's entries come from `rows`, for the samples named by ``selectBatch(_:)``:
  /// the batch passed to ``forward(_:into:batchSize:bias:)`` is not read. Returns whether it
  /// does so.
  func open(parameters: UnsafeMutablePointer<Float>, rows: SparseRows?) -> Bool {
    precondition(state == .closed, "an epoch is already open on this layer")
    self.parameters = parameters
    state = .undecided
    guard let rows, rows.sampleSize == inputs else { return false }
    self.rows = rows
    background = rows.background
    engage()
    return true
  }

  /// Names the samples (positions in the epoch's `rows`) of the next batch passed forward.
  func selectBatch(_ samples: UnsafeBufferPointer<Int>) {
    precondition(rows != nil, "selectBatch without the rows of an open epoch")
    batchSamples = samples
  }

  /// Ends the epoch: writes W = S + u·1ᵀ back when the epoch engaged. With `changes` (the
  /// weights' part of a vector laid out like the parameters), also writes W_new − W_old there
  /// in the same pass, W_old being the flat vector's weights, untouched since the epoch opened.
  ///
  /// - Precondition: with `changes`, the epoch engaged (as it does at once with rows).
  func close(changes: UnsafeMutablePointer<Float>? = nil) {
    defer {
      state = .closed
      parameters = nil
      rows = nil
      batchSamples = nil
    }
    precondition(changes == nil || state == .engaged, "the changes of an epoch that did not engage")
    guard state == .engaged, let weight = parameters else { return }
    let (inputs, outputs, stored, shift) = (inputs, outputs, stored, shift)
    forEachWeightBlock { range, block in
      for o in range {
        let row = weight + o &* inputs
        let u = shift[o]
        if let changes {
          let change = changes + o &* inputs
          for i in block {
            let value = stored[i &* outputs &+ o] + u
            change[i] = value - row[i]
            row[i] = value
          }
        } else {
          for i in block { row[i] = stored[i &* outputs &+ o] + u }
        }
      }
    }
  }

  /// Runs `body(outputs, inputs)` over all of W = Sᵀ, one block of 16 inputs after the other,
  /// each for a range of outputs that `body` visits output after output, so that W's rows and
  /// S's rows are both read and written a cache line at a time. The transpose and the
  /// write-back of an epoch (passes over all of W, memory-bound) go through here. On several
  /// ``BLAS/threadCount`` the outputs split into ranges of whole 16-output groups, one per core:
  /// each output's inputs are still visited in ascending order, so the results are the same
  /// bits, and the ranges write disjoint rows of W and disjoint 16-value runs of S's rows.
  private func forEachWeightBlock(_ body: (_ outputs: Range<Int>, _ inputs: Range<Int>) -> Void) {
    let inputs = inputs
    func visit(outputs range: Range<Int>) {
      var start = 0
      while start < inputs {
        let end = min(start + 16, inputs)
        body(range, start..<end)
        start = end
      }
    }
    let groups = outputs / 16
    let shares = min(BLAS.threadCount, WorkerPool.shared.maximumWidth, groups)
    guard shares > 1, inputs * outputs >= Self.minimumParallelWeights else {
      visit(outputs: 0..<outputs)
      return
    }
    let outputs = outputs
    WorkerPool.shared.run(width: shares) { share in
      let first = groups * share / shares * 16
      let last = share == shares - 1 ? outputs : groups * (share + 1) / shares * 16
      visit(outputs: first..<last)
    }
  }

  /// Weights below which a pass over W stays on one core (a hand-off costs about as much as a
  /// pass over a few thousand values).
  static let minimumParallelWeights = 32_768

  /// Whether the layer's weights currently live here, for `parameters`.
  func holdsWeights(of parameters: UnsafePointer<Float>) -> Bool {
    state == .engaged && UnsafeRawPointer(parameters) == UnsafeRawPointer(self.parameters)
  }

  /// Whether a batch run on `parameters` goes through this path: the epoch is open on them and
  /// has not declined.
  func serves(_ parameters: UnsafePointer<Float>) -> Bool {
    (state == .engaged || state == .undecided)
      && UnsafeRawPointer(parameters) == UnsafeRawPointer(self.parameters)
  }

  /// y = b + c·σ + (n·c + Σ x′)·u + S·x′ for a batch of the open epoch. On the epoch's first
  /// batch, engages (transposes W) or declines; returns false when declined, and the caller
  /// runs the dense path.
  func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    bias: UnsafePointer<Float>
  ) -> Bool {
    reserve(batchSize: batchSize)
    if let rows {
      guard let samples = batchSamples, samples.count == batchSize else {
        preconditionFailure("a batch of \(batchSize) samples without selectBatch of as many")
      }
      takeEntries(rows, samples: samples)
      entriesInput = input
      batchSamples = nil
    } else {
      takeEntries(input, batchSize: batchSize)
    }
    if state == .undecided {
      guard Double(entryCount) <= Self.maximumDensity * Double(batchSize * inputs) else {
        state = .declined
        return false
      }
      engage()
    }
    let c = background
    let n = Float(inputs)
    for b in 0..<batchSize {
      let row = output + b * outputs
      let scale = n * c + entrySums[b]
      for o in 0..<outputs { row[o] = bias[o] + c * columnSums[o] + scale * shift[o] }
    }
    multiplyEntries(into: output)
    return true
  }

  /// The SGD step of the batch last passed forward: u −= α·c·Σ_b ∂y, S −= α·∂yᵀ·x′ and the
  /// matching σ; the caller updates the bias.
  func applySGD(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    rate: Float
  ) {
    precondition(state == .engaged, "no engaged sparse epoch")
    if entriesInput != input || entriesBatchSize != batchSize {
      precondition(rows == nil, "applySGD for a batch other than the one last passed forward")
      takeEntries(input, batchSize: batchSize)
    }
    let c = background
    let (outputs, shift, columnSums, scaledGradient) = (outputs, shift, columnSums, scaledGradient)
    // Sample by sample, so that the loops over the outputs are contiguous (and vectorise):
    // u −= α·c·∂y_b and σ −= α·(Σ x′_b)·∂y_b for each sample b.
    for b in 0..<batchSize {
      let gradient = outputGradient + b * outputs
      let scaled = scaledGradient + b * outputs
      let shiftScale = -rate * c
      let sumScale = -rate * entrySums[b]
      for o in 0..<outputs {
        let g = gradient[o]
        scaled[o] = -rate * g
        shift[o] += shiftScale * g
        columnSums[o] += sumScale * g
      }
    }
    updateEntries()
  }

  /// Lists the batch's entries off its background c, sample by sample and then input by input:
  /// c is the first input of the first sample (0 when that is not finite); inputs are compared
  /// bit for bit, so NaN and ±∞ are entries.
  private func takeEntries(_ input: UnsafePointer<Float>, batchSize: Int) {
    let first = input[0]
    background = first.isFinite ? first : 0
    let c = background
    let backgroundBits = c.bitPattern
    let blockBackground = SIMD16<UInt32>(repeating: backgroundBits)
    let inputs = inputs
    let counts = columnCursors
    let indices = rowInputs
    let values = rowValues
    counts.update(repeating: 0, count: inputs)
    let lanes = 16
    let vectorEnd = inputs - inputs % lanes
    // 1. Sample by sample: each block of 16 inputs gives a bit mask of its entries, and only the
    //    set bits are visited (a digit covers ~150 of 1,024 inputs).
    var laneBits = SIMD16<UInt32>()
    for lane in 0..<lanes { laneBits[lane] = 1 << UInt32(lane) }
    let none = SIMD16<UInt32>(repeating: 0)
    var n = 0
    rowStarts[0] = 0
    for b in 0..<batchSize {
      let row = input + b * inputs
      let raw = UnsafeRawPointer(row)
      var i = 0
      while i < vectorEnd {
        let bits = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
        let differs = bits .!= blockBackground
        if any(differs) {
          var mask = none.replacing(with: laneBits, where: differs).wrappedSum()
          while mask != 0 {
            let j = i &+ mask.trailingZeroBitCount
            indices[n] = Int32(truncatingIfNeeded: j)
            values[n] = row[j] - c
            counts[j] &+= 1
            n &+= 1
            mask &= mask &- 1
          }
        }
        i += lanes
      }
      while i < inputs {
        let value = row[i]
        if value.bitPattern != backgroundBits {
          indices[n] = Int32(truncatingIfNeeded: i)
          values[n] = value - c
          counts[i] &+= 1
          n &+= 1
        }
        i += 1
      }
      entrySums[b] = laneSum(values + rowStarts[b], count: n - rowStarts[b])
      rowStarts[b + 1] = n
    }
    // 2. Input by input (a counting sort on the input index, stable in the sample).
    openColumns()
    for b in 0..<batchSize {
      placeEntries(
        of: b, indices: indices + rowStarts[b], values: values + rowStarts[b],
        count: rowStarts[b + 1] - rowStarts[b])
    }
    entryCount = n
    entriesInput = input
    entriesBatchSize = batchSize
  }

  /// Lists the entries of the batch of `samples` from their listing in `rows` (x′ relative to
  /// the rows' background), input by input: the counting sort of
  /// ``takeEntries(_:batchSize:)``, without the scan.
  private func takeEntries(_ rows: SparseRows, samples: UnsafeBufferPointer<Int>) {
    let inputs = inputs
    let counts = columnCursors
    counts.update(repeating: 0, count: inputs)
    var n = 0
    let sums = rows.sums
    rows.starts.withUnsafeBufferPointer { starts in
      rows.inputs.withUnsafeBufferPointer { indices in
        rows.values.withUnsafeBufferPointer { values in
          for (b, s) in samples.enumerated() {
            let first = starts[s]
            let last = starts[s + 1]
            for e in first..<last { counts[Int(indices[e])] &+= 1 }
            entrySums[b] = sums[s]
            n &+= last &- first
          }
          openColumns()
          for (b, s) in samples.enumerated() {
            let first = starts[s]
            placeEntries(
              of: b, indices: indices.baseAddress! + first, values: values.baseAddress! + first,
              count: starts[s + 1] - first)
          }
        }
      }
    }
    entryCount = n
    entriesBatchSize = samples.count
  }

  /// Turns the per-input entry counts (in `columnCursors`) into the columns' starts, each
  /// input's next free slot and the list of inputs with entries.
  private func openColumns() {
    let counts = columnCursors
    var active = 0
    var offset = 0
    for i in 0..<inputs {
      let count = counts[i]
      columnStarts[i] = offset
      counts[i] = offset
      if count > 0 {
        activeColumns[active] = Int32(truncatingIfNeeded: i)
        active += 1
        offset += count
      }
    }
    columnStarts[inputs] = offset
    activeCount = active
  }

  /// Puts sample `b`'s `count` entries (input indices and x′ values) into their columns, after
  /// those of the samples placed before it.
  @inline(__always)
  private func placeEntries(
    of b: Int, indices: UnsafePointer<Int32>, values: UnsafePointer<Float>, count: Int
  ) {
    let (cursors, entrySamples, entryValues) = (columnCursors, entrySamples, entryValues)
    let sample = Int32(truncatingIfNeeded: b)
    for e in 0..<count {
      let i = Int(indices[e])
      let slot = cursors[i]
      entrySamples[slot] = sample
      entryValues[slot] = values[e]
      cursors[i] = slot &+ 1
    }
  }

  /// S = Wᵀ, u = 0, σ = Σ_i S[i, :] in the same pass.
  private func engage() {
    guard let weight = parameters else { preconditionFailure("no open epoch") }
    if !hasStorage {
      stored.deallocate()
      stored = .allocate(capacity: inputs * outputs)
      hasStorage = true
    }
    let (inputs, outputs, stored, columnSums) = (inputs, outputs, stored, columnSums)
    shift.update(repeating: 0, count: outputs)
    columnSums.update(repeating: 0, count: outputs)
    // σ is summed while transposing (each output's inputs in ascending order, as a pass over
    // S would), so S is not read again.
    forEachWeightBlock { range, block in
      for o in range {
        let row = weight + o &* inputs
        var sum = columnSums[o]
        for i in block {
          let value = row[i]
          stored[i &* outputs &+ o] = value
          sum += value
        }
        columnSums[o] = sum
      }
    }
    state = .engaged
  }

  /// y[b, :] += x′_{b,i} · S[i, :] for every entry, input by input:
  /// each row of S is read once (into registers, 64 outputs at a time) and the batch's outputs,
  /// which stay in L1, take the adds.
  private func multiplyEntries(into output: UnsafeMutablePointer<Float>) {
    let (outputs, stored, entrySamples, entryValues) = (outputs, stored, entrySamples, entryValues)
    for a in 0..<activeCount {
      let i = Int(activeColumns[a])
      let first = columnStarts[i]
      let last = columnStarts[i + 1]
      let source = stored + i &* outputs
      var o = addEntryProducts(
        of: source, outputs: outputs, into: output, samples: entrySamples, values: entryValues,
        entries: first..<last)
      while o < outputs {
        let w = source[o]
        for e in first..<last {
          output[Int(entrySamples[e]) * outputs + o] += entryValues[e] * w
        }
        o += 1
      }
    }
  }

  /// S[i, :] += Σ_b x′_{b,i} · (−α·∂y_b) for every input with entries:
  /// each row of S is read and written once, the batch's scaled gradients stay in L1.
  private func updateEntries() {
    let lanes = 16
    let gradient = scaledGradient
    let (outputs, stored, entrySamples, entryValues) = (outputs, stored, entrySamples, entryValues)
    for a in 0..<activeCount {
      let i = Int(activeColumns[a])
      let first = columnStarts[i]
      let last = columnStarts[i + 1]
      let target = stored + i &* outputs
      var o = 0
      while o + 4 * lanes <= outputs {
        var s0 = loadLanes(target + o)
        var s1 = loadLanes(target + o + lanes)
        var s2 = loadLanes(target + o + 2 * lanes)
        var s3 = loadLanes(target + o + 3 * lanes)
        for e in first..<last {
          let row = gradient + (Int(entrySamples[e]) &* outputs &+ o)
          let value = entryValues[e]
          s0 = s0.addingProduct(value, loadLanes(row))
          s1 = s1.addingProduct(value, loadLanes(row + lanes))
          s2 = s2.addingProduct(value, loadLanes(row + 2 * lanes))
          s3 = s3.addingProduct(value, loadLanes(row + 3 * lanes))
        }
        storeLanes(s0, target + o)
        storeLanes(s1, target + o + lanes)
        storeLanes(s2, target + o + 2 * lanes)
        storeLanes(s3, target + o + 3 * lanes)
        o += 4 * lanes
      }
      while o + lanes <= outputs {
        var sum = loadLanes(target + o)
        for e in first..<last {
          sum = sum.addingProduct(entryValues[e], loadLanes(gradient + Int(entrySamples[e]) * outputs + o))
        }
        storeLanes(sum, target + o)
        o += lanes
      }
      while o < outputs {
        var sum = target[o]
        for e in first..<last {
          sum += entryValues[e] * gradient[Int(entrySamples[e]) * outputs + o]
        }
        target[o] = sum
        o += 1
      }
    }
  }
}

/// Σ values[0..<count], 16 lanes at a time (in this order wherever sums must agree bit for bit).
@inline(__always)
func laneSum(_ values: UnsafePointer<Float>, count: Int) -> Float {
  var lanes = SIMD16<Float>(repeating: 0)
  var i = 0
  while i + 16 <= count {
    lanes += loadLanes(values + i)
    i += 16
  }
  var total = lanes.sum()
  while i < count {
    total += values[i]
    i += 1
  }
  return total
}
