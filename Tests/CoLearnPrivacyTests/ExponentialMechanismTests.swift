import CoLearnPrivacy
import CoLearnTensor
import Foundation
import Testing

@Suite struct ExponentialMechanismTests {
  func run(
    _ delta: [Float], count c: Int, bound gamma: Float, epsilon: Double, seed: UInt64,
    mechanism: inout ExponentialMechanism
  ) throws -> (vector: SparseVector, report: SelectionReport) {
    var noise = NoiseSource.insecureSeeded(seed)
    return try delta.withUnsafeBufferPointer { d in
      try Result { () throws(PrivacyError) in
        try mechanism.select(delta: d, count: c, bound: gamma, epsilon: epsilon, noise: &noise)
      }.get()
    }
  }

  func run(
    _ delta: [Float], count c: Int, bound gamma: Float = 0.001, epsilon: Double, seed: UInt64 = 1
  ) throws -> (vector: SparseVector, report: SelectionReport) {
    var mechanism = ExponentialMechanism()
    return try run(
      delta, count: c, bound: gamma, epsilon: epsilon, seed: seed, mechanism: &mechanism)
  }

  /// 300 distinct magnitudes (k + 1)·γ/400 in shuffled positions, with random signs: about ten
  /// utility levels (γ/4096 … γ/8192 each) apart.
  func distinctUpdate() -> [Float] {
    var generator = SeededGenerator(seed: 5)
    var ranks = Array(0..<300)
    ranks.shuffle(using: &generator)
    return ranks.map { rank in
      let sign: Float = generator.next() % 2 == 0 ? 1 : -1
      return sign * Float(rank + 1) * 0.001 / 400
    }
  }

  @Test func aHugeEpsilonPicksExactlyTheTopC() throws {
    let delta = distinctUpdate()
    let top = delta.indices.sorted { abs(delta[$0]) > abs(delta[$1]) }.prefix(10)
    let (vector, report) = try run(delta, count: 10, epsilon: 1e6)
    #expect(vector.indices == top.sorted().map { Int32($0) })
    #expect(report.uploads == 10 && report.mechanism == .exponential)
    for (index, value) in zip(vector.indices, vector.values) {
      #expect(abs(value - delta[Int(index)]) < 1e-5)  // noise scale σ(ε₂) = 1.8e-7
    }
  }

  @Test func picksAreDistinctSortedAndOnTheGrid() throws {
    let delta = distinctUpdate()
    var mechanism = ExponentialMechanism()
    for (seed, c) in [(1, 1), (2, 37), (3, 300)] as [(UInt64, Int)] {
      let (vector, report) = try run(
        delta, count: c, bound: 0.001, epsilon: 0.5, seed: seed, mechanism: &mechanism)
      #expect(vector.count == c)
      #expect(vector.validate(dimension: delta.count) == nil)  // strictly increasing: distinct
      #expect(report.epsilonSpent == 0.5 && report.epsilonChargedByUploads == 0.5)
      for value in vector.values {
        let units = Double(value) / report.gridStep
        #expect(units == units.rounded() && abs(value) <= 0.001)
      }
    }
  }

  /// One pick among utilities 1, 1/2, 0 (γ = 1, levels 4096, 2048, 0) with ε₁ = 8ε/9 = 4:
  /// P(j) ∝ exp(ε₁·u_j/(2γ)) = e², e, 1, i.e. 0.665241, 0.244728, 0.090031. χ² with 2 degrees of
  /// freedom; 13.816 is the 0.999 quantile.
  @Test func onePickFollowsTheExponentialMechanismExactly() throws {
    let n = 60_000
    let observed = try tally(count: 1, epsilon: 4.5, seed: 11, runs: n) { Int($0.indices[0]) }
    let weights = [exp(2.0), exp(1.0), 1]
    let total = weights.reduce(0, +)
    let statistic = chiSquare(observed: observed, expected: weights.map { $0 / total * Double(n) })
    #expect(statistic < 13.816, "χ² = \(statistic), observed \(observed)")
  }

  /// How often each of the outcomes 0, 1, 2 comes up in `runs` selections of `count` among
  /// Δw = (1, −0.5, 0) with γ = 1.
  func tally(
    count c: Int, epsilon: Double, seed: UInt64, runs: Int, outcome: (SparseVector) -> Int
  ) throws -> [Int] {
    let delta: [Float] = [1, -0.5, 0]
    var mechanism = ExponentialMechanism()
    var noise = NoiseSource.insecureSeeded(seed)
    var observed = [0, 0, 0]
    try delta.withUnsafeBufferPointer { d in
      for _ in 0..<runs {
        let picked = try Result { () throws(PrivacyError) in
          try mechanism.select(delta: d, count: c, bound: 1, epsilon: epsilon, noise: &noise)
        }.get()
        observed[outcome(picked.vector)] += 1
      }
    }
    return observed
  }

  /// Two picks of three without replacement, ε₁ = 8, so each pick has ε₁/2 = 4 and the same
  /// weights e², e, 1 (W = e² + e + 1 = 11.107):
  /// P(picks {0, 1}) = e²/W·e/(e + 1) + e/W·e²/(e² + 1) = 0.701886, and likewise
  /// P({0, 2}) = 0.244728, P({1, 2}) = 0.053385 (the sum is 1).
  @Test func picksAreWithoutReplacement() throws {
    let n = 60_000
    // The outcome is the index left out.
    let observed = try tally(count: 2, epsilon: 9, seed: 12, runs: n) { vector in
      Set([0, 1, 2]).subtracting(vector.indices.map { Int($0) }).first ?? 0
    }
    let w = [exp(2.0), exp(1.0), 1]
    let total = w.reduce(0, +)
    func pair(_ a: Int, _ b: Int, leaving c: Int) -> Double {
      w[a] / total * w[b] / (w[b] + w[c]) + w[b] / total * w[a] / (w[a] + w[c])
    }
    let expected = [pair(1, 2, leaving: 0), pair(0, 2, leaving: 1), pair(0, 1, leaving: 2)]
    #expect(abs(expected[2] - 0.701886) < 1e-6 && abs(expected[0] - 0.053385) < 1e-6)
    #expect(abs(expected.reduce(0, +) - 1) < 1e-12)
    let statistic = chiSquare(observed: observed, expected: expected.map { $0 * Double(n) })
    #expect(statistic < 13.816, "χ² = \(statistic), observed \(observed)")
  }

  @Test func tooLargeAnEpsilonForTheDimensionThrowsBeforeSampling() throws {
    let delta = [Float](repeating: 0.0001, count: 20_000)
    #expect(throws: PrivacyError.self) {
      try run(delta, count: 20_000, epsilon: 1e9)
    }
  }
}
