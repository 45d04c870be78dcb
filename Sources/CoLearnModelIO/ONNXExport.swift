import CoLearnData
import CoLearnNN
import Foundation
import SwiftProtobuf

/// A saved model as an ONNX model (issue 18, `colearn export --format onnx`): opset 17, one
/// input that takes raw data as a user holds it, two outputs, and the dataset schema's
/// standardisation as explicit nodes, so ONNX Runtime (or any ONNX consumer) reproduces
/// `colearn predict` from raw data.
///
/// Input (float32; `batch` is symbolic):
/// - `image` [batch, 28, 28], pixel values 0…255, for MNIST-schema models (colearn's `mnist`
///   source): the graph pads to 32×32 with zeros and standardises, as colearn does;
/// - `image` [batch, H, W, C], channels-last, raw values, for other image models;
/// - `features` [batch, F] for vector models. For a CSV schema the F values are the schema's
///   feature columns in order: a numeric column's raw value, a categorical column one-hot over
///   its `categories` (in the order listed in the schema); the graph standardises the numeric
///   ones.
/// Without a schema the input is what the network reads (already standardised).
///
/// Outputs: `log_probabilities` [batch, K] (the network's log-softmax output, what `colearn
/// predict --log-probabilities` writes) and `probabilities` [batch, K] (their exponential),
/// columns in the order of the class names (`colearn.classes` in the metadata).
///
/// Layers map one to one, in NCHW after a Transpose (weights in the torch layout of
/// ``TorchLayout``, initializers named `I.weight`/`I.bias`): linear → Flatten + Gemm
/// (transB = 1), conv2d → Conv, maxpool → MaxPool, l2pool → x² → AveragePool → Sqrt (colearn
/// averages; ONNX's LpPool would sum), subtractive-norm → a Conv with the Gaussian over all
/// channels times Torch7's border correction, subtracted, batchnorm → the batch statistics as
/// ReduceMean nodes (colearn's batch normalisation has no running statistics, so an exported
/// model's outputs depend on the batch exactly as colearn's do: feed the same batches to get
/// the same numbers), relu/tanh/sigmoid → Relu/Tanh/Sigmoid, log-softmax → LogSoftmax.
///
/// Threading: a namespace of pure functions.
public enum ONNXExport {
  /// The ONNX operator set the graphs use.
  public static let opsetVersion: Int64 = 17
  /// The ONNX IR version matching ``opsetVersion`` (IR 8 came with opset 17).
  public static let irVersion: Int64 = 8

  /// The serialized ONNX model (`ModelProto`) of `model`.
  ///
  /// - Parameter producerVersion: colearn's version, recorded as the producer's.
  /// - Throws: ``SavedModelError`` (path `path`) if the model cannot be serialized.
  public static func encoded(
    _ model: SavedModel, path: String, producerVersion: String
  ) throws(SavedModelError) -> [UInt8] {
    do {
      let bytes: [UInt8] = try modelProto(model, producerVersion: producerVersion).serializedBytes()
      return bytes
    } catch {
      throw SavedModelError(path: path, reason: "cannot encode the ONNX model: \(error)")
    }
  }

  /// The input name and per-sample shape of the exported graph for `model` (see the type's
  /// documentation).
  public static func input(of model: SavedModel) -> (name: String, shape: [Int]) {
    let dimensions = model.spec.inputShape.dimensions
    if takesRawMNIST(model) { return ("image", [MNIST.imageSide, MNIST.imageSide]) }
    return (dimensions.count == 3 ? "image" : "features", dimensions)
  }

  /// Whether the graph takes 28×28 MNIST images and pads them itself.
  private static func takesRawMNIST(_ model: SavedModel) -> Bool {
    model.schema?.sourceKind == .mnist && model.spec.inputShape.dimensions == MNIST.sampleShape
  }

