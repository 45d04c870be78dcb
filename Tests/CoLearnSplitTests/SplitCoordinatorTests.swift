import CoLearnNN
import CoLearnSplit
import CoLearnTensor
import Testing

/// ``SplitCoordinator``'s checked step (issue 19 item 4): the same arithmetic as the plain step,
/// and nothing adopted when a value comes out non-finite.
@Suite struct SplitCoordinatorTests {
  static let batchSize = 4

  static func coordinator(back: [Float]) -> SplitCoordinator {
    SplitCoordinator(
      network: smallArchitecture.makeBack(), parameters: back, capacity: batchSize)
  }

  static func batch(scale: Float = 1) -> (features: [Float], labels: [Int32]) {
    let count = batchSize * smallArchitecture.featureShape.count
    return ((0..<count).map { (Float($0 % 7) / 7 - 0.5) * scale }, [0, 1, 2, 3])
  }

  /// Runs `checked` or plain steps; returns losses and feature gradients.
  static func run(
    _ coordinator: SplitCoordinator, steps: Int, rate: Float, checked: Bool, scale: Float = 1
  ) throws -> [(Float, [Float])] {
    let (features, labels) = batch(scale: scale)
    var results: [(Float, [Float])] = []
    for _ in 0..<steps {
      var gradient = [Float](repeating: 0, count: features.count)
      let loss = try gradient.withUnsafeMutableBufferPointer { g in
        checked
          ? try coordinator.trainCheckingFiniteness(
            on: features, labels: labels, batchSize: batchSize, rate: rate,
            featureGradient: g.baseAddress!
          ).loss
          : coordinator.train(
            on: features, labels: labels, batchSize: batchSize, rate: rate,
            featureGradient: g.baseAddress!
          ).loss
      }
      results.append((loss, gradient))
    }
    return results
  }

  @Test func theCheckedStepIsThePlainStepBitForBit() throws {
    let back = initialParameters(smallArchitecture).back
    let plain = Self.coordinator(back: back)
    let checked = Self.coordinator(back: back)
    let a = try Self.run(plain, steps: 3, rate: 0.1, checked: false)
    let b = try Self.run(checked, steps: 3, rate: 0.1, checked: true)
    for (x, y) in zip(a, b) {
      #expect(x.0.bitPattern == y.0.bitPattern)
      #expect(x.1.map(\.bitPattern) == y.1.map(\.bitPattern))
    }
    #expect(plain.parameters.map(\.bitPattern) == checked.parameters.map(\.bitPattern))
    #expect(checked.stepCount == 3)
  }

  /// A back with huge finite weights overflows in the forward pass (loss NaN); a rate of
  /// Float.greatestFiniteMagnitude (on features of ±100) overflows the update. Neither step is
  /// adopted.
  @Test func aNonFiniteStepLeavesTheBackUnchanged() throws {
    let back = initialParameters(smallArchitecture).back
    let poisoned: [Float] = back.map { $0 < 0 ? -1.0e30 : 1.0e30 }
    let cases: [([Float], Float, String)] = [
      (poisoned, 0.1, "loss"), (back, .greatestFiniteMagnitude, "back parameter(s) non-finite"),
    ]
    for (parameters, rate, fragment) in cases {
      let coordinator = Self.coordinator(back: parameters)
      let error = #expect(throws: SplitStepError.self) {
        _ = try Self.run(coordinator, steps: 1, rate: rate, checked: true, scale: 200)
      }
      #expect(error?.description.contains(fragment) == true, "\(String(describing: error))")
      #expect(coordinator.parameters.map(\.bitPattern) == parameters.map(\.bitPattern))
      #expect(coordinator.stepCount == 0)
    }
  }
}
