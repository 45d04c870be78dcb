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
/// Prepared by ``Network/prepareListedForward(parameters:rows:reusing:)`` and read by
/// ``Network/forward(listed:samples:weights:parameters:)``.
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
    let lanes = 16
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
                var o = 0
                while o + 4 * lanes <= outputs {
                  let w0 = load(source + o)
                  let w1 = load(source + o + lanes)
                  let w2 = load(source + o + 2 * lanes)
                  let w3 = load(source + o + 3 * lanes)
                  for e in head..<tail {
                    let row = y + (Int(samples[e]) &* outputs &+ o)
                    let value = values[e]
                    store(load(UnsafePointer(row)).addingProduct(value, w0), row)
                    store(load(UnsafePointer(row + lanes)).addingProduct(value, w1), row + lanes)
                    store(load(UnsafePointer(row + 2 * lanes)).addingProduct(value, w2), row + 2 * lanes)
                    store(load(UnsafePointer(row + 3 * lanes)).addingProduct(value, w3), row + 3 * lanes)
                  }
                  o += 4 * lanes
                }
                while o + lanes <= outputs {
                  let w = load(source + o)
                  for e in head..<tail {
                    let row = y + (Int(samples[e]) &* outputs &+ o)
                    store(load(UnsafePointer(row)).addingProduct(values[e], w), row)
                  }
                  o += lanes
                }
                while o < outputs {
                  let w = source[o]
                  for e in head..<tail {
                    let index = Int(samples[e]) &* outputs &+ o
                    y[index] = y[index].addingProduct(values[e], w)
                  }
                  o += 1
                }
              }
            }
          }
        }
      }
    }
  }
}

@inline(__always)
private func load(_ pointer: UnsafePointer<Float>) -> SIMD16<Float> {
  UnsafeRawPointer(pointer).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
private func store(_ value: SIMD16<Float>, _ pointer: UnsafeMutablePointer<Float>) {
  UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD16<Float>.self)
}
