import CoLearnDSSGD
import CoLearnTensor
import Testing

@Suite struct SelectorTests {
  func select(_ selector: inout some UpdateSelector, _ delta: [Float], k: Int, gamma: Float?, seed: UInt64 = 1) -> SparseVector {
    var generator = SeededGenerator(seed: seed)
    return delta.withUnsafeBufferPointer { selector.select(from: $0, count: k, bound: gamma, using: &generator) }
  }

  @Test func boundClipsToGamma() {
    #expect(bound(0.5, gamma: 0.1) == 0.1)
    #expect(bound(-0.5, gamma: 0.1) == -0.1)
    #expect(bound(0.05, gamma: 0.1) == 0.05)
    #expect(bound(-7, gamma: nil) == -7)
  }

  /// `largest` against a stable sort by |Δw|, for every k, on vectors with ties, zeros, signs;
  /// selection uses the unbounded values, the upload the bounded ones.
  @Test func largestIsExactForEveryK() {
    let vectors: [[Float]] = [
      [0, 0, 0],
      [0.3, -0.3, 0.1, 0, -2],
      [1, -1, 1, -1, 0.5, 0.5, -0.5],
      [5, 0.01, -0.02, 0.02, -5, 0],
    ]
    var selector = LargestSelector()
    for delta in vectors {
      for k in 1...delta.count {
        let order = delta.indices.sorted { a, b in
          abs(delta[a]) != abs(delta[b]) ? abs(delta[a]) > abs(delta[b]) : a < b
        }
        let expected = order.prefix(k).sorted()
        let chosen = select(&selector, delta, k: k, gamma: 0.25)
        #expect(chosen.indices == expected.map { Int32($0) }, "k=\(k) \(delta)")
        #expect(chosen.values == expected.map { bound(delta[$0], gamma: 0.25) })
      }
    }
  }

  @Test func thresholdTakesEveryQualifyingEntryWhenKAllows() {
    var selector = ThresholdSelector(threshold: 0.1)
    let delta: [Float] = [0.05, -0.2, 0.1, 0, 0.3, -0.09]
    let chosen = select(&selector, delta, k: 6, gamma: nil)
    #expect(chosen.indices == [1, 2, 4])
    #expect(chosen.values == [-0.2, 0.1, 0.3])
  }

  /// The threshold is tested on the bounded value: with γ below τ nothing qualifies.
  @Test func thresholdComparesBoundedValues() {
    var selector = ThresholdSelector(threshold: 0.1)
    #expect(select(&selector, [1, -1, 0.5], k: 3, gamma: 0.05).count == 0)
    let chosen = select(&selector, [1, -1, 0.05], k: 3, gamma: 0.2)
    #expect(chosen.indices == [0, 1])
    #expect(chosen.values == [0.2, -0.2])
  }

  @Test func thresholdStopsAtKAndPicksUniformlyAmongQualifyingEntries() {
    var selector = ThresholdSelector(threshold: 0.5)
    let delta: [Float] = [1, 1, 1, 1, 0, 0, 0, 0]
    var hits = [Int](repeating: 0, count: delta.count)
    let trials = 4000
    for seed in 0..<trials {
      let chosen = select(&selector, delta, k: 2, gamma: nil, seed: UInt64(seed))
      #expect(chosen.count == 2)
      for index in chosen.indices { hits[Int(index)] += 1 }
    }
    #expect(hits[4...].allSatisfy { $0 == 0 })
    // Each of the 4 qualifying entries is taken with probability 1/2: 2000 ± 5σ (σ ≈ 32).
    for count in hits[..<4] { #expect(abs(count - trials / 2) < 160, "\(hits)") }
  }

  @Test func thresholdIsReproducibleFromTheSeed() {
    var a = ThresholdSelector(threshold: 0)
    var b = ThresholdSelector(threshold: 0)
    let delta = (0..<100).map { Float($0) }
    #expect(select(&a, delta, k: 10, gamma: nil, seed: 7) == select(&b, delta, k: 10, gamma: nil, seed: 7))
    #expect(select(&a, delta, k: 10, gamma: nil, seed: 7) != select(&b, delta, k: 10, gamma: nil, seed: 8))
  }
}
