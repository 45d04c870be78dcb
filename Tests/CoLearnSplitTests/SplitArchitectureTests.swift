import CoLearnNN
import CoLearnSplit
import Testing

@Suite struct SplitArchitectureTests {
  /// The shapes and parameter counts documented on ``SplitArchitecture``.
  @Test func paperArchitectureShapesAndCounts() {
    let architecture = SplitArchitecture.paper
    let front = architecture.makeFront()
    let back = architecture.makeBack()
    #expect(front.inputShape == .image(height: 28, width: 28, channels: 1))
    #expect(front.outputShape == .image(height: 4, width: 4, channels: 80))
    #expect(architecture.featureShape == front.outputShape)
    #expect(front.parameterCount == 780 + 60_080)
    #expect(back.parameterCount == 655_872 + 131_328 + 32_896 + 8_256 + 650)
    #expect(back.inputShape.count == 1_280)
    #expect(back.outputShape.count == 10)
    #expect(architecture.makeCombined().parameterCount == 889_862)
    #expect(front.layers.last is BatchNorm)
    #expect((front.layers.last as? BatchNorm)?.epsilon == 0)
  }
}
