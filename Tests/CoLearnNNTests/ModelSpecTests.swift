import CoLearnNN
import CoLearnTestSupport
import Foundation
import Testing

@Suite struct ModelSpecTests {
  /// SPEC §2 / paper Table 3.
  @Test func parameterCountsMatchThePaper() {
    let counts = ModelSpec.presets.map { $0.makeNetwork().parameterCount }
    #expect(counts == [140_106, 402_250, 105_506, 313_546])
    #expect(ModelSpec.presets.map(\.parameterCount) == counts)
    #expect(ModelSpec.presets.map(\.name) == ["mnist-mlp", "svhn-mlp", "mnist-cnn", "svhn-cnn"])
  }

  @Test func everyModelMapsItsInputToTenLogProbabilities() {
    for spec in ModelSpec.presets {
      let network = spec.makeNetwork()
      #expect(network.inputShape == spec.inputShape)
      #expect(network.outputShape == TensorShape(10))
      #expect(spec.classCount == 10)
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

  /// The identities the presets had when they were a Swift enum (run records in docs/results
  /// carry them): presets written as model files, with a `flatten`, keep them.
  @Test func specificationHashesAreUnchangedFromTheEnum() {
    #expect(ModelSpec.mnistMLP.specificationHash == "b91a84407ad222d7")
    #expect(ModelSpec.mnistCNN.specificationHash == "5ecf024be181e50c")
    let hashes = ModelSpec.presets.map(\.specificationHash)
    #expect(Set(hashes).count == 4)
    #expect(hashes.allSatisfy { $0.count == 16 })
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

  /// The files in models/ are the embedded presets, byte for byte.
  @Test func repositoryModelFilesAreThePresets() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .deletingLastPathComponent().deletingLastPathComponent()
    for spec in ModelSpec.presets {
      let path = root.appendingPathComponent("models/\(spec.name).toml").path
      let text = try String(contentsOfFile: path, encoding: .utf8)
      #expect(text == ModelSpec.presetText(named: spec.name), "\(path)")
      let loaded = try ModelFile.load(path: path)
      #expect(loaded.layers == spec.layers)
      #expect(loaded.specificationHash == spec.specificationHash)
    }
  }

  @Test func shapesAreInferredAndMisfitsNameTheLayer() throws {
    let spec = try ModelSpec(
      name: "t", inputShape: TensorShape(8, 8, 1), classCount: 3,
      layers: [.conv2d(channels: 4, kernel: 3, stride: 1, padding: 0), .relu, .maxPool(size: 2, stride: 2), .flatten, .linear(outputs: 3)])
    #expect(spec.shapes.map(\.dimensions) == [[6, 6, 4], [6, 6, 4], [3, 3, 4], [36], [3], [3]])
    #expect(spec.parameterCount == (9 + 1) * 4 + (36 + 1) * 3)
    #expect(spec.makeNetwork().parameterCount == spec.parameterCount)

    #expect(throws: ModelSpecError.self) {
      try ModelSpec(
        name: "t", inputShape: TensorShape(4, 4, 1), classCount: 2,
        layers: [.conv2d(channels: 2, kernel: 5, stride: 1, padding: 0), .flatten, .linear(outputs: 2)])
    }
    do {
      _ = try ModelSpec(
        name: "t", inputShape: TensorShape(8, 8, 1), classCount: 2,
        layers: [.maxPool(size: 2, stride: 2), .maxPool(size: 2, stride: 2), .conv2d(channels: 2, kernel: 5, stride: 1, padding: 0)])
      Issue.record("a 5×5 kernel on a 2×2 input was accepted")
    } catch {
      #expect(
        error.description
          == "layer 3 conv2d: kernel 5 does not fit the 2×2 input; use a smaller kernel, add "
          + "padding or remove a pooling layer")
    }
    do {
      _ = try ModelSpec(name: "t", inputShape: TensorShape(30), classCount: 2, layers: [.linear(outputs: 16), .relu])
      Issue.record("a model ending in 16 values for 2 classes was accepted")
    } catch {
      #expect(error.description.hasPrefix("layer 3 log-softmax: the layer before it outputs 16 values"))
    }
    #expect(throws: ModelSpecError.layerDoesNotFit(index: 1, kind: "conv2d", reason: "a convolution needs an image input [height, width, channels] but receives 30; give the model an image input and put it before any flatten or linear layer")) {
      try ModelSpec(name: "t", inputShape: TensorShape(30), classCount: 2, layers: [.conv2d(channels: 2, kernel: 1, stride: 1, padding: 0)])
    }
    #expect(throws: ModelSpecError.invalidClassCount(1)) {
      try ModelSpec(name: "t", inputShape: TensorShape(3), classCount: 1, layers: [.linear(outputs: 1)])
    }
    #expect(throws: ModelSpecError.invalidName("a b")) {
      try ModelSpec(name: "a b", inputShape: TensorShape(3), classCount: 2, layers: [.linear(outputs: 2)])
    }
  }

  @Test func differencesNameTheLayerThatDiffers() throws {
    let a = try ModelSpec(name: "a", inputShape: TensorShape(30), classCount: 2, layers: [.linear(outputs: 16), .relu, .linear(outputs: 2)])
    let b = try ModelSpec(name: "b", inputShape: TensorShape(30), classCount: 2, layers: [.linear(outputs: 32), .relu, .linear(outputs: 2)])
    #expect(a.differences(from: a, here: "here", there: "there").isEmpty)
    let lines = b.differences(from: a, here: "on the server", there: "in your file")
    #expect(lines.first == "layer 1: Linear(30→32) 30->32 on the server, Linear(30→16) 30->16 in your file")
    #expect(lines.count == 3)
  }
}