  static func modelProto(_ model: SavedModel, producerVersion: String) -> Onnx_ModelProto {
    var builder = ONNXGraphBuilder()
    let spec = model.spec
    let (inputName, inputShape) = input(of: model)
    builder.reserve(inputName)
    var current = inputName

    // Raw MNIST: pad 28×28 by 2 on every side, then add the channel axis.
    if takesRawMNIST(model) {
      let p = Int64(MNIST.padding)
      let pads = builder.constant("pads", int64: [0, p, p, 0, p, p], shape: [6])
      current = builder.node("Pad", [current, pads])
      let axes = builder.constant("channel_axis", int64: [3], shape: [1])
      current = builder.node("Unsqueeze", [current, axes])
    }
    // Standardisation with the schema's statistics, on the channels-last (or vector) input.
    if let (mean, deviation) = standardization(model) {
      current = builder.node("Sub", [current, builder.constant("mean", mean, shape: [mean.count])])
      current = builder.node(
        "Div", [current, builder.constant("standard_deviation", deviation, shape: [deviation.count])])
    }
    // Images go channels-first, as torch's layers (and the exported weights) expect.
    var isImage = spec.inputShape.dimensions.count == 3
    if isImage {
      current = builder.node("Transpose", [current], [ONNXGraphBuilder.attribute("perm", ints: [0, 3, 1, 2])])
    }

    let tensors = Dictionary(
      uniqueKeysWithValues: TorchLayout(spec).placements.map { placement in
        (placement.name, (placement.shape, placement.positions.map { model.parameters[$0] }))
      })
    func parameter(_ name: String) -> String {
      let (shape, values) = tensors[name]!
      return builder.constant(name, values, shape: shape)
    }
    var shape = spec.inputShape  // the colearn (channels-last) shape entering the layer
    for (index, layer) in spec.layers.enumerated() {
      switch layer {
      case .linear:
        if isImage {
          current = builder.node("Flatten", [current], [ONNXGraphBuilder.attribute("axis", int: 1)])
          isImage = false
        }
        current = builder.node(
          "Gemm", [current, parameter("\(index).weight"), parameter("\(index).bias")],
          [ONNXGraphBuilder.attribute("transB", int: 1)])
      case .conv2d(_, let kernel, let stride, let padding):
        current = builder.node(
          "Conv", [current, parameter("\(index).weight"), parameter("\(index).bias")],
          [
            ONNXGraphBuilder.attribute("kernel_shape", ints: [kernel, kernel]),
            ONNXGraphBuilder.attribute("strides", ints: [stride, stride]),
            ONNXGraphBuilder.attribute("pads", ints: [padding, padding, padding, padding]),
          ])
      case .maxPool(let size, let stride):
        current = builder.node("MaxPool", [current], window(size, stride))
      case .l2Pool(let size, let stride):
        let squared = builder.node("Mul", [current, current])
        let average = builder.node("AveragePool", [squared], window(size, stride))
        current = builder.node("Sqrt", [average])
      case .subtractiveNormalization(let kernel):
        current = subtractiveNormalization(current, kernel: kernel, shape: shape, into: &builder)
      case .batchNorm(let perChannel):
        current = batchNormalization(
          current, axes: perChannel && isImage ? [0, 2, 3] : [0], into: &builder)
      case .relu:
        current = builder.node("Relu", [current])
      case .tanh:
        current = builder.node("Tanh", [current])
      case .sigmoid:
        current = builder.node("Sigmoid", [current])
      case .flatten:
        if isImage {
          current = builder.node("Flatten", [current], [ONNXGraphBuilder.attribute("axis", int: 1)])
          isImage = false
        }
      case .logSoftmax:
        current = builder.node(
          "LogSoftmax", [current], [ONNXGraphBuilder.attribute("axis", int: 1)],
          output: "log_probabilities")
      }
      shape = spec.shapes[index]
    }
    _ = builder.node("Exp", [current], output: "probabilities")

    var graph = Onnx_GraphProto()
    graph.name = spec.name
    graph.node = builder.nodes
    graph.initializer = builder.initializers
    graph.input = [
      ONNXGraphBuilder.floatValue(inputName, batchOf: inputShape, doc: inputDescription(model))
    ]
    let classes = model.classNames.joined(separator: ", ")
    graph.output = [
      ONNXGraphBuilder.floatValue(
        "log_probabilities", batchOf: [spec.classCount],
        doc: "log-probabilities of the classes \(classes)"),
      ONNXGraphBuilder.floatValue(
        "probabilities", batchOf: [spec.classCount], doc: "probabilities of the classes \(classes)"),
    ]

    var proto = Onnx_ModelProto()
    proto.irVersion = irVersion
    var opset = Onnx_OperatorSetIdProto()
    opset.domain = ""
    opset.version = opsetVersion
    proto.opsetImport = [opset]
    proto.producerName = "colearn"
    proto.producerVersion = producerVersion
    proto.graph = graph
    proto.docString =
      "colearn model \(spec.name). Input '\(inputName)': \(inputDescription(model)). Outputs: "
      + "'log_probabilities' and 'probabilities' [batch, \(spec.classCount)] over the classes "
      + "\(classes)."
      + (spec.layers.contains { if case .batchNorm = $0 { true } else { false } }
        ? " Batch normalisation uses the statistics of the batch fed (as colearn does): "
          + "outputs depend on the batch." : "")
    var metadata: [(String, String)] = [
      ("colearn.model", ModelFile.canonicalText(of: spec)),
      ("colearn.classes", model.classNames.joined(separator: "\n")),
    ]
    if let schema = model.schema {
      metadata.append(("colearn.schema", String(decoding: schema.canonicalJSON(), as: UTF8.self)))
    }
    proto.metadataProps = metadata.map { key, value in
      var entry = Onnx_StringStringEntryProto()
      entry.key = key
      entry.value = value
      return entry
    }
    return proto
  }

