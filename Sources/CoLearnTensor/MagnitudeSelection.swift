/// Exact top-k selection by magnitude in O(n): the positions of the `k` entries with the largest
/// |x|, ties broken by the lower index (SPEC §5, §6 step 4 `largest`).
///
/// Method: radix selection on the IEEE-754 bit patterns. For non-negative floats the unsigned
/// order of the bit patterns is the numeric order, so after clearing the sign bit the k-th
/// largest |x| is found digit by digit (11 + 10 + 10 bits) with a histogram per digit. The first
/// pass reads all n values; later passes read only the candidates that share the digits found so
/// far, which are copied aside. A final in-order pass emits the indices, so they come out sorted.
///
/// - Complexity: O(n) time, at most two passes over the full input; no allocation after the
///   first use with a given n (the workspace grows once).
///
/// Threading: an instance owns its workspace and belongs to one thread at a time.
public struct MagnitudeSelector {
  private var histogram = [Int](repeating: 0, count: 2048)
  private var candidates: [UInt32] = []

  public init() {}

  /// Finds the cut for the k largest magnitudes of `values`.
  ///
  /// - Returns: `threshold`, the bit pattern of the k-th largest |x|, and `tiesToTake`, how many
  ///   of the entries whose magnitude equals it belong to the top k (the lowest-indexed ones).
  ///   Every entry with a larger magnitude belongs to the top k.
  public mutating func cut(
    _ values: UnsafeBufferPointer<Float>, k: Int
  ) -> (threshold: UInt32, tiesToTake: Int) {
    precondition(k >= 1 && k <= values.count, "k = \(k) outside 1...\(values.count)")
    let bits = UnsafeRawBufferPointer(values).bindMemory(to: UInt32.self)
    // Digit 1: bits 30…20 (bit 31 is the sign, cleared).
    var remaining = k  // how many still to take among entries matching the prefix
    histogram.withUnsafeMutableBufferPointer { h in
      h.update(repeating: 0)
      for v in bits { h[Int((v & 0x7FFF_FFFF) >> 20)] += 1 }
    }
    var bucket = 0
    (bucket, remaining) = Self.descend(histogram, buckets: 2048, remaining: remaining)
    var prefix = UInt32(bucket) << 20
    // Copy the candidates sharing digit 1.
    candidates.removeAll(keepingCapacity: true)
    for v in bits {
      let m = v & 0x7FFF_FFFF
      if m >> 20 == UInt32(bucket) { candidates.append(m) }
    }
    // Digit 2: bits 19…10.
    histogram.withUnsafeMutableBufferPointer { h in
      h.update(repeating: 0)
      for m in candidates { h[Int((m >> 10) & 0x3FF)] += 1 }
    }
    (bucket, remaining) = Self.descend(histogram, buckets: 1024, remaining: remaining)
    prefix |= UInt32(bucket) << 10
    // Digit 3: bits 9…0, among candidates matching digits 1 and 2.
    histogram.withUnsafeMutableBufferPointer { h in
      h.update(repeating: 0)
      for m in candidates where m >> 10 == prefix >> 10 { h[Int(m & 0x3FF)] += 1 }
    }
    (bucket, remaining) = Self.descend(histogram, buckets: 1024, remaining: remaining)
    prefix |= UInt32(bucket)
    return (prefix, remaining)
  }

  /// Walks the histogram from the largest bucket down to the one holding the `remaining`-th
  /// largest entry.
  /// - Returns: that bucket and how many entries to take from inside it.
  private static func descend(
    _ histogram: [Int], buckets: Int, remaining: Int
  ) -> (bucket: Int, remaining: Int) {
    var remaining = remaining
    var bucket = buckets - 1
    while histogram[bucket] < remaining {
      remaining -= histogram[bucket]
      bucket -= 1
    }
    return (bucket, remaining)
  }

  /// Writes the indices of the `k` largest magnitudes of `values`, in increasing index order,
  /// into `indices` (which must hold k entries).
  public mutating func selectLargest(
    _ values: UnsafeBufferPointer<Float>, k: Int, into indices: UnsafeMutablePointer<Int32>
  ) {
    let (threshold, tiesToTake) = cut(values, k: k)
    var ties = tiesToTake
    var written = 0
    let bits = UnsafeRawBufferPointer(values).bindMemory(to: UInt32.self)
    for (i, v) in bits.enumerated() {
      let m = v & 0x7FFF_FFFF
      if m > threshold || (m == threshold && ties > 0) {
        if m == threshold { ties -= 1 }
        indices[written] = Int32(truncatingIfNeeded: i)
        written += 1
      }
    }
    assert(written == k, "selected \(written) of \(k)")
  }
}
