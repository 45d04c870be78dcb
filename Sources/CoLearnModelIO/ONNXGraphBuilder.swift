import Foundation
import SwiftProtobuf

/// Accumulates the nodes and constant tensors of an ONNX graph (the types generated from the
/// public `onnx.proto`, `Generated/onnx.pb.swift`), naming every intermediate value so that
/// each node's output is a fresh, unique name.
///
/// Threading: a value type used by one export at a time.
struct ONNXGraphBuilder {
  /// ONNX `TensorProto.DataType` codes this builder writes.
  enum ElementType: Int32 {
    case float = 1
    case int64 = 7
  }

  private(set) var nodes: [Onnx_NodeProto] = []
  private(set) var initializers: [Onnx_TensorProto] = []
  private var usedNames: Set<String> = []

  /// A name not used yet, from `hint`.
  private mutating func uniqueName(_ hint: String) -> String {
    var name = hint
    var suffix = 1
    while usedNames.contains(name) {
      suffix += 1
      name = "\(hint)_\(suffix)"
    }
    usedNames.insert(name)
    return name
  }

  /// Reserves `name` (a graph input), so that no node output takes it.
  mutating func reserve(_ name: String) {
    usedNames.insert(name)
  }

  /// A float constant (an initializer) of `shape` holding `values` row-major; returns its name.
  mutating func constant(_ hint: String, _ values: [Float], shape: [Int]) -> String {
    precondition(values.count == shape.reduce(1, *), "\(hint): \(values.count) values for \(shape)")
    var tensor = Onnx_TensorProto()
    tensor.name = uniqueName(hint)
    tensor.dims = shape.map(Int64.init)
    tensor.dataType = ElementType.float.rawValue
    // Raw data is little-endian IEEE 754 (onnx.proto), which is this machine's order.
    tensor.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
    initializers.append(tensor)
    return tensor.name
  }

  /// An int64 constant (shapes, pads, axes); returns its name.
  mutating func constant(_ hint: String, int64 values: [Int64], shape: [Int]) -> String {
    var tensor = Onnx_TensorProto()
    tensor.name = uniqueName(hint)
    tensor.dims = shape.map(Int64.init)
    tensor.dataType = ElementType.int64.rawValue
    tensor.int64Data = values
    initializers.append(tensor)
    return tensor.name
  }

  /// Appends an `operation` node reading `inputs`; returns the name of its (single) output,
  /// `output` when given, else a fresh name from the operation.
  mutating func node(
    _ operation: String, _ inputs: [String], _ attributes: [Onnx_AttributeProto] = [],
    output: String? = nil
  ) -> String {
    var node = Onnx_NodeProto()
    node.opType = operation
    node.input = inputs
    let result = output.map { name -> String in
      usedNames.insert(name)
      return name
    } ?? uniqueName(operation.lowercased())
    node.output = [result]
    node.name = "\(operation)_\(nodes.count)"
    node.attribute = attributes
    nodes.append(node)
    return result
  }

  // MARK: - Attributes

  static func attribute(_ name: String, int value: Int) -> Onnx_AttributeProto {
    var attribute = Onnx_AttributeProto()
    attribute.name = name
    attribute.type = .int
    attribute.i = Int64(value)
    return attribute
  }

  static func attribute(_ name: String, ints values: [Int]) -> Onnx_AttributeProto {
    var attribute = Onnx_AttributeProto()
    attribute.name = name
    attribute.type = .ints
    attribute.ints = values.map(Int64.init)
    return attribute
  }

  // MARK: - Value descriptions

  /// A float tensor value of `dimensions`, the first one the symbolic `batch`.
  static func floatValue(_ name: String, batchOf dimensions: [Int], doc: String) -> Onnx_ValueInfoProto {
    var shape = Onnx_TensorShapeProto()
    var batch = Onnx_TensorShapeProto.Dimension()
    batch.dimParam = "batch"
    shape.dim = [batch] + dimensions.map { size in
      var dimension = Onnx_TensorShapeProto.Dimension()
      dimension.dimValue = Int64(size)
      return dimension
    }
    var tensorType = Onnx_TypeProto.Tensor()
    tensorType.elemType = ElementType.float.rawValue
    tensorType.shape = shape
    var type = Onnx_TypeProto()
    type.tensorType = tensorType
    var value = Onnx_ValueInfoProto()
    value.name = name
    value.type = type
    value.docString = doc
    return value
  }
}
