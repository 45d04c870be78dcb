import CoLearnTensor

/// ``Linear``'s path for inference (evaluation, prediction) as the first layer of a network
/// whose samples are listed as their entries off one background value (``SparseRows``): only
/// those entries are multiplied.
///
/// With x = c·1 + x′ (c the rows' background, x′ about 150 of 1,024 entries for a padded MNIST
/// digit), exactly
///
///     y = (b + c·W·1) + Wᵀ-rows of x′'s entries, scaled and summed
///
/// so a model is prepared once (``prepare(weight:bias:background:)``: Wᵀ into a [inputs, outputs]
/// store and the shifted bias b + c·W·1) and every sample then costs one contiguous row of Wᵀ per
/// entry instead of the whole of W. For mnist-mlp's 1024→128 layer that is about 19,000
/// multiply–adds per digit instead of 131,000; Wᵀ (512 KiB) stays in a core's L2 cache.
///
/// The sums are the dense product's regrouped (the background column sums first, then the
/// entries in ascending input order), so outputs agree with the dense layer to rounding, not bit
/// for bit; each sample's sum has a fixed order, so results do not depend on the batching or on
/// which core computed them. A non-finite entry gives non-finite outputs of its sample only.
///
/// Prepared by ``Network/prepareListedForward(parameters:rows:reusing:)`` (or
/// ``Network/prepareSparseForward(parameters:background:reusing:)``) and read by
/// ``Network/forward(listed:samples:weights:parameters:)``, or, for one pass over samples that
/// are not listed, by ``Network/forward(features:batchSize:weights:parameters:)``, which finds
/// each chunk's entries as it reads it (the listing and its sort cost about twice the products,
/// which one pass does not win back). The listed path's products are
/// ``addEntryProducts(of:outputs:into:samples:values:entries:)``, shared with training's
/// ``SparseInputEpoch``; the one-pass path has its own loop (a sample's outputs held in
/// registers), with the same order and rounding.
///
/// Threading: prepared on one thread, then read by any number of networks on any threads at
/// once (the evaluator's cores share one copy, so that the cores, which may share a cache, hold
/// Wᵀ once), until it is prepared again.
public final class SparseInputInference: @unchecked Sendable {
  private let inputs: Int
  private let outputs: Int
  /// Wᵀ: [inputs, outputs]; allocated on first use.
  private var transposed: UnsafeMutablePointer<Float>
  private var hasStorage = false
  /// b + c·W·1: [outputs].
  private let shiftedBias: UnsafeMutablePointer<Float>
  /// The weights the store was prepared from.
  private(set) var preparedWeight: UnsafePointer<Float>?
  /// c, the background the store was prepared for.
  private(set) var background: Float = 0
  /// The layer's input and output counts.
  var shape: (inputs: Int, outputs: Int) { (inputs, outputs) }

  init(inputs: Int, outputs: Int) {
    self.inputs = inputs
    self.outputs = outputs
    transposed = .allocate(capacity: 0)
    shiftedBias = .allocate(capacity: outputs)
  }

  deinit {
    transposed.deallocate()
    shiftedBias.deallocate()
  }

  /// Stores Wᵀ and b + c·W·1 for `weight` ([outputs, inputs]) and `bias` ([outputs]): one pass
  /// over W, blocked by 16 inputs so that W's rows and Wᵀ's rows are both touched a cache line
  /// at a time.
  func prepare(weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, background: Float) {
    if !hasStorage {
      transposed.deallocate()
      transposed = .allocate(capacity: inputs * outputs)
      hasStorage = true
    }
    let (inputs, outputs, transposed) = (inputs, outputs, transposed)
    var start = 0
    while start < inputs {
      let end = min(start + 16, inputs)
      for o in 0..<outputs {
        let row = weight + o &* inputs
        for i in start..<end { transposed[i &* outputs &+ o] = row[i] }
      }
      start = end
    }
    for o in 0..<outputs {
      shiftedBias[o] = bias[o] + background * laneSum(weight + o * inputs, count: inputs)
    }
    preparedWeight = weight
    self.background = background
  }

