import CoLearnTensor
import CoLearnTestSupport
import Testing

/// `count` values drawn from `distinct` multiples of `step` around 0 (few distinct values force
/// ties in every digit of the selection).
private func steppedValues(
  count: Int, distinct: Int, step: Float, using generator: inout SeededGenerator
) -> [Float] {
  (0..<count).map { _ in Float(Int(generator.next() % UInt64(distinct)) - distinct / 2) * step }
}

@Suite struct MagnitudeSelectionTests {
  /// The reference: a stable sort by decreasing magnitude, then the first k indices sorted.
  func reference(_ values: [Float], k: Int) -> [Int32] {
    let order = values.indices.sorted { a, b in
      abs(values[a]) != abs(values[b]) ? abs(values[a]) > abs(values[b]) : a < b
    }
    return order.prefix(k).sorted().map { Int32($0) }
  }

  func select(_ values: [Float], k: Int) -> [Int32] {
    var selector = MagnitudeSelector()
    var out = [Int32](repeating: -1, count: k)
    values.withUnsafeBufferPointer { v in
      out.withUnsafeMutableBufferPointer { selector.selectLargest(v, k: k, into: $0.baseAddress!) }
    }
    return out
  }

  @Test func everyKOnSmallVectorsWithTiesZerosAndSigns() {
    let vectors: [[Float]] = [
      [0, 0, 0, 0],
      [1, -1, 1, -1, 0.5],
      [3, -2, 0, 2, -3, 1e-30, -0.0, 7],
      [.leastNonzeroMagnitude, -.leastNonzeroMagnitude, 0, 1e-45, .greatestFiniteMagnitude],
      [1.0000001, 1, 0.99999994, -1.0000001],
    ]
    for values in vectors {
      for k in 1...values.count {
        #expect(select(values, k: k) == reference(values, k: k), "k=\(k) of \(values)")
      }
    }
  }

  @Test func randomVectorsAgainstSortReference() {
    var generator = SeededGenerator(seed: 42)
    for trial in 0..<30 {
      let n = 1 + Int(generator.next() % 3000)
      // Few distinct values in some trials, to force ties across all three digits.
      let distinct = trial % 3 == 0 ? 5 : 1_000_000
      let values = steppedValues(count: n, distinct: distinct, step: 0.001, using: &generator)
      for k in [1, n / 3 + 1, n] {
        #expect(select(values, k: k) == reference(values, k: k))
      }
    }
  }
}

@Suite struct MagnitudeSelectionSharesTests {
  /// Selections split over 2 and 3 shares (small shares, so that short vectors split) equal the
  /// one-share selection, including ties across share boundaries and a tail that is not a whole
  /// block of 16.
  @Test(arguments: [2, 3])
  func sharesGiveTheSameSelection(width: Int) {
    var generator = SeededGenerator(seed: 7)
    for trial in 0..<40 {
      let n = 40 + Int(generator.next() % 5000)
      let distinct = trial % 2 == 0 ? 7 : 1_000_000
      let values = steppedValues(count: n, distinct: distinct, step: 0.01, using: &generator)
      for k in [1, n / 10 + 1, n / 2, n] {
        var one = MagnitudeSelector()
        var split = MagnitudeSelector()
        var expected = [Int32](repeating: -1, count: k)
        var actual = [Int32](repeating: -2, count: k)
        values.withUnsafeBufferPointer { v in
          expected.withUnsafeMutableBufferPointer {
            one.selectLargest(v, k: k, into: $0.baseAddress!)
          }
          actual.withUnsafeMutableBufferPointer {
            split.selectLargest(v, k: k, into: $0.baseAddress!, width: width, minimumPerShare: 16)
          }
        }
        #expect(actual == expected, "n=\(n) k=\(k) trial \(trial)")
      }
    }
  }
}
