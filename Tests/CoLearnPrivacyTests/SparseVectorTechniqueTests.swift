import CoLearnPrivacy
import CoLearnTensor
import Testing

@Suite struct SparseVectorTechniqueTests {
  let gamma: Float = 0.001
  let tau: Float = 0.0001

  /// 1000 entries: every 7th is above τ (some beyond γ, some negative), the rest far below τ.
  func update() -> (delta: [Float], above: [Int32]) {
    var delta = [Float](repeating: 0.000_01, count: 1000)
    var above: [Int32] = []
    for j in stride(from: 3, to: 1000, by: 7) {
      delta[j] = j % 3 == 0 ? -0.0008 : (j % 3 == 1 ? 0.05 : 0.0004)
      above.append(Int32(j))
    }
    return (delta, above)
  }

  func run(
    _ delta: [Float], count c: Int, threshold: Float, epsilon: Double, seed: UInt64,
    technique: inout SparseVectorTechnique
  ) throws -> (vector: SparseVector, report: SelectionReport) {
    var noise = NoiseSource.insecureSeeded(seed)
    return try delta.withUnsafeBufferPointer { d in
      try Result { () throws(PrivacyError) in
        try technique.select(
          delta: d, count: c, bound: gamma, threshold: threshold, epsilon: epsilon,
          noise: &noise)
      }.get()
    }
  }

  func run(
    _ delta: [Float], count c: Int, threshold: Float, epsilon: Double, seed: UInt64 = 1
  ) throws -> (vector: SparseVector, report: SelectionReport) {
    var technique = SparseVectorTechnique()
    return try run(
      delta, count: c, threshold: threshold, epsilon: epsilon, seed: seed, technique: &technique)
  }

  /// Every value an integer multiple of the grid step and inside [−γ, γ].
  func expectOnGrid(_ vector: SparseVector, step: Double) {
    for value in vector.values {
      let units = Double(value) / step
      #expect(units == units.rounded(), "\(value) is not a multiple of \(step)")
      #expect(abs(value) <= gamma)
    }
  }

  @Test func aHugeEpsilonSelectsExactlyTheEntriesAboveTheThreshold() throws {
    let (delta, above) = update()
    let (vector, report) = try run(delta, count: 200, threshold: tau, epsilon: 1e9)
    #expect(vector.indices == above)
    #expect(report.uploads == above.count)
    #expect(report.visited == delta.count)  // fewer than c uploads: every index was visited
    for (index, value) in zip(vector.indices, vector.values) {
      let bounded = max(-gamma, min(gamma, delta[Int(index)]))
      #expect(abs(value - bounded) < 1e-7)
    }
    #expect(vector.validate(dimension: delta.count) == nil)
    expectOnGrid(vector, step: report.gridStep)
  }

  @Test func uploadsStopAtTheCapacity() throws {
    let (delta, above) = update()
    let (vector, report) = try run(delta, count: 50, threshold: tau, epsilon: 1e9)
    #expect(vector.count == 50)
    #expect(report.uploads == 50)
    #expect(Set(vector.indices).isSubset(of: Set(above)))
    #expect(report.visited < delta.count)
    #expect(vector.validate(dimension: delta.count) == nil)
  }

  /// With every entry above the threshold and c = |w|, every index must come out exactly once:
  /// an index visited twice would be uploaded twice or leave another one out.
  @Test func everyIndexIsVisitedAtMostOnce() throws {
    let (delta, _) = update()
    let (vector, report) = try run(delta, count: delta.count, threshold: -1, epsilon: 1e9)
    #expect(vector.indices == (0..<Int32(delta.count)).map { $0 })
    #expect(report.visited == delta.count)
    #expect(report.uploads == delta.count)
  }

  @Test func aTinyEpsilonIsNoiseDominatedButKeepsItsLimits() throws {
    let (delta, above) = update()
    var technique = SparseVectorTechnique()
    var selectedAbove = 0
    var selected = 0
    for seed in 1...20 as ClosedRange<UInt64> {
      let (vector, report) = try run(
        delta, count: 30, threshold: tau, epsilon: 1e-6, seed: seed, technique: &technique)
      #expect(vector.count <= 30)
      #expect(report.uploads == vector.count)
      #expect(report.visited <= delta.count)
      #expect(vector.validate(dimension: delta.count) == nil)
      expectOnGrid(vector, step: report.gridStep)
      #expect(report.releaseScale >= 2 * 30 * 0.002 / (2e-6 / 9))  // ⌈σ(ε₂)/g⌉·g ≥ σ(ε₂)
      selected += vector.count
      selectedAbove += vector.indices.filter { Set(above).contains($0) }.count
    }
    // The noise (scale ≈ 10⁶ γ) hides the signal: about 1 in 7 picks is an "above" index, as
    // for random picks, and the threshold is crossed about half of the time.
    #expect(selected > 100)
    #expect(Double(selectedAbove) / Double(selected) < 0.3)
  }

  @Test func theReportCarriesBothAccountings() throws {
    let (delta, above) = update()
    let (_, report) = try run(delta, count: 200, threshold: tau, epsilon: 1e9)
    #expect(report.mechanism == .sparseVector)
    #expect(report.epsilonSpent == 1e9)
    #expect(report.epsilonPerUpload == 1e9 / 200)
    #expect(report.epsilonChargedByUploads == Double(above.count) * 1e9 / 200)
    #expect(report.capacity == 200 && report.dimension == delta.count)
    #expect(!report.isSecure)
  }

  @Test func runsAreReproducibleAndTheWorkspaceServesAnyLength() throws {
    let (delta, _) = update()
    var technique = SparseVectorTechnique()
    let first = try run(delta, count: 40, threshold: tau, epsilon: 5, seed: 7, technique: &technique)
    let short = Array(delta.prefix(100))
    let middle = try run(short, count: 10, threshold: tau, epsilon: 5, seed: 7, technique: &technique)
    #expect(middle.vector.validate(dimension: 100) == nil)
    let again = try run(delta, count: 40, threshold: tau, epsilon: 5, seed: 7, technique: &technique)
    #expect(first.vector == again.vector)
    #expect(first.report == again.report)
  }

  @Test func worksWithTheSecureSource() throws {
    let (delta, above) = update()
    var technique = SparseVectorTechnique()
    var noise = NoiseSource.secure
    let (vector, report) = try delta.withUnsafeBufferPointer { d in
      try Result { () throws(PrivacyError) in
        try technique.select(
          delta: d, count: 200, bound: gamma, threshold: tau, epsilon: 1e9, noise: &noise)
      }.get()
    }
    #expect(vector.indices == above)
    #expect(report.isSecure)
  }
}
