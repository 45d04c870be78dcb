import CoLearnData
import CoLearnModelIO
import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

/// Saved models (issue 18): bit-identical round trips of every preset and every layer kind,
/// the torch layout of the tensors, and the metadata.
@Suite struct SavedModelTests {
  static func specs() throws -> [ModelSpec] {
    ModelSpec.presets + [
      try ModelFile.parse(everyLayerKindModelFile, file: "every.toml", defaultName: "every")
    ]
  }

  /// The outputs of `spec` with `parameters` on a fixed batch of 4 inputs.
  func outputs(_ spec: ModelSpec, _ parameters: [Float]) -> [Float] {
    let network = spec.makeNetwork()
    network.reserve(batchSize: 4)
    var generator = SeededGenerator(seed: 11)
    let input = (0..<(4 * spec.inputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let output = parameters.withUnsafeBufferPointer { w in
      input.withUnsafeBufferPointer { x in
        network.forward(x.baseAddress!, batchSize: 4, parameters: w.baseAddress!)
      }
    }
    return Array(UnsafeBufferPointer(start: output, count: 4 * spec.classCount))
  }

  @Test func everyPresetAndEveryLayerKindRoundTripsBitForBit() throws {
    for spec in try Self.specs() {
      var generator = SeededGenerator(seed: 3)
      var parameters = [Float](repeating: 0, count: spec.parameterCount)
      spec.makeNetwork().initialize(&parameters, using: &generator)
      let saved = SavedModel(
        spec: spec, schema: nil, parameters: parameters, information: ["source": "test"])
      let bytes = saved.safeTensors.encoded()
      let read = try SavedModel(SafeTensors(bytes: bytes, path: "m.safetensors"), path: "m.safetensors")
      #expect(read.spec.specificationHash == spec.specificationHash, "\(spec.name)")
      #expect(read.spec.name == spec.name)
      #expect(read.parameters.map(\.bitPattern) == parameters.map(\.bitPattern), "\(spec.name)")
      // The same layers: the same outputs. Not compared bit for bit: the process-wide BLAS
      // thread count, which tests running beside this one change (Evaluator, simulations), picks
      // how a GEMM is split, and that moved the last bit of a few outputs in one CI run.
      let original = outputs(spec, parameters)
      let roundTripped = outputs(read.spec, read.parameters)
      #expect(roundTripped.count == original.count, "\(spec.name)")
      #expect(
        zip(roundTripped, original).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) },
        "\(spec.name)")
      #expect(read.information == ["source": "test"])
      #expect(read.classNames == (0..<spec.classCount).map(String.init))
      // Every tensor starts 8-byte aligned, as the reference writer lays them out.
      let headerLength = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
      #expect((8 + headerLength) % 8 == 0)
    }
  }

  /// The tensors are named and laid out like `torch.nn.Sequential`'s: `Conv2d` weights
  /// [out, in, k, k], and a Linear after a flatten numbers its image inputs channels-first.
  @Test func tensorsUseTheTorchLayout() throws {
    let spec = try ModelFile.parse(
      """
      input = [3, 3, 2]
      classes = 2
      layers = [
        { type = "conv2d", channels = 1, kernel = 2 },
        { type = "relu" },
        { type = "flatten" },
        { type = "linear", outputs = 2 },
      ]
      """, file: "small.toml")
    // conv: weight [1, 2, 2, 2] colearn-order (o, i, j, c) at 0..<8, bias at 8; the conv output
    // is [2, 2, 1]; linear: weight [2, 4] at 9..<17, bias 17..<19.
    let parameters = (0..<spec.parameterCount).map(Float.init)
    let file = SavedModel(spec: spec, schema: nil, parameters: parameters).safeTensors
    #expect(file.tensors.map(\.name) == ["0.weight", "0.bias", "3.weight", "3.bias"])
    let conv = try #require(file["0.weight"])
    #expect(conv.shape == [1, 2, 2, 2])
    // torch (o 0, c 1, i 0, j 1) = colearn (o 0, i 0, j 1, c 1) = ((0·2 + 0)·2 + 1)·2 + 1 = 3.
    #expect(conv.values[1 * 4 + 0 * 2 + 1] == 3)
    // torch (c 0, i 1, j 0) = colearn ((1·2 + 0)·2 + 0) = 4.
    #expect(conv.values[0 * 4 + 1 * 2 + 0] == 4)
    // One channel: channels-first and channels-last orders agree, so the linear is unchanged.
    #expect(try #require(file["3.weight"]).values == Array(parameters[9..<17]))

    // Two channels before a linear: torch column c·H·W + h·W + w is colearn's (h·W + w)·C + c.
    let wide = try ModelFile.parse(
      """
      input = [1, 2, 2]
      classes = 2
      layers = [{ type = "flatten" }, { type = "linear", outputs = 2 }]
      """, file: "wide.toml")
    let weights = SavedModel(
      spec: wide, schema: nil, parameters: (0..<wide.parameterCount).map(Float.init)
    ).safeTensors["1.weight"]
    // colearn row 0 = inputs (h0 w0 c0, h0 w0 c1, h0 w1 c0, h0 w1 c1) = 0, 1, 2, 3; torch
    // orders them (c0 w0, c0 w1, c1 w0, c1 w1) = 0, 2, 1, 3.
    #expect(weights?.values.prefix(4) == [0, 2, 1, 3])
  }

  @Test func theSchemaAndClassNamesTravelWithTheModel() throws {
    let table = try CSVTable(
      bytes: Array("x,y,label\n1,2,no\n3,5,yes\n2,2,no\n".utf8), path: "t.csv")
    let schema = try DatasetSchema.fit(table: table, labelColumn: "label")
    let spec = try ModelFile.parse(
      "input = [2]\nclasses = 2\n[[layers]]\ntype = \"linear\"\noutputs = 2\n", file: "t.toml")
    let saved = SavedModel(spec: spec, schema: schema, parameters: [1, 2, 3, 4, 5, 6])
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("model.safetensors").path
    try saved.write(toPath: path)
    let read = try SavedModel(contentsOfFile: path)
    #expect(read.schema == schema)
    #expect(read.classNames == ["no", "yes"])
    #expect(read.parameters == [1, 2, 3, 4, 5, 6])
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
  }
}
