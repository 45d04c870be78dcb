import Foundation

/// Model files: a ``ModelSpec`` written as TOML (or JSON with the same keys).
///
/// ```toml
/// name = "breast-cancer-mlp"   # optional; defaults to the file's name
/// input = [30]                 # [features], or [height, width, channels] for images
/// classes = 2                  # K: the model outputs K log-probabilities
///
/// [[layers]]
/// type = "linear"
/// outputs = 16
///
/// [[layers]]
/// type = "relu"
///
/// [[layers]]
/// type = "linear"
/// outputs = 2
/// ```
///
/// `task = "classification"` may be given (it is the only task). Layer settings, by `type`:
/// `linear` outputs; `conv2d` channels, kernel, stride (1), padding (0); `maxpool` and `l2pool`
/// size, stride (= size); `subtractive-norm` kernel (7); `batchnorm` per_channel (false);
/// `relu`, `tanh`, `sigmoid`, `flatten`, `log-softmax` none. The output `log-softmax` is added
/// when the list does not end with it. An unknown key is refused, so a typo is never ignored.
public enum ModelFile {
  /// Reads the model file at `path`.
  ///
  /// - Throws: ``ModelFileError`` naming the file: it cannot be read, a syntax error (with its
  ///   line), a missing or mistyped setting, or a layer that does not fit (``ModelSpecError``'s
  ///   message, which names the layer's index and kind).
  public static func load(path: String) throws(ModelFileError) -> ModelSpec {
    guard let data = FileManager.default.contents(atPath: path) else {
      let exists = FileManager.default.fileExists(atPath: path)
      throw ModelFileError(
        file: path,
        reason: exists
          ? "cannot be read; check its permissions"
          : "no such model file; give a path to a .toml or .json model file or a preset name "
            + "(\(ModelSpec.presets.map(\.name).joined(separator: ", ")))")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw ModelFileError(file: path, reason: "is not UTF-8 text")
    }
    let stem = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
    return try parse(text, file: path, defaultName: stem)
  }

  /// Parses model-file text; JSON when it starts with `{` or `file` ends in `.json`, TOML
  /// otherwise.
  public static func parse(
    _ text: String, file: String, defaultName: String? = nil
  ) throws(ModelFileError) -> ModelSpec {
    let trimmed = text.drop { $0.isWhitespace }
    let root =
      trimmed.first == "{" || file.hasSuffix(".json")
      ? try JSONModelReader.parse(text, file: file)
      : try TOMLReader.parse(text, file: file)
    return try spec(from: root, file: file, defaultName: defaultName)
  }

