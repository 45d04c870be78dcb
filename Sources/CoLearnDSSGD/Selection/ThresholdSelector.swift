import CoLearnTensor

/// `threshold`: visits the positions in a uniformly random order and takes those with
/// |bound(Δw_j, γ)| ≥ τ, until k are taken or every position was visited (SPEC §6, paper §5.2).
/// Each position is visited at most once.
///
/// - Complexity: O(|w|): the order is a lazily drawn Fisher–Yates permutation that stops as soon
///   as k entries are taken; the result is emitted in index order by a scan, not a sort.
public struct ThresholdSelector: UpdateSelector {
  /// τ.
  public let threshold: Float
  private var order: [Int32] = []
  private var taken: [Bool] = []

  /// A selector with threshold τ ≥ 0.
  public init(threshold: Float) {
    precondition(threshold >= 0 && threshold.isFinite, "threshold τ must be ≥ 0, got \(threshold)")
    self.threshold = threshold
  }

  public mutating func select<G: RandomNumberGenerator>(
    from delta: UnsafeBufferPointer<Float>, count k: Int, bound gamma: Float?,
    using generator: inout G
  ) -> SparseVector {
    let n = delta.count
    if order.count != n {
      order = (0..<n).map { Int32($0) }
      taken = [Bool](repeating: false, count: n)
    } else {
      for j in 0..<n { order[j] = Int32(j) }
    }
    var count = 0
    var visited = 0
    while visited < n && count < k {
      // Draw the next position uniformly from those not yet visited.
      let pick = visited + Int(generator.next(upperBound: UInt64(n - visited)))
      order.swapAt(visited, pick)
      let j = Int(order[visited])
      visited += 1
      if abs(bound(delta[j], gamma: gamma)) >= threshold {
        taken[j] = true
        count += 1
      }
    }
    var indices: [Int32] = []
    var values: [Float] = []
    indices.reserveCapacity(count)
    values.reserveCapacity(count)
    for j in 0..<n where taken[j] {
      indices.append(Int32(j))
      values.append(bound(delta[j], gamma: gamma))
      taken[j] = false
    }
    return SparseVector(indices: indices, values: values)
  }
}