  /// y for the samples of batch `batch` of `listed` ([batch size, outputs]), chunk by chunk:
  /// every row of Wᵀ a chunk touches is read once into registers (64 outputs at a time) and
  /// added, scaled, into the outputs of the chunk's samples that have that input, which stay in
  /// L1. Reading Wᵀ row by row for each sample instead was about 2× slower: every entry then
  /// fetches its 512-byte row from L2. Each output is b + c·W·1 plus its sample's entries in
  /// ascending input order, whatever the chunking.
  func forward(listed: ListedBatches, batch: Int, into output: UnsafeMutablePointer<Float>) {
    precondition(preparedWeight != nil, "SparseInputInference.forward before prepare")
    precondition(listed.sampleSize == inputs, "rows of \(listed.sampleSize) values for \(inputs) inputs")
    let (inputs, outputs, transposed, base) = (inputs, outputs, transposed, UnsafePointer(shiftedBias))
    let batchStart = listed.batches[batch].start
    listed.columnStarts.withUnsafeBufferPointer { columnStarts in
      listed.activeColumns.withUnsafeBufferPointer { activeColumns in
        listed.entrySamples.withUnsafeBufferPointer { samples in
          listed.entryValues.withUnsafeBufferPointer { values in
            for c in listed.batchChunks[batch]..<listed.batchChunks[batch + 1] {
              let first = listed.chunkStarts[c]
              let y = output + (first - batchStart) &* outputs
              for b in 0..<(listed.chunkStarts[c + 1] - first) {
                (y + b &* outputs).update(from: base, count: outputs)
              }
              let starts = columnStarts.baseAddress! + c &* (inputs + 1)
              for a in listed.activeStarts[c]..<listed.activeStarts[c + 1] {
                let i = Int(activeColumns[a])
                let (head, tail) = (starts[i], starts[i + 1])
                let source = UnsafePointer(transposed + i &* outputs)
                addAllEntryProducts(
                  of: source, outputs: outputs, into: y, samples: samples.baseAddress!,
                  values: values.baseAddress!, entries: head..<tail)
              }
            }
          }
        }
      }
    }
  }

  /// y for `batchSize` samples of `input` ([batchSize, inputs], not listed) in one pass: the
  /// sums of ``forward(listed:batch:into:)``, with each chunk's entries off the background
  /// found as it is read instead of listed and sorted beforehand. A chunk of up to
  /// ``ListedBatches/chunkSamples`` samples is read twice: once sample by sample, each block of
  /// 16 inputs giving a bit mask of its entries (``offBackgroundMask(_:background:)``), then
  /// by groups of 64 inputs (4 blocks), the group's 64 rows of Wᵀ (32 KiB for 128 outputs)
  /// staying in L1 while each sample with entries in the group adds them, scaled, into its
  /// outputs, which it holds in registers 64 at a time
  /// (``addGroupEntryProducts(rows:outputs:mask:values:background:into:)``).
  /// Each output is b + c·W·1 plus its sample's entries in ascending input order, one fused
  /// multiply–add each, as on the listed path: the same bits as ``forward(listed:batch:into:)``
  /// on these samples listed with background c.
  ///
  /// Returns false when a chunk has more than `maximumDensity` of its values off the
  /// background (then `output` holds nothing useful, and the dense product is faster).
  func forward(
    features input: UnsafePointer<Float>, batchSize: Int, into output: UnsafeMutablePointer<Float>,
    maximumDensity: Double
  ) -> Bool {
    precondition(preparedWeight != nil, "SparseInputInference.forward before prepare")
    let lanes = 16
    let chunk = ListedBatches.chunkSamples
    let (inputs, outputs, transposed, base) = (inputs, outputs, transposed, UnsafePointer(shiftedBias))
    let blocks = (inputs + lanes - 1) / lanes
    // A sample's masks, padded to whole groups of 4 blocks (64 inputs) with empty ones.
    let groups = (blocks + 3) / 4
    let stride = 4 * groups
    let masks = UnsafeMutablePointer<UInt16>.allocate(capacity: chunk * stride)
    masks.initialize(repeating: 0, count: chunk * stride)
    defer { masks.deallocate() }
    let c = background
    let backgroundBits = c.bitPattern
    let blockBackground = SIMD16<UInt32>(repeating: backgroundBits)
    let wholeBlocks = inputs / lanes
    var first = 0
    while first < batchSize {
      let count = min(chunk, batchSize - first)
      let x = input + first &* inputs
      let y = output + first &* outputs
      // 1. Sample by sample, the masks of the entries off c (bits compared, so NaN and ±∞ are
      //    entries), counted for the density.
      var entries = 0
      for b in 0..<count {
        let row = x + b &* inputs
        let raw = UnsafeRawPointer(row)
        let rowMasks = masks + b &* stride
        for k in 0..<wholeBlocks {
          let mask = offBackgroundMask(raw + 4 &* lanes &* k, background: blockBackground)
          rowMasks[k] = mask
          entries &+= mask.nonzeroBitCount
        }
        if wholeBlocks < blocks {
          var mask: UInt16 = 0
          for j in 0..<(inputs - wholeBlocks * lanes)
          where row[wholeBlocks * lanes + j].bitPattern != backgroundBits {
            mask |= 1 << UInt16(j)
          }
          rowMasks[wholeBlocks] = mask
          entries &+= mask.nonzeroBitCount
        }
      }
      guard Double(entries) <= maximumDensity * Double(count * inputs) else { return false }
      for b in 0..<count { (y + b &* outputs).update(from: base, count: outputs) }
      // 2. By groups of 64 inputs (their rows of Wᵀ stay in L1), sample by sample: the
      //    sample's entries in the group, in input order.
      for g in 0..<groups {
        let rows = UnsafePointer(transposed + g &* 64 &* outputs)
        for b in 0..<count {
          let mask = UnsafeRawPointer(masks + (b &* stride &+ 4 &* g))
            .loadUnaligned(as: UInt64.self)
          guard mask != 0 else { continue }
          addGroupEntryProducts(
            rows: rows, outputs: outputs, mask: mask, values: x + (b &* inputs &+ g &* 64),
            background: c, into: y + b &* outputs)
        }
      }
      first += count
    }
    return true
  }
}

