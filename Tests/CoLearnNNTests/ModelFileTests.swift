import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

@Suite struct ModelFileTests {
  static let breastCancerMLP = """
    # A hospital's MLP: 30 measurements, yes/no.
    name = "breast-cancer-mlp"
    input = [30]
    classes = 2
    task = "classification"

    [[layers]]
    type = "linear"
    outputs = 16

    [[layers]]
    type = "relu"

    [[layers]]
    type = "linear"
    outputs = 2
    """

  @Test func tomlAndJSONDescribeTheSameModel() throws {
    let toml = try ModelFile.parse(Self.breastCancerMLP, file: "mlp.toml")
    let json = try ModelFile.parse(
      """
      {"name": "breast-cancer-mlp", "input": [30], "classes": 2,
       "layers": [{"type": "linear", "outputs": 16}, {"type": "relu"},
                  {"type": "linear", "outputs": 2}, {"type": "log-softmax"}]}
      """, file: "mlp.json")
    #expect(toml == json)
    #expect(toml.layers == [.linear(outputs: 16), .relu, .linear(outputs: 2), .logSoftmax])
    #expect(toml.parameterCount == 31 * 16 + 17 * 2)
    let inline = try ModelFile.parse(
      """
      name = "breast-cancer-mlp" # trailing comment
      input = [ 30 ]
      classes = 2
      layers = [
        { type = "linear", outputs = 16 },  # the hidden layer
        { type = "relu" },
        { type = 'linear', outputs = 2 },
      ]
      """, file: "inline.toml")
    #expect(inline == toml)
  }

  @Test func canonicalTextParsesBackToTheSameSpec() throws {
    for spec in ModelSpec.presets + [try ModelFile.parse(Self.breastCancerMLP, file: "m.toml")] {
      let text = ModelFile.canonicalText(of: spec)
      let again = try ModelFile.parse(text, file: "canonical.toml")
      #expect(again.layers == spec.layers)
      #expect(again.name == spec.name)
      #expect(again.specificationHash == spec.specificationHash)
    }
  }

  /// A file equal to the preset trains bit for bit like it (same seed, same data).
  @Test func aFileDefinedMLPTrainsBitIdenticallyToThePreset() throws {
    let text = ModelSpec.presetText(named: "mnist-mlp")!
      .replacingOccurrences(of: "name = \"mnist-mlp\"", with: "name = \"my-mlp\"")
    let file = try ModelFile.parse(text, file: "my-mlp.toml")
    #expect(file.specificationHash == ModelSpec.mnistMLP.specificationHash)
    let data = syntheticSamples(count: 96, sampleSize: 1024, classes: 10, seed: 4)
    func train(_ spec: ModelSpec) throws -> [Float] {
      let network = spec.makeNetwork()
      let trainer = Trainer(
        network: network, configuration: try SGDConfiguration(learningRate: 0.05, batchSize: 8))
      var generator = SeededGenerator(seed: 11)
      var parameters = [Float](repeating: 0, count: network.parameterCount)
      network.initialize(&parameters, using: &generator)
      var model = LocalModel(parameters: parameters)
      for _ in 0..<2 { _ = trainer.trainEpoch(&model, on: data, using: &generator) }
      return model.parameters
    }
    let fromFile = try train(file)
    let fromPreset = try train(.mnistMLP)
    #expect(fromFile == fromPreset)
    #expect(fromFile != [Float](repeating: 0, count: fromFile.count))
  }

  /// Every layer kind a file can name, built from a file and gradient-checked layer by layer.
  @Test func everyLayerKindBuildsFromAFileAndPassesAGradientCheck() throws {
    let spec = try ModelFile.parse(
      everyLayerKindModelFile, file: "every.toml", defaultName: "every")
    #expect(spec.name == "every")
    let kinds = Set(spec.layers.map(\.kind))
    #expect(kinds == Set(LayerSpec.kinds))
    let network = spec.makeNetwork()
    #expect(network.layers.count == spec.layers.count - 1)  // flatten builds nothing
    #expect(network.outputShape == TensorShape(3))
    for (index, layer) in network.layers.enumerated() {
      // Distinct values 0.004 apart, shuffled: no max-pool window holds a near-tie that the
      // finite difference could cross.
      let count = 4 * layer.inputShape.count
      var generator = SeededGenerator(seed: UInt64(index + 1))
      let input = (0..<count).map { (Float($0) - Float(count) / 2 + 0.5) * 0.004 }
        .shuffled(using: &generator)
      let report = checkGradients(of: layer, batchSize: 4, input: input, step: 1e-3)
      #expect(report.passed, "layer \(index + 1) \(layer.description): \(report)")
    }
  }

