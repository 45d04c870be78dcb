/// Exact top-k selection by magnitude in O(n): the positions of the `k` entries with the largest
/// |x|, ties broken by the lower index (SPEC §5, §6 step 4 `largest`).
///
/// Method: radix selection on the IEEE-754 bit patterns. For non-negative floats the unsigned
/// order of the bit patterns is the numeric order, so with the sign bit cleared the k-th largest
/// |x| is found digit by digit (11 + 10 + 10 bits), one histogram per digit.
///
/// 1. One pass over all n values builds the histogram of the top digit (four interleaved
///    histograms, so that runs of values in the same bucket do not serialise on one counter),
///    which fixes the bucket B holding the k-th largest.
/// 2. One pass writes the indices of every value above B straight to the output (they
///    are all selected) and copies the (index, bits) pairs inside B aside; blocks of 16 values
///    all below B are skipped, and the stores are branch-free.
/// 3. The two lower digits are resolved on those candidates only; the chosen candidates (all
///    above the final threshold, then the lowest-indexed ties) are merged into the output, which
///    stays in increasing index order.
///
/// - Complexity: O(n) time, two passes over the full input; no allocation once the workspace has
///   grown to n (it grows on first use with a given n).
///
/// Threading: an instance owns its workspace and belongs to one thread at a time.
public struct MagnitudeSelector {
  /// 32-bit counters: the four top-digit histograms then take 32 KiB, one L1 cache.
  private var histograms = [UInt32](repeating: 0, count: 4 * 2048)
  private var candidateIndices: [Int32] = []
  private var candidateBits: [UInt32] = []
  private var definite: [Int32] = []
  private var chosen: [Int32] = []

  public init() {}

  /// Writes the indices of the `k` largest magnitudes of `values`, in increasing index order,
  /// into `indices` (which must hold k entries).
  public mutating func selectLargest(
    _ values: UnsafeBufferPointer<Float>, k: Int, into indices: UnsafeMutablePointer<Int32>
  ) {
    let n = values.count
    precondition(k >= 1 && k <= n, "k = \(k) outside 1...\(n)")
    precondition(n <= Int(Int32.max), "selection over more than 2³¹ values")
    if candidateIndices.count < n {
      candidateIndices = [Int32](repeating: 0, count: n)
      candidateBits = [UInt32](repeating: 0, count: n)
      definite = [Int32](repeating: 0, count: n)
      chosen = [Int32](repeating: 0, count: n)
    }
    let bits = UnsafeRawBufferPointer(values).bindMemory(to: UInt32.self)

    // 1. Top digit (bits 30…20).
    let (bucket, remaining) = histograms.withUnsafeMutableBufferPointer { h in
      h.update(repeating: 0)
      let base = h.baseAddress!
      var i = 0
      while i + 4 <= n {
        base[Int((bits[i] & 0x7FFF_FFFF) >> 20)] &+= 1
        base[2048 + Int((bits[i + 1] & 0x7FFF_FFFF) >> 20)] &+= 1
        base[4096 + Int((bits[i + 2] & 0x7FFF_FFFF) >> 20)] &+= 1
        base[6144 + Int((bits[i + 3] & 0x7FFF_FFFF) >> 20)] &+= 1
        i += 4
      }
      while i < n {
        base[Int((bits[i] & 0x7FFF_FFFF) >> 20)] &+= 1
        i += 1
      }
      for b in 0..<2048 { base[b] &+= base[2048 + b] &+ base[4096 + b] &+ base[6144 + b] }
      return Self.descend(base, from: 2047, remaining: k)
    }

    // 2. Everything above the bucket is selected; the bucket's members become candidates.
    let top = UInt32(bucket)
    var definiteCount = 0
    var candidateCount = 0
    definite.withUnsafeMutableBufferPointer { out in
      candidateIndices.withUnsafeMutableBufferPointer { ci in
        candidateBits.withUnsafeMutableBufferPointer { cb in
          // Blocks of 16 with no member at or above the bucket are skipped (most of them at a
          // small θ); inside the others the stores are branch-free: a value passes with
          // probability ~θ, at random, so a branch would mispredict on most passing values.
          let lanes = 16
          let topDigits = SIMD16<UInt32>(repeating: top)
          let magnitude = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
          let raw = UnsafeRawPointer(bits.baseAddress!)
          @inline(__always) func visit(_ i: Int) {
            let m = bits[i] & 0x7FFF_FFFF
            let digit = m >> 20
            let index = Int32(truncatingIfNeeded: i)
            out[definiteCount] = index
            definiteCount &+= digit > top ? 1 : 0
            ci[candidateCount] = index
            cb[candidateCount] = m
            candidateCount &+= digit == top ? 1 : 0
          }
          var i = 0
          while i + lanes <= n {
            let block = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
            if any((block & magnitude) &>> 20 .>= topDigits) {
              for j in i..<(i + lanes) { visit(j) }
            }
            i += lanes
          }
          while i < n {
            visit(i)
            i += 1
          }
        }
      }
    }

    // 3. Lower digits among the candidates, then merge both sorted lists.
    let chosenCount = chooseCandidates(count: candidateCount, take: remaining)
    definite.withUnsafeBufferPointer { d in
      chosen.withUnsafeBufferPointer { c in
        var a = 0
        var b = 0
        var written = 0
        while a < definiteCount || b < chosenCount {
          if b == chosenCount || (a < definiteCount && d[a] < c[b]) {
            indices[written] = d[a]
            a += 1
          } else {
            indices[written] = c[b]
            b += 1
          }
          written += 1
        }
        assert(written == k, "selected \(written) of \(k)")
      }
    }
  }

