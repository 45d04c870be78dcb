import CoLearnTensor

/// The product kernel of the sparse first-layer paths (``SparseInputEpoch`` in training,
/// ``SparseInputInference`` in evaluation and prediction): the entries of one input i, each a
/// sample b and its value x′, add x′ · `row` to y[b, :], where `row` is row i of Wᵀ (or of the
/// epoch's S).
///
/// The row is read once, 64 outputs at a time into registers, and the outputs of the entries'
/// samples (which stay in L1) take the adds in entry order; each add is one fused multiply–add
/// per output, so a sample's sum has a fixed order whatever the batching. The SIMD loops cover
/// outputs `0..<(outputs − outputs % 16)`; the caller adds the last `outputs % 16` outputs
/// itself from the returned index (the two paths round those differently: fused at inference,
/// multiply then add in the epoch, whose bits tests and runs pin).
///
/// - Parameters:
///   - row: `outputs` values.
///   - y: the outputs of sample 0 of the entries' numbering; sample b's are at `b · outputs`.
///   - samples, values: the entries, `entries` of them used.
/// - Returns: the first output the SIMD loops left.
@inline(__always)
func addEntryProducts(
  of row: UnsafePointer<Float>, outputs: Int, into y: UnsafeMutablePointer<Float>,
  samples: UnsafePointer<Int32>, values: UnsafePointer<Float>, entries: Range<Int>
) -> Int {
  let lanes = 16
  var o = 0
  while o + 4 * lanes <= outputs {
    let w0 = loadLanes(row + o)
    let w1 = loadLanes(row + o + lanes)
    let w2 = loadLanes(row + o + 2 * lanes)
    let w3 = loadLanes(row + o + 3 * lanes)
    for e in entries {
      let target = y + (Int(samples[e]) &* outputs &+ o)
      let value = values[e]
      storeLanes(loadLanes(target).addingProduct(value, w0), target)
      storeLanes(loadLanes(target + lanes).addingProduct(value, w1), target + lanes)
      storeLanes(loadLanes(target + 2 * lanes).addingProduct(value, w2), target + 2 * lanes)
      storeLanes(loadLanes(target + 3 * lanes).addingProduct(value, w3), target + 3 * lanes)
    }
    o += 4 * lanes
  }
  while o + lanes <= outputs {
    let w = loadLanes(row + o)
    for e in entries {
      let target = y + (Int(samples[e]) &* outputs &+ o)
      storeLanes(loadLanes(target).addingProduct(values[e], w), target)
    }
    o += lanes
  }
  return o
}

/// ``addEntryProducts(of:outputs:into:samples:values:entries:)`` for every output, the last
/// `outputs % 16` fused too: the inference paths' products.
@inline(__always)
func addAllEntryProducts(
  of row: UnsafePointer<Float>, outputs: Int, into y: UnsafeMutablePointer<Float>,
  samples: UnsafePointer<Int32>, values: UnsafePointer<Float>, entries: Range<Int>
) {
  var o = addEntryProducts(
    of: row, outputs: outputs, into: y, samples: samples, values: values, entries: entries)
  while o < outputs {
    let w = row[o]
    for e in entries {
      let index = Int(samples[e]) &* outputs &+ o
      y[index] = y[index].addingProduct(values[e], w)
    }
    o += 1
  }
}
