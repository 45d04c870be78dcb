import CoLearnData
import CoLearnNN

/// A trained model as a file others can use (issue 18): the parameters as safetensors tensors
/// named and laid out like the equivalent `torch.nn.Sequential` (``TorchLayout``), and in the
/// metadata the model file and the dataset schema, so the file alone says how to build the
/// network and how to prepare raw data for it.
///
/// Metadata keys: `format` (`colearn-model/1`), `colearn.model` (the canonical model file,
/// TOML), `colearn.schema` (the dataset schema JSON, when known), `colearn.classes` (the class
/// names, one per line: the output order), `colearn.layout` (a one-line account of the tensor
/// layout), plus free-form ``information`` (what produced the file: the command, the round).
///
/// Reading validates the file like any input (``SavedModelError``): a damaged safetensors file,
/// a missing or unreadable model file, a schema that does not fit the model, and a missing,
/// extra or misshapen tensor are each refused with the file and the tensor named.
///
/// Threading: a value type, `Sendable`.
public struct SavedModel: Sendable {
  /// The `format` metadata this build writes and reads.
  public static let format = "colearn-model/1"

  /// The architecture.
  public var spec: ModelSpec
  /// How raw data is standardised for the model, and its class names; nil when unknown.
  public var schema: DatasetSchema?
  /// The parameters in colearn's flat layout (``ParameterLayout``), |w| of them.
  public var parameters: [Float]
  /// Free-form strings about the file's origin, e.g. `source`: `colearn train, final epoch`.
  public var information: [String: String]

  /// A saved model. `parameters.count` must be the spec's |w|.
  public init(
    spec: ModelSpec, schema: DatasetSchema?, parameters: [Float],
    information: [String: String] = [:]
  ) {
    precondition(parameters.count == spec.parameterCount, "|w| is \(spec.parameterCount)")
    self.spec = spec
    self.schema = schema
    self.parameters = parameters
    self.information = information
  }

  /// The class names in output order: the schema's, else "0" … "K−1".
  public var classNames: [String] {
    schema?.classes ?? (0..<spec.classCount).map(String.init)
  }

  // MARK: - To and from safetensors

  private static let reservedKeys: Set<String> = [
    "format", "colearn.model", "colearn.schema", "colearn.classes", "colearn.layout",
  ]

  /// The model as safetensors tensors and metadata.
  public var safeTensors: SafeTensors {
    let tensors = TorchLayout(spec).placements.map { placement in
      SafeTensors.Tensor(
        name: placement.name, shape: placement.shape,
        values: placement.positions.map { parameters[$0] })
    }
    var metadata = information.filter { !Self.reservedKeys.contains($0.key) }
    metadata["format"] = Self.format
    metadata["colearn.model"] = ModelFile.canonicalText(of: spec)
    if let schema { metadata["colearn.schema"] = String(decoding: schema.canonicalJSON(), as: UTF8.self) }
    metadata["colearn.classes"] = classNames.joined(separator: "\n")
    metadata["colearn.layout"] =
      "torch.nn.Sequential: I.weight/I.bias for layer I of colearn.model; Linear [out, in] with "
      + "image inputs flattened channels-first; Conv2d [out, in, k, k]"
    return SafeTensors(tensors: tensors, metadata: metadata)
  }

  /// The tensors of ``safeTensors`` as a NumPy `.npz` archive (no metadata), for `path`.
  ///
  /// - Throws: ``SavedModelError`` for a model past the ZIP format's 4 GiB.
  public func npzArchive(path: String) throws(SavedModelError) -> [UInt8] {
    try NPZWriter.archive(safeTensors.tensors, path: path)
  }

  /// The model in `file` (read from `path`, named in errors).
  ///
  /// - Throws: ``SavedModelError``.
  public init(_ file: SafeTensors, path: String) throws(SavedModelError) {
    func fail(_ reason: String) -> SavedModelError { SavedModelError(path: path, reason: reason) }
    guard let format = file.metadata["format"] else {
      throw fail(
        "the safetensors file has no colearn metadata (format \(Self.format)); it was not "
          + "written by colearn")
    }
    guard format == Self.format else {
      throw fail("format '\(format)' is not \(Self.format), the one this build reads")
    }
    guard let text = file.metadata["colearn.model"] else { throw fail("colearn.model is missing") }
    let spec: ModelSpec
    do {
      spec = try ModelFile.parse(text, file: "\(path) (colearn.model)")
    } catch {
      throw fail("its model file cannot be read: \(error)")
    }
    var schema: DatasetSchema?
    if let json = file.metadata["colearn.schema"] {
      do {
        schema = try DatasetSchema(json: Array(json.utf8), path: "\(path) (colearn.schema)")
      } catch {
        throw fail("its dataset schema cannot be read: \(error)")
      }
      if let schema,
        schema.inputShape != spec.inputShape.dimensions || schema.classes.count != spec.classCount
      {
        throw fail(
          "its schema (samples \(schema.inputShape), \(schema.classes.count) classes) does not "
            + "fit its model (input \(spec.inputShape), \(spec.classCount) classes)")
      }
    }
    var parameters = [Float](repeating: 0, count: spec.parameterCount)
    let placements = TorchLayout(spec).placements
    let expected = Set(placements.map(\.name))
    if let extra = file.tensors.first(where: { !expected.contains($0.name) }) {
      throw fail("tensor '\(extra.name)' is not a parameter of its model")
    }
    for placement in placements {
      guard let tensor = file[placement.name] else {
        throw fail(
          "tensor '\(placement.name)' of shape \(placement.shape) is missing (its model has "
            + "\(placements.map(\.name).joined(separator: ", ")))")
      }
      guard tensor.shape == placement.shape else {
        throw fail(
          "tensor '\(placement.name)' has shape \(tensor.shape) but its model needs "
            + "\(placement.shape)")
      }
      for (value, position) in zip(tensor.values, placement.positions) {
        parameters[position] = value
      }
    }
    self.spec = spec
    self.schema = schema
    self.parameters = parameters
    self.information = file.metadata.filter { !Self.reservedKeys.contains($0.key) }
  }

  /// Writes the model to `path` atomically (a temporary file, fsync, rename): a crash or kill
  /// mid-write leaves the previous file or none, never a truncated one.
  ///
  /// - Throws: ``SavedModelError`` for an I/O failure.
  public func write(toPath path: String) throws(SavedModelError) {
    do {
      try FileIO.writeAtomically(safeTensors.encoded(), toPath: path)
    } catch {
      throw SavedModelError(path: path, reason: "cannot write it: \(error)")
    }
  }

  /// Reads and validates the model saved at `path`.
  ///
  /// - Throws: ``SavedModelError``.
  public init(contentsOfFile path: String) throws(SavedModelError) {
    let bytes: [UInt8]
    do {
      bytes = try FileIO.readFile(atPath: path)
    } catch {
      throw SavedModelError(path: path, reason: "cannot read it: \(error)")
    }
    try self.init(SafeTensors(bytes: bytes, path: path), path: path)
  }
}

/// A model file (a saved model, or the safetensors file under it) that cannot be read or
/// written: the file and what is wrong.
public struct SavedModelError: Error, Equatable, Sendable, CustomStringConvertible {
  public var path: String
  public var reason: String

  public init(path: String, reason: String) {
    self.path = path
    self.reason = reason
  }

  public var description: String { "\(path): \(reason)" }
}