/// The entries of one sample in one group of 64 inputs (bit j of `mask`: input j of the group,
/// value `values[j]`) add (`values[j]` − c) · row j of `rows` to the sample's outputs `y`, in
/// ascending j, each a fused multiply–add per output: the order and rounding of
/// ``addAllEntryProducts(of:outputs:into:samples:values:entries:)`` input by input. The outputs
/// stay in registers 64 (then 16) at a time while the group's rows, which the caller keeps in
/// L1 for a chunk's samples, are read; the products input by input instead store every output
/// once per entry, and need the entries gathered into lists first.
@inline(__always)
private func addGroupEntryProducts(
  rows: UnsafePointer<Float>, outputs: Int, mask: UInt64, values: UnsafePointer<Float>,
  background c: Float, into y: UnsafeMutablePointer<Float>
) {
  let lanes = 16
  var o = 0
  while o + 4 * lanes <= outputs {
    var a0 = loadLanes(y + o)
    var a1 = loadLanes(y + o + lanes)
    var a2 = loadLanes(y + o + 2 * lanes)
    var a3 = loadLanes(y + o + 3 * lanes)
    var bits = mask
    while bits != 0 {
      let j = bits.trailingZeroBitCount
      let value = values[j] - c
      let w = rows + (j &* outputs &+ o)
      a0 = a0.addingProduct(value, loadLanes(w))
      a1 = a1.addingProduct(value, loadLanes(w + lanes))
      a2 = a2.addingProduct(value, loadLanes(w + 2 * lanes))
      a3 = a3.addingProduct(value, loadLanes(w + 3 * lanes))
      bits &= bits &- 1
    }
    storeLanes(a0, y + o)
    storeLanes(a1, y + o + lanes)
    storeLanes(a2, y + o + 2 * lanes)
    storeLanes(a3, y + o + 3 * lanes)
    o += 4 * lanes
  }
  while o + lanes <= outputs {
    var a = loadLanes(y + o)
    var bits = mask
    while bits != 0 {
      let j = bits.trailingZeroBitCount
      a = a.addingProduct(values[j] - c, loadLanes(rows + (j &* outputs &+ o)))
      bits &= bits &- 1
    }
    storeLanes(a, y + o)
    o += lanes
  }
  while o < outputs {
    var sum = y[o]
    var bits = mask
    while bits != 0 {
      let j = bits.trailingZeroBitCount
      sum = sum.addingProduct(values[j] - c, rows[j &* outputs &+ o])
      bits &= bits &- 1
    }
    y[o] = sum
    o += 1
  }
}