  @Test(arguments: [
    ("input = [30]\nclasses = 2\n[[layers]]\ntype = \"linear\"\noutput = 2\n",
      "bad.toml: layer 1 linear: unknown setting 'output'; linear takes outputs"),
    ("input = [30]\nclasses = 2\n[[layers]]\ntype = \"dense\"\n",
      "bad.toml: layer 1 dense: unknown layer type; use one of linear, conv2d, maxpool, l2pool, subtractive-norm, batchnorm, relu, tanh, sigmoid, flatten, log-softmax"),
    ("input = [30]\nclasses = 2\n[[layers]]\ntype = \"linear\"\noutputs = \"two\"\n",
      "bad.toml: layer 1 linear: outputs must be an integer, got a string"),
    ("input = [30]\n[[layers]]\ntype = \"linear\"\noutputs = 2\n",
      "bad.toml: classes is missing: give the number of classes, e.g. classes = 2 for yes/no"),
    ("classes = 2\n[[layers]]\ntype = \"linear\"\noutputs = 2\n",
      "bad.toml: input is missing: give the per-sample shape, e.g. input = [30] for 30 features or input = [28, 28, 1] for grey images"),
    ("input = [30]\nclasses = 2\nlayers = [\n  { type = \"linear\", outputs = 2 \n",
      "bad.toml:5: expected ',' or '}' in the inline table"),
    ("input = [30\nclasses = 2\n",
      "bad.toml:2: expected ',' or ']' in the list"),
    ("input = [30]\nclasses = 2\nclasses = 3\n",
      "bad.toml:3: 'classes' is set twice"),
    ("input = [4, 4, 1]\nclasses = 2\n[[layers]]\ntype = \"conv2d\"\nchannels = 2\nkernel = 5\n[[layers]]\ntype = \"linear\"\noutputs = 2\n",
      "bad.toml: layer 1 conv2d: kernel 5 does not fit the 4×4 input; use a smaller kernel, add padding or remove a pooling layer"),
    ("input = [30]\nclasses = 2\n[[layers]]\ntype = \"dropout\"\n",
      "bad.toml: layer 1 dropout: dropout is not supported yet (layers have no training mode); remove it, or use a smaller model or weight decay through a smaller learning rate"),
  ])
  func badFilesAreRefusedWithTheFileTheLayerAndTheFix(text: String, message: String) {
    do {
      let spec = try ModelFile.parse(text, file: "bad.toml")
      Issue.record("accepted: \(spec.layers)")
    } catch {
      #expect(error.description == message)
    }
  }

  /// Sizes no machine could train are refused before any shape arithmetic can overflow (a
  /// 4e9 × 4e9 image and a 2^63 − 1 wide linear layer crashed `colearn model show` with an
  /// arithmetic overflow before the bounds).
  @Test(arguments: [
    (
      "input = [4000000000, 4000000000, 3]\nclasses = 2\n[[layers]]\ntype = \"flatten\"\n"
        + "[[layers]]\ntype = \"linear\"\noutputs = 2\n",
      "input = [4000000000, 4000000000, 3]"
    ),
    (
      "input = [30]\nclasses = 2\n[[layers]]\ntype = \"linear\"\n"
        + "outputs = 9223372036854775807\n[[layers]]\ntype = \"linear\"\noutputs = 2\n",
      "layer 1 linear: outputs must be at most 1048576"
    ),
    (
      "input = [1000000, 1000000, 1]\nclasses = 2\n[[layers]]\ntype = \"flatten\"\n",
      "input = [1000000, 1000000, 1]"
    ),
    (
      "input = [8, 8, 1000]\nclasses = 2\n[[layers]]\ntype = \"conv2d\"\nchannels = 8\n"
        + "kernel = 300\npadding = 150\n[[layers]]\ntype = \"flatten\"\n[[layers]]\n"
        + "type = \"linear\"\noutputs = 2\n",
      "layer 1 conv2d: a 300×300 kernel over 1000 channels has more than 67108864 weights"
    ),
    (
      "input = [8192]\nclasses = 2\n[[layers]]\ntype = \"linear\"\noutputs = 1048576\n"
        + "[[layers]]\ntype = \"linear\"\noutputs = 2\n",
      "layer 1 linear: the model reaches 8590983168 parameters here, more than 2147483647"
    ),
  ])
  func hugeSizesAreRefusedWithoutOverflow(text: String, fragment: String) {
    do {
      let spec = try ModelFile.parse(text, file: "huge.toml")
      Issue.record("accepted: \(spec.layers)")
    } catch {
      #expect(error.description.contains(fragment), "\(error.description)")
    }
  }

  @Test func missingFilesAndBadJSONNameTheFile() {
    do {
      _ = try ModelSpec.resolve("/nonexistent/model.toml")
      Issue.record("a missing file was accepted")
    } catch {
      #expect(error.description.hasPrefix("/nonexistent/model.toml: no such model file"))
      #expect(error.description.contains("mnist-mlp, svhn-mlp, mnist-cnn, svhn-cnn"))
    }
    #expect(throws: ModelFileError.self) { try ModelFile.parse("{\"input\": [30], ", file: "m.json") }
    #expect(throws: ModelFileError.self) {
      try ModelFile.parse("{\"input\": [30], \"classes\": true, \"layers\": []}", file: "m.json")
    }
  }
}

/// `count` random samples with labels in 0..<classes, for training tests.
func syntheticSamples(count: Int, sampleSize: Int, classes: Int, seed: UInt64) -> LabeledSamples {
  var generator = SeededGenerator(seed: seed)
  let features = (0..<(count * sampleSize)).map { _ in
    Float.random(in: 0...1, using: &generator) < 0.85 ? 0 : Float.random(in: 0...2, using: &generator)
  }
  let labels = (0..<count).map { _ in Int32(generator.next() % UInt64(classes)) }
  return LabeledSamples(features: features, labels: labels, sampleSize: sampleSize)
}