  // MARK: - Pieces

  private static func window(_ size: Int, _ stride: Int) -> [Onnx_AttributeProto] {
    [
      ONNXGraphBuilder.attribute("kernel_shape", ints: [size, size]),
      ONNXGraphBuilder.attribute("strides", ints: [stride, stride]),
    ]
  }

  /// The per-value mean and deviation the input is standardised with: per channel (broadcast
  /// over the last axis) for array schemas, per feature for CSV schemas (0 and 1 for one-hot
  /// values); nil without a schema.
  private static func standardization(_ model: SavedModel) -> ([Float], [Float])? {
    guard let schema = model.schema else { return nil }
    if let normalization = schema.normalization {
      return (normalization.mean, normalization.standardDeviation)
    }
    var mean = [Float](repeating: 0, count: schema.sampleSize)
    var deviation = [Float](repeating: 1, count: schema.sampleSize)
    for column in schema.features where column.kind == .numeric {
      mean[column.offset] = Float(column.mean ?? 0)
      deviation[column.offset] = Float(column.standardDeviation ?? 1)
    }
    return (mean, deviation)
  }

  private static func inputDescription(_ model: SavedModel) -> String {
    let (name, shape) = input(of: model)
    let dimensions = (["batch"] + shape.map(String.init)).joined(separator: ", ")
    guard let schema = model.schema else {
      return "\(name) [\(dimensions)], float32, already standardised (the model file has no schema)"
    }
    if takesRawMNIST(model) {
      return "\(name) [\(dimensions)], float32 pixel values 0-255 (MNIST images; the graph pads "
        + "to 32x32 and standardises)"
    }
    if schema.sourceKind.isTabular {
      let columns = schema.features.map { column in
        column.kind == .numeric
          ? column.name
          : "\(column.name) one-hot over [\((column.categories ?? []).joined(separator: ", "))]"
      }
      return "\(name) [\(dimensions)], float32: \(columns.joined(separator: "; ")), raw values "
        + "(the graph standardises numeric columns)"
    }
    return "\(name) [\(dimensions)], float32, channels-last raw values (the graph standardises)"
  }

  /// Torch7's subtractive normalisation (``SubtractiveNormalization``) on an NCHW value:
  /// m = Conv(x, g⊗g / C over all C channels, zero padding k/2) · (1 / mass), y = x − m.
  private static func subtractiveNormalization(
    _ x: String, kernel size: Int, shape: TensorShape, into builder: inout ONNXGraphBuilder
  ) -> String {
    let g = SubtractiveNormalization.gaussianKernel(size: size)
    let channels = shape.channels
    var weights: [Float] = []
    weights.reserveCapacity(channels * size * size)
    for _ in 0..<channels {
      for i in 0..<size {
        for j in 0..<size { weights.append(g[i] * g[j] / Float(channels)) }
      }
    }
    let pad = size / 2
    let smoothed = builder.node(
      "Conv", [x, builder.constant("gaussian", weights, shape: [1, channels, size, size])],
      [
        ONNXGraphBuilder.attribute("kernel_shape", ints: [size, size]),
        ONNXGraphBuilder.attribute("pads", ints: [pad, pad, pad, pad]),
      ])
    let inverseMass = SubtractiveNormalization.inverseMass(
      kernel: g, height: shape.height, width: shape.width)
    let mean = builder.node(
      "Mul",
      [smoothed, builder.constant("inverse_mass", inverseMass, shape: [1, 1, shape.height, shape.width])])
    return builder.node("Sub", [x, mean])
  }

  /// colearn's batch normalisation (``BatchNorm``: batch statistics, biased variance, no
  /// affine part) over `axes` (opset 17: ReduceMean takes them as an attribute).
  private static func batchNormalization(
    _ x: String, axes: [Int], into builder: inout ONNXGraphBuilder
  ) -> String {
    let reduce = [
      ONNXGraphBuilder.attribute("axes", ints: axes), ONNXGraphBuilder.attribute("keepdims", int: 1),
    ]
    let mean = builder.node("ReduceMean", [x], reduce)
    let centred = builder.node("Sub", [x, mean])
    let variance = builder.node("ReduceMean", [builder.node("Mul", [centred, centred])], reduce)
    let epsilon = builder.constant("epsilon", [BatchNorm.defaultEpsilon], shape: [])
    let deviation = builder.node("Sqrt", [builder.node("Add", [variance, epsilon])])
    return builder.node("Div", [centred, deviation])
  }
}