  /// The canonical TOML of `spec`: every setting explicit, keys in a fixed order. Parsing it
  /// gives `spec` back; the server publishes it at Join.
  public static func canonicalText(of spec: ModelSpec) -> String {
    var lines = [
      "name = \"\(spec.name)\"",
      "input = [\(spec.inputShape.dimensions.map(String.init).joined(separator: ", "))]",
      "classes = \(spec.classCount)",
    ]
    for layer in spec.layers {
      lines.append("")
      lines.append("[[layers]]")
      lines.append("type = \"\(layer.kind)\"")
      for (key, value) in layer.settings { lines.append("\(key) = \(value)") }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  // MARK: - From values to a spec

  private static let topKeys = ["name", "input", "classes", "task", "layers"]

  private static func spec(
    from root: ModelFileValue, file: String, defaultName: String?
  ) throws(ModelFileError) -> ModelSpec {
    func fail(_ reason: String) -> ModelFileError { ModelFileError(file: file, reason: reason) }
    guard case .table(let top, let keys) = root else {
      throw fail("a model file is a table of settings (name, input, classes, layers)")
    }
    if let unknown = keys.first(where: { !topKeys.contains($0) }) {
      throw fail("unknown setting '\(unknown)'; a model file has \(topKeys.joined(separator: ", "))")
    }
    var name = defaultName ?? "model"
    if let value = top["name"] {
      guard case .string(let given) = value else { throw fail("name must be a string") }
      name = given
    }
    if let task = top["task"], task != .string("classification") {
      throw fail("task must be \"classification\" (the only task colearn trains)")
    }
    guard case .array(let dimensionValues)? = top["input"] else {
      throw fail(
        "input is missing: give the per-sample shape, e.g. input = [30] for 30 features or "
          + "input = [28, 28, 1] for grey images")
    }
    var dimensions: [Int] = []
    for value in dimensionValues {
      guard case .integer(let d) = value else { throw fail("input must be a list of integers") }
      dimensions.append(d)
    }
    guard (1...3).contains(dimensions.count), dimensions.allSatisfy({ $0 >= 1 }) else {
      throw fail(ModelSpecError.invalidInputShape(dimensions).description)
    }
    guard case .integer(let classes)? = top["classes"] else {
      throw fail("classes is missing: give the number of classes, e.g. classes = 2 for yes/no")
    }
    guard case .array(let layerValues)? = top["layers"], !layerValues.isEmpty else {
      throw fail("layers is missing: list the layers as [[layers]] tables, each with a type")
    }
    var layers: [LayerSpec] = []
    for (offset, value) in layerValues.enumerated() {
      layers.append(try layer(from: value, index: offset + 1, file: file))
    }
    do {
      return try ModelSpec(
        name: name, inputShape: TensorShape(dimensions: dimensions), classCount: classes,
        layers: layers)
    } catch {
      throw fail(error.description)
    }
  }

  /// The settings each kind takes, with defaults (nil: required).
  private static let layerSettings: [String: [(key: String, defaultValue: ModelFileValue?)]] = [
    "linear": [("outputs", nil)],
    "conv2d": [("channels", nil), ("kernel", nil), ("stride", .integer(1)), ("padding", .integer(0))],
    "maxpool": [("size", nil), ("stride", nil)],
    "l2pool": [("size", nil), ("stride", nil)],
    "subtractive-norm": [("kernel", .integer(7))],
    "batchnorm": [("per_channel", .boolean(false))],
    "relu": [], "tanh": [], "sigmoid": [], "flatten": [], "log-softmax": [],
  ]

  private static func layer(
    from value: ModelFileValue, index: Int, file: String
  ) throws(ModelFileError) -> LayerSpec {
    guard case .table(let entries, let keys) = value else {
      throw ModelFileError(file: file, reason: "layer \(index): a layer is a table with a type")
    }
    guard case .string(let kind)? = entries["type"] else {
      throw ModelFileError(
        file: file,
        reason: "layer \(index): type is missing; one of \(LayerSpec.kinds.joined(separator: ", "))")
    }
    func fail(_ reason: String) -> ModelFileError {
      ModelFileError(file: file, reason: "layer \(index) \(kind): \(reason)")
    }
    guard let known = layerSettings[kind] else {
      if kind == "dropout" {
        throw fail(
          "dropout is not supported yet (layers have no training mode); remove it, or use a "
            + "smaller model or weight decay through a smaller learning rate")
      }
      throw fail("unknown layer type; use one of \(LayerSpec.kinds.joined(separator: ", "))")
    }
    let allowed = ["type"] + known.map(\.key)
    if let unknown = keys.first(where: { !allowed.contains($0) }) {
      let takes = known.isEmpty ? "takes no settings" : "takes " + known.map(\.key).joined(separator: ", ")
      throw fail("unknown setting '\(unknown)'; \(kind) \(takes)")
    }
    func integer(_ key: String) throws(ModelFileError) -> Int? {
      guard let value = entries[key] ?? known.first(where: { $0.key == key })?.defaultValue else {
        return nil
      }
      guard case .integer(let number) = value else {
        throw fail("\(key) must be an integer, got \(value.kindName)")
      }
      return number
    }
    func required(_ key: String) throws(ModelFileError) -> Int {
      guard let number = try integer(key) else { throw fail("\(key) is missing") }
      return number
    }
    switch kind {
    case "linear": return .linear(outputs: try required("outputs"))
    case "conv2d":
      return .conv2d(
        channels: try required("channels"), kernel: try required("kernel"),
        stride: try required("stride"), padding: try required("padding"))
    case "maxpool", "l2pool":
      let size = try required("size")
      let stride = try integer("stride") ?? size
      return kind == "maxpool" ? .maxPool(size: size, stride: stride) : .l2Pool(size: size, stride: stride)
    case "subtractive-norm": return .subtractiveNormalization(kernel: try required("kernel"))
    case "batchnorm":
      let value = entries["per_channel"] ?? .boolean(false)
      guard case .boolean(let perChannel) = value else {
        throw fail("per_channel must be true or false, got \(value.kindName)")
      }
      return .batchNorm(perChannel: perChannel)
    case "relu": return .relu
    case "tanh": return .tanh
    case "sigmoid": return .sigmoid
    case "flatten": return .flatten
    default: return .logSoftmax
    }
  }
}
