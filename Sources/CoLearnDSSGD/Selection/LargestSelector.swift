import CoLearnTensor

/// `largest`: exactly the k entries with the largest |Δw|, ties to the lower index; selection is
/// by the unbounded |Δw|, and the chosen values are then bounded (SPEC §6).
///
/// - Complexity: O(|w|) (radix selection, ``MagnitudeSelector``), no sort; on `--threads` cores
///   (``BLAS/threadCount``).
public struct LargestSelector: UpdateSelector {
  private var selector = MagnitudeSelector()

  public init() {}

  public mutating func select<G: RandomNumberGenerator>(
    from delta: UnsafeBufferPointer<Float>, count k: Int, bound gamma: Float?,
    using generator: inout G
  ) -> SparseVector {
    let k = min(k, delta.count)
    guard k > 0 else { return SparseVector() }
    var indices = [Int32](repeating: 0, count: k)
    indices.withUnsafeMutableBufferPointer { out in
      selector.selectLargest(delta, k: k, into: out.baseAddress!, width: BLAS.threadCount)
    }
    let values = indices.map { bound(delta[Int($0)], gamma: gamma) }
    return SparseVector(indices: indices, values: values)
  }
}