  /// Picks `take` of the first `count` candidates (all sharing the top digit) by their lower 20
  /// bits, ties to the lower index; writes them in index order to `chosen`.
  /// - Returns: the number written (`take`).
  private mutating func chooseCandidates(count: Int, take: Int) -> Int {
    // Digit 2 (bits 19…10) and digit 3 (bits 9…0) over the candidates.
    var prefix: UInt32 = 0
    var remaining = take
    histograms.withUnsafeMutableBufferPointer { h in
      candidateBits.withUnsafeBufferPointer { cb in
        let base = h.baseAddress!
        h.update(repeating: 0)
        for j in 0..<count { base[Int((cb[j] >> 10) & 0x3FF)] &+= 1 }
        let (second, left) = Self.descend(base, from: 1023, remaining: remaining)
        prefix = UInt32(second) << 10
        remaining = left
        for b in 0..<1024 { base[b] = 0 }
        for j in 0..<count where (cb[j] >> 10) & 0x3FF == UInt32(second) {
          base[Int(cb[j] & 0x3FF)] &+= 1
        }
        let (third, last) = Self.descend(base, from: 1023, remaining: remaining)
        prefix |= UInt32(third)
        remaining = last
      }
    }
    // Candidates above the threshold, plus the first `remaining` that equal it.
    let threshold = prefix
    var ties = remaining
    var written = 0
    chosen.withUnsafeMutableBufferPointer { out in
      candidateIndices.withUnsafeBufferPointer { ci in
        candidateBits.withUnsafeBufferPointer { cb in
          for j in 0..<count {
            let low = cb[j] & 0xF_FFFF
            if low > threshold || (low == threshold && ties > 0) {
              if low == threshold { ties -= 1 }
              out[written] = ci[j]
              written += 1
            }
          }
        }
      }
    }
    return written
  }

  /// Walks a histogram from bucket `from` down to the one holding the `remaining`-th largest
  /// entry.
  /// - Returns: that bucket and how many entries to take from inside it.
  private static func descend(
    _ histogram: UnsafeMutablePointer<UInt32>, from top: Int, remaining: Int
  ) -> (bucket: Int, remaining: Int) {
    var remaining = remaining
    var bucket = top
    while Int(histogram[bucket]) < remaining {
      remaining -= Int(histogram[bucket])
      bucket -= 1
    }
    return (bucket, remaining)
  }
}
