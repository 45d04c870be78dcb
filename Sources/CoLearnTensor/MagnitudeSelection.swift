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
  /// Per share of a parallel selection: its definite and candidate counts.
  private var shareCounts: [Int] = []

  public init() {}

  /// Writes the indices of the `k` largest magnitudes of `values`, in increasing index order,
  /// into `indices` (which must hold k entries).
  ///
  /// - Parameters:
  ///   - width: cores to use (through ``WorkerPool/shared``): the two passes over all n values
  ///     split into contiguous ranges, each with its own histograms and output region, joined
  ///     in index order; the result is the same whatever the width.
  ///   - minimumPerShare: values per core below which fewer cores are used (a hand-off costs
  ///     about as much as a pass over a few thousand values).
  public mutating func selectLargest(
    _ values: UnsafeBufferPointer<Float>, k: Int, into indices: UnsafeMutablePointer<Int32>,
    width: Int = 1, minimumPerShare: Int = 16_384
  ) {
    let n = values.count
    precondition(k >= 1 && k <= n, "k = \(k) outside 1...\(n)")
    precondition(n <= Int(Int32.max), "selection over more than 2³¹ values")
    let shares = max(1, min(width, WorkerPool.shared.maximumWidth, n / max(minimumPerShare, 1)))
    if candidateIndices.count < n {
      candidateIndices = [Int32](repeating: 0, count: n)
      candidateBits = [UInt32](repeating: 0, count: n)
      definite = [Int32](repeating: 0, count: n)
      chosen = [Int32](repeating: 0, count: n)
    }
    if histograms.count < shares * Self.histogramStride {
      histograms = [UInt32](repeating: 0, count: shares * Self.histogramStride)
    }
    if shareCounts.count < 2 * shares {
      shareCounts = [Int](repeating: 0, count: 2 * shares)
    }
    let bits = UnsafeRawBufferPointer(values).bindMemory(to: UInt32.self).baseAddress!
    // Share s covers [bounds(s), bounds(s + 1)): whole blocks of 16 except the last share's tail.
    let blocks = n / Self.lanes
    func bounds(_ share: Int) -> Int {
      share == shares ? n : blocks * share / shares * Self.lanes
    }

    // 1. Top digit (bits 30…20), one set of histograms per share, summed into the first.
    let (bucket, remaining) = histograms.withUnsafeMutableBufferPointer { h in
      let base = h.baseAddress!
      WorkerPool.shared.run(width: shares) { share in
        Self.countTopDigits(
          bits, from: bounds(share), to: bounds(share + 1),
          into: base + share * Self.histogramStride)
      }
      for share in 0..<shares {
        let part = base + share * Self.histogramStride
        let first = share == 0 ? 1 : 0
        for copy in first..<4 {
          let histogram = part + copy * 2048
          for b in 0..<2048 { base[b] &+= histogram[b] }
        }
      }
      return Self.descend(base, from: 2047, remaining: k)
    }

    // 2. Everything above the bucket is selected; the bucket's members become candidates. Each
    // share writes from its own start (it writes at most as many entries as it reads), then the
    // shares' lists are moved together, in index order.
    let top = UInt32(bucket)
    var definiteCount = 0
    var candidateCount = 0
    definite.withUnsafeMutableBufferPointer { out in
      candidateIndices.withUnsafeMutableBufferPointer { ci in
        candidateBits.withUnsafeMutableBufferPointer { cb in
          shareCounts.withUnsafeMutableBufferPointer { counts in
            let out = out.baseAddress!
            let ci = ci.baseAddress!
            let cb = cb.baseAddress!
            let counts = counts.baseAddress!
            WorkerPool.shared.run(width: shares) { share in
              let start = bounds(share)
              (counts[2 * share], counts[2 * share + 1]) = Self.collect(
                bits, from: start, to: bounds(share + 1), top: top,
                definite: out + start, candidates: ci + start, candidateBits: cb + start)
            }
            for share in 0..<shares {
              let start = bounds(share)
              let (d, c) = (counts[2 * share], counts[2 * share + 1])
              if start != definiteCount {
                (out + definiteCount).update(from: out + start, count: d)
              }
              if start != candidateCount {
                (ci + candidateCount).update(from: ci + start, count: c)
                (cb + candidateCount).update(from: cb + start, count: c)
              }
              definiteCount += d
              candidateCount += c
            }
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

  /// Values per SIMD block in the collecting pass.
  private static let lanes = 16
  /// One share's four top-digit histograms.
  private static let histogramStride = 4 * 2048

  /// Fills the four histograms at `histograms` (zeroing them first) with the top digits of
  /// |values[start..<end]|: four interleaved histograms, so that runs of values in the same
  /// bucket do not serialise on one counter.
  private static func countTopDigits(
    _ bits: UnsafePointer<UInt32>, from start: Int, to end: Int,
    into histograms: UnsafeMutablePointer<UInt32>
  ) {
    histograms.update(repeating: 0, count: histogramStride)
    var i = start
    while i + 4 <= end {
      histograms[Int((bits[i] & 0x7FFF_FFFF) >> 20)] &+= 1
      histograms[2048 + Int((bits[i + 1] & 0x7FFF_FFFF) >> 20)] &+= 1
      histograms[4096 + Int((bits[i + 2] & 0x7FFF_FFFF) >> 20)] &+= 1
      histograms[6144 + Int((bits[i + 3] & 0x7FFF_FFFF) >> 20)] &+= 1
      i += 4
    }
    while i < end {
      histograms[Int((bits[i] & 0x7FFF_FFFF) >> 20)] &+= 1
      i += 1
    }
  }

  /// Writes the indices in start..<end whose top digit is above `top` to `definite`, and those
  /// whose top digit equals it (index and magnitude bits) to `candidates`/`candidateBits`, in
  /// index order.
  /// - Returns: the number of each written.
  private static func collect(
    _ bits: UnsafePointer<UInt32>, from start: Int, to end: Int, top: UInt32,
    definite out: UnsafeMutablePointer<Int32>, candidates ci: UnsafeMutablePointer<Int32>,
    candidateBits cb: UnsafeMutablePointer<UInt32>
  ) -> (definite: Int, candidates: Int) {
    // Blocks of 16 with no member at or above the bucket are skipped (most of them at a small
    // θ); inside the others the stores are branch-free: a value passes with probability ~θ, at
    // random, so a branch would mispredict on most passing values.
    var definiteCount = 0
    var candidateCount = 0
    let topDigits = SIMD16<UInt32>(repeating: top)
    let magnitude = SIMD16<UInt32>(repeating: 0x7FFF_FFFF)
    let raw = UnsafeRawPointer(bits)
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
    var i = start
    while i + lanes <= end {
      let block = raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<UInt32>.self)
      if any((block & magnitude) &>> 20 .>= topDigits) {
        for j in i..<(i + lanes) { visit(j) }
      }
      i += lanes
    }
    while i < end {
      visit(i)
      i += 1
    }
    return (definiteCount, candidateCount)
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
