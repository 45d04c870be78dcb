/// Where each parameter tensor of a model lies in the flat parameter vector (SPEC §2, STYLE §1).
///
/// Built from the layers in order; each layer's tensors are contiguous and follow each other in
/// the order of ``Layer/parameterShapes``. Selection, the server state and the wire format all
/// index into this one vector.
public struct ParameterLayout: Sendable, Hashable {
  /// One tensor of the layout.
  public struct Entry: Sendable, Hashable {
    /// The index of the owning layer in the model.
    public var layerIndex: Int
    /// A qualified name such as `2.weight` (layer index, tensor name).
    public var name: String
    /// The tensor's dimensions.
    public var dimensions: [Int]
    /// The positions of the tensor in the flat vector.
    public var range: Range<Int>
  }

  /// The tensors in flat-vector order.
  public private(set) var entries: [Entry]
  /// The range of each layer (empty for layers without parameters), indexed by layer.
  public private(set) var layerRanges: [Range<Int>]
  /// The total number of parameters, |w|.
  public private(set) var parameterCount: Int

  /// The layout of `layers` in order.
  public init(layers: [any Layer]) {
    var entries: [Entry] = []
    var layerRanges: [Range<Int>] = []
    var offset = 0
    for (index, layer) in layers.enumerated() {
      let start = offset
      for shape in layer.parameterShapes {
        entries.append(
          Entry(
            layerIndex: index, name: "\(index).\(shape.name)", dimensions: shape.dimensions,
            range: offset..<(offset + shape.count)))
        offset += shape.count
      }
      layerRanges.append(start..<offset)
    }
    self.entries = entries
    self.layerRanges = layerRanges
    self.parameterCount = offset
  }
}
