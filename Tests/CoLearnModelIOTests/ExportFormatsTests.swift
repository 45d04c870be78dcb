import CoLearnData
import CoLearnModelIO
import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// The export formats of `colearn export` that colearn can read back itself (issue 18): the
/// `.npz` archive, read with CoLearnData's own NumPy reader, and the ONNX model's input. The
/// ONNX graph is checked by its real consumers (onnx.checker, ONNX Runtime) in
/// `ExportCommandTests`.
@Suite struct ExportFormatsTests {
  static func model() throws -> SavedModel {
    let spec = try ModelFile.parse(everyLayerKindModelFile, file: "every.toml", defaultName: "every")
    var generator = SeededGenerator(seed: 3)
    let parameters = (0..<spec.parameterCount).map { _ in Float.random(in: -1...1, using: &generator) }
    return SavedModel(spec: spec, schema: nil, parameters: parameters)
  }

  @Test func theNPZArchiveHoldsEveryTensorInItsTorchShapeBitForBit() throws {
    let model = try Self.model()
    let archive = try NPZArchive(bytes: model.npzArchive(path: "every.npz"), path: "every.npz")
    let tensors = model.safeTensors.tensors
    #expect(archive.arrayNames.sorted() == tensors.map(\.name).sorted())
    for tensor in tensors {
      let array = try archive.array(named: tensor.name)
      #expect(array.elementType == .float32)
      #expect(array.shape == tensor.shape, "\(tensor.name)")
      #expect(array.floatValues().map(\.bitPattern) == tensor.values.map(\.bitPattern), "\(tensor.name)")
    }
  }

  @Test func theONNXInputIsTheRawDataAUserHolds() throws {
    #expect(ONNXExport.input(of: try Self.model()) == ("image", [9, 9, 2]))
    let mnist = SavedModel(
      spec: .mnistCNN,
      schema: try DatasetSchema(
        sourceKind: .mnist, inputShape: MNIST.sampleShape, features: [], labelColumn: nil,
        classes: (0..<10).map(String.init), normalization: .identity(channelCount: 1)),
      parameters: [Float](repeating: 0, count: ModelSpec.mnistCNN.parameterCount))
    #expect(ONNXExport.input(of: mnist) == ("image", [28, 28]))
    let table = SavedModel(
      spec: .mnistMLP, schema: nil,
      parameters: [Float](repeating: 0, count: ModelSpec.mnistMLP.parameterCount))
    #expect(ONNXExport.input(of: table).name == "image")
    let bytes = try ONNXExport.encoded(mnist, path: "m.onnx", producerVersion: "test")
    // The same model encodes to the same bytes (no timestamps, deterministic names).
    #expect(bytes == (try ONNXExport.encoded(mnist, path: "m.onnx", producerVersion: "test")))
    #expect(bytes.count > 4 * ModelSpec.mnistCNN.parameterCount)
  }
}
