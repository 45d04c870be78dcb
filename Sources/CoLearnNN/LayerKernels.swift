import CoLearnTensor

/// Runs `body(share, range)` over contiguous ranges of 0..<count on up to `--threads` cores
/// (``BLAS/threadCount``) through ``WorkerPool/shared``, when the work is large enough to pay
/// for the hand-off: `count × costPerItem` of at least 48K elementary operations (about 10 µs).
///
/// The element loops of a layer (activations, pooling, im2col) split this way by sample or by
/// element; every share writes a disjoint range, so no synchronisation is needed beyond the
/// join. `share` indexes per-share scratch space.
func parallelChunks(
  count: Int, costPerItem: Int, _ body: (_ share: Int, _ range: Range<Int>) -> Void
) {
  let minimumWork = 48_000
  let width = BLAS.threadCount
  let total = count * max(costPerItem, 1)
  guard width > 1, total >= 2 * minimumWork, count >= 2 else {
    if count > 0 { body(0, 0..<count) }
    return
  }
  let pool = WorkerPool.shared
  let shares = min(width, pool.maximumWidth, count, total / minimumWork)
  guard shares > 1 else {
    body(0, 0..<count)
    return
  }
  pool.run(width: shares) { share in
    let start = count * share / shares
    let end = count * (share + 1) / shares
    if start < end { body(share, start..<end) }
  }
}

/// Whether ``forEachHalf(of:splitAt:ownsItsData:_:)`` runs both halves on the calling thread:
/// `--threads 1` (``BLAS/threadCount``), or one core to run on.
var halvesRunOnOneCore: Bool { BLAS.threadCount < 2 || WorkerPool.shared.maximumWidth < 2 }

/// Runs `body` on 0..<middle and middle..<count — the two halves of a split fixed by the
/// layer's shape, not the thread count — on two cores, or one after the other on the caller
/// (``halvesRunOnOneCore``, or inside ``WorkerPool/withSharesOnCaller(keepingOwnedRegions:_:)``).
/// `ownsItsData`: see ``WorkerPool/run(width:ownsItsData:_:)``.
func forEachHalf(
  of count: Int, splitAt middle: Int, ownsItsData: Bool = false, _ body: (Range<Int>) -> Void
) {
  if halvesRunOnOneCore {
    body(0..<middle)
    body(middle..<count)
  } else {
    WorkerPool.shared.run(width: 2, ownsItsData: ownsItsData) { share in
      body(share == 0 ? 0..<middle : middle..<count)
    }
  }
}

/// target[c] += scale · Σ_r matrix[r, c] for a row-major [rows, columns] matrix: the bias
/// gradient (scale 1) or the fused bias update (scale −α) of a dense or convolutional layer.
func addColumnSums(
  of matrix: UnsafePointer<Float>, rows: Int, columns: Int, scale: Float,
  into target: UnsafeMutablePointer<Float>
) {
  for r in 0..<rows {
    let row = matrix + r * columns
    for c in 0..<columns { target[c] += scale * row[c] }
  }
}
