import ArgumentParser
import CoLearnData
import CoLearnNN

/// Which data a command trains and evaluates on (issue 17, SPEC §11): `--data` (a preset
/// dataset or the user's own file), where the test set comes from, the label column of a CSV,
/// imputation and a shared schema. Declared once; `train`, `simulate`, `participate` and
/// `data describe` take the same flags.
struct DataSourceOptions: ParsableArguments {
  @Option(
    name: .customLong("data"),
    help: ArgumentHelp(
      "The data: mnist, svhn, csv:FILE, npz:FILE, npy:X.npy,Y.npy or idx:DIR (default: the "
        + "preset model's dataset).", valueName: "spec"))
  var source: String?

  @Option(
    name: .customLong("test-data"),
    help: ArgumentHelp("A separate test source, encoded with the same schema.", valueName: "spec"))
  var testData: String?

  @Option(
    name: .customLong("test-fraction"),
    help: ArgumentHelp(
      "Hold out this share of each class of --data as the test set (seeded by --seed).",
      valueName: "f"))
  var testFraction: Double?

  @Option(
    name: .customLong("label-column"),
    help: ArgumentHelp("The label column of a CSV source (default: the last).", valueName: "name"))
  var labelColumn: String?

  @Option(help: "Missing numeric CSV cells: none (an error naming the cell) or mean (training mean).")
  var impute: DatasetSchema.Imputation?

  @Option(
    help: ArgumentHelp(
      "Standardise with this schema (`colearn data describe --out`) instead of fitting one; "
        + "data that does not match it is refused.", valueName: "file"))
  var schema: String?

  func validate() throws {
    if let testFraction, !(testFraction > 0 && testFraction < 1) {
      throw ValidationError("--test-fraction must lie strictly between 0 and 1, got \(testFraction)")
    }
    if let source { _ = try parse(source, flag: "data") }
    if let testData { _ = try parse(testData, flag: "test-data") }
  }

  private func parse(_ text: String, flag: String) throws -> DataSource {
    do {
      return try DataSource(parsing: text)
    } catch {
      throw ValidationError("invalid --\(flag) '\(text)': \(error)")
    }
  }

  /// The source `--data` names, or the preset dataset of `spec`.
  func dataSource(for spec: ModelSpec) throws -> DataSource {
    if let source { return try parse(source, flag: "data") }
    guard let name = spec.defaultData.flatMap(DatasetName.init(rawValue:)) else {
      throw CLIError(
        "model \(spec.name) comes from a file and names no dataset: pass --data (e.g. "
          + "--data csv:FILE --label-column NAME, or --data npz:FILE)")
    }
    return .builtIn(name)
  }

  /// Loads, splits and standardises the data for `spec`, and checks that its samples fit the
  /// model's input and its classes the model's outputs. `schema` (a federation's) replaces
  /// `--schema`.
  ///
  /// - Throws: ``CLIError`` with the loader's message (the file, row, column or array, and
  ///   what to do), or naming the model setting that does not fit the data.
  func load(
    for spec: ModelSpec, directory: DataDirectory, seed: UInt64,
    options: DatasetLoadOptions = DatasetLoadOptions(), requiresTestSet: Bool = true,
    schema: DatasetSchema? = nil
  ) throws -> LoadedSource {
    let loaded = try loadUnchecked(
      source: dataSource(for: spec), directory: directory, seed: seed, options: options,
      requiresTestSet: requiresTestSet, schema: schema)
    try check(spec, fits: loaded)
    return loaded
  }

  /// Loads `source` (default: `--data`) without a model to check it against, standardising
  /// with `schema`, else `--schema`, else a schema fitted on the training data.
  func loadUnchecked(
    source: DataSource? = nil, directory: DataDirectory, seed: UInt64,
    options: DatasetLoadOptions = DatasetLoadOptions(), requiresTestSet: Bool = true,
    schema given: DatasetSchema? = nil
  ) throws -> LoadedSource {
    let source = try source ?? parse(self.source ?? "", flag: "data")
    let test = try testData.map { try parse($0, flag: "test-data") }
    do {
      let shared = try given ?? schema.map { path throws(DataError) in
        try DatasetSchema(contentsOfFile: path)
      }
      return try LoadedSource.load(
        source, testSource: test, testFraction: testFraction, labelColumn: labelColumn,
        imputation: impute, schema: shared, seed: seed, dataDirectory: directory,
        options: options, requiresTestSet: requiresTestSet)
    } catch {
      let builtIn = source.kind == .mnist || source.kind == .svhn
      throw CLIError("\(error)" + (builtIn ? "\n(data directory: \(directory.explanation))" : ""))
    }
  }

  /// Refuses a model whose input shape or class count differs from the data's.
  func check(_ spec: ModelSpec, fits loaded: LoadedSource) throws {
    try checkModel(spec, fits: loaded.schema, of: "\(loaded.source)")
  }
}

/// Refuses a model whose input shape or class count differs from the data `schema` describes
/// (`data` names it in the message: a source, or `--schema FILE`), saying what to set in the
/// model file.
func checkModel(_ spec: ModelSpec, fits schema: DatasetSchema, of data: String) throws {
  let shape = schema.inputShape
  if shape != spec.inputShape.dimensions {
    throw CLIError(
      "model \(spec.name) takes input \(spec.inputShape) but \(data) has samples of "
        + "\(shape.map(String.init).joined(separator: "×")): set input = "
        + "[\(shape.map(String.init).joined(separator: ", "))] in the model file")
  }
  let classes = schema.classes.count
  if classes != spec.classCount {
    throw CLIError(
      "model \(spec.name) has \(spec.classCount) classes but \(data) has \(classes) "
        + "(\(schema.classes.prefix(12).joined(separator: ", "))): set classes = "
        + "\(classes) and give the last linear layer \(classes) outputs")
  }
}
