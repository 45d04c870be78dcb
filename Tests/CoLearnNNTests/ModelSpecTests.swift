import CoLearnNN
import Testing

@Suite struct ModelSpecTests {
  /// SPEC §2 / paper Table 3.
  @Test func parameterCountsMatchThePaper() {
    let counts = ModelSpec.allCases.map { ($0, $0.makeNetwork().parameterCount) }
    #expect(counts.map(\.1) == [140_106, 402_250, 105_506, 313_546])
    for (spec, count) in counts {
      #expect(count == spec.expectedParameterCount, "\(spec)")
    }
  }

  @Test func everyModelMapsItsInputToTenLogProbabilities() {
    for spec in ModelSpec.allCases {
      let network = spec.makeNetwork()
      #expect(network.inputShape == spec.inputShape)
      #expect(network.outputShape == TensorShape(10))
    }
  }

  @Test func convolutionalShapesFollowTheSpec() {
    let mnist = ModelSpec.mnistCNN.makeLayers().map(\.outputShape.dimensions)
    #expect(mnist[0] == [28, 28, 32])
    #expect(mnist[2] == [9, 9, 32])
    #expect(mnist[3] == [5, 5, 64])
    #expect(mnist[5] == [2, 2, 64])
    let svhn = ModelSpec.svhnCNN.makeLayers().map(\.outputShape.dimensions)
    #expect(svhn[2] == [14, 14, 64])
    #expect(svhn[6] == [5, 5, 64])
  }

  @Test func specificationHashesAreStableAndDistinct() {
    let hashes = ModelSpec.allCases.map(\.specificationHash)
    #expect(Set(hashes).count == 4)
    #expect(hashes.allSatisfy { $0.count == 16 })
    #expect(ModelSpec.mnistMLP.specificationHash == ModelSpec.mnistMLP.specificationHash)
  }

  @Test func layoutRangesTileTheVector() {
    let layout = ModelSpec.svhnCNN.makeNetwork().layout
    var next = 0
    for entry in layout.entries {
      #expect(entry.range.lowerBound == next)
      next = entry.range.upperBound
    }
    #expect(next == 313_546)
  }
}
