/// Training and test sets loaded from a ``DataSource`` and standardised with a
/// ``DatasetSchema``: the one entry point the commands call for `--data` (issue 17).
///
/// Where the test set comes from, in this order:
/// 1. `testSource` (`--test-data SPEC`): that source's test part if it has one (`x_test`/
///    `y_test`, the `t10k-` IDX pair), otherwise all its samples; encoded with the schema in
///    force, so it must match it.
/// 2. `testFraction` (`--test-fraction F`): a seeded, stratified split of the training source
///    (``TestSplit``); a test part the source has of its own is then not used.
/// 3. The source's own test part (`npz` with `x_test`/`y_test`, `idx` with `t10k-*` files).
/// 4. Otherwise an error asks for `--test-data` or `--test-fraction` (or, when the caller
///    does not need one, `requiresTestSet: false`, the test set is empty).
///
/// `mnist` and `svhn` always use their own test sets (either option is an error for them).
///
/// The schema in force is `schema` when given (a deployment's shared schema: the local data
/// only has to match it) or else one fitted here: vocabulary (categories, classes) from the
/// whole training source, statistics (means, deviations) from the training part only, so the
/// test part never influences the standardisation. For `mnist`/`svhn` without a schema the
/// result is exactly ``loadDataset(_:dataDirectory:options:)``'s.
///
/// Threading: a value type, `Sendable`.
public struct LoadedSource: Sendable {
  /// Where the training data came from.
  public var source: DataSource
  /// The standardised training set (sample shape ``DatasetSchema/inputShape``).
  public var train: Dataset
  /// The standardised test set.
  public var test: Dataset
  /// The schema the sets were standardised with: the given one or the one fitted here.
  public var schema: DatasetSchema

  /// The class names; label `i` is `classNames[i]`.
  public var classNames: [String] { schema.classes }

  /// The per-channel statistics of array data (`nil` for tabular data, whose statistics are
  /// per column in ``schema``).
  public var normalization: Normalization? { schema.normalization }

  /// Loads, splits and standardises a source.
  ///
  /// - Parameters:
  ///   - source: The training data (`--data`).
  ///   - testSource: A separate test source (`--test-data`).
  ///   - testFraction: The share of the training source held out as the test set
  ///     (`--test-fraction`), in (0, 1).
  ///   - labelColumn: The label column of a CSV source (`--label-column`); defaults to the
  ///     schema's.
  ///   - imputation: Missing numeric cells of a CSV source (`--impute`); defaults to the
  ///     schema's, or ``DatasetSchema/Imputation/none``.
  ///   - schema: A shared schema to apply instead of fitting one.
  ///   - seed: Seeds the `testFraction` split (nothing else).
  ///   - dataDirectory: Where `mnist`/`svhn` are read from.
  ///   - options: The SVHN training set and the train/test limits (which apply to every
  ///     source: the first samples of each part are kept, before fitting).
  ///   - requiresTestSet: `false` to accept a source without any test set (`colearn data
  ///     describe`); the test set is then empty.
  /// - Throws: ``DataError`` naming the file, the row/column or array, or the option at fault.
  public static func load(
    _ source: DataSource, testSource: DataSource? = nil, testFraction: Double? = nil,
    labelColumn: String? = nil, imputation: DatasetSchema.Imputation? = nil,
    schema: DatasetSchema? = nil, seed: UInt64 = 0, dataDirectory: DataDirectory,
    options: DatasetLoadOptions = DatasetLoadOptions(), requiresTestSet: Bool = true
  ) throws(DataError) -> LoadedSource {
    let spelling = source.description
    func invalid(_ reason: String) -> DataError {
      .invalidDataSource(spelling: spelling, reason: reason)
    }
    if testSource != nil, testFraction != nil {
      throw invalid("pass either --test-data or --test-fraction, not both")
    }
    if !source.kind.isTabular {
      if labelColumn != nil { throw invalid("--label-column applies to csv: sources only") }
      if let imputation, imputation != .none {
        throw invalid("--impute applies to csv: sources only")
      }
    }
    if let schema {
      if let labelColumn, schema.labelColumn != nil, labelColumn != schema.labelColumn {
        throw invalid(
          "--label-column \(labelColumn) differs from the schema's label column "
            + "'\(schema.labelColumn ?? "")'; drop the option or use that column")
      }
      if let imputation, schema.sourceKind.isTabular, imputation != schema.imputation {
        throw invalid(
          "--impute \(imputation.rawValue) differs from the schema's imputation "
            + "'\(schema.imputation.rawValue)'; the schema decides")
      }
    }
    let request = Request(
      source: source, testSource: testSource, testFraction: testFraction, seed: seed,
      dataDirectory: dataDirectory, options: options, requiresTestSet: requiresTestSet)
    switch source {
    case .builtIn(let name):
      if testSource != nil || testFraction != nil {
        throw invalid(
          "\(name.displayName) has its own test set; drop --test-data and --test-fraction")
      }
      return try loadBuiltIn(name, schema: schema, request: request)
    case .csv(let path):
      guard let label = labelColumn ?? schema?.labelColumn else {
        let table = try CSVTable(contentsOfFile: path)
        throw invalid(
          "a CSV source needs --label-column NAME (its columns are "
            + "\(DatasetSchema.listed(table.columns)))")
      }
      return try loadTable(
        path: path, labelColumn: label, imputation: imputation ?? .none, schema: schema,
        request: request)
    case .npz, .npy, .idx:
      return try loadArrays(schema: schema, request: request)
    }
  }

  /// The options every branch needs.
  struct Request {
    var source: DataSource
    var testSource: DataSource?
    var testFraction: Double?
    var seed: UInt64
    var dataDirectory: DataDirectory
    var options: DatasetLoadOptions
    var requiresTestSet: Bool

    /// An empty test set shaped like `train`, when none is required; otherwise the error.
    func missingTestSet(like train: Dataset, name: String) throws(DataError) -> Dataset {
      guard !requiresTestSet else { throw noTestSet }
      return try Dataset(
        name: name, sampleShape: train.sampleShape, features: [], labels: [],
        classCount: train.classCount)
    }

    /// The error for a source without a test part when neither option is given.
    var noTestSet: DataError {
      .invalidDataSource(
        spelling: source.description,
        reason: "this source has no test set; pass --test-data SPEC or --test-fraction F "
          + "(e.g. 0.2)")
    }
  }

  // MARK: - Branches

  /// `mnist` / `svhn`.
  static func loadBuiltIn(_ name: DatasetName, schema: DatasetSchema?, request: Request)
    throws(DataError) -> LoadedSource
  {
    var raw = try loadRawDataset(
      name, dataDirectory: request.dataDirectory, options: request.options)
    let path = request.dataDirectory.directory(for: name)
    let schema =
      if let schema { schema } else {
        try DatasetSchema.describing(
          raw.train, kind: request.source.kind, normalization: Normalization.fit(to: raw.train))
      }
    try schema.apply(toIndexed: &raw.train, path: path)
    try schema.apply(toIndexed: &raw.test, path: path)
    return LoadedSource(source: request.source, train: raw.train, test: raw.test, schema: schema)
  }

  /// `csv:PATH`.
  static func loadTable(
    path: String, labelColumn: String, imputation: DatasetSchema.Imputation,
    schema: DatasetSchema?, request: Request
  ) throws(DataError) -> LoadedSource {
    let table = try CSVTable(contentsOfFile: path)
    let name = request.source.shortName
    var trainRows = Array(table.rows.indices)
    var testRows: [Int]?
    if let fraction = request.testFraction {
      guard let labelIndex = table.columnIndex(labelColumn) else {
        throw schema == nil
          ? DatasetSchema.missingLabelColumn(labelColumn, in: table)
          : .schemaMismatch(
            path: path,
            reason: "label column '\(labelColumn)' of the schema is missing from \(path)")
      }
      let split = try TestSplit.indices(
        labels: table.rows.map { $0[labelIndex] }, fraction: fraction, seed: request.seed,
        spelling: request.source.description)
      trainRows = split.train
      testRows = split.test
    }
    if let limit = request.options.trainLimit { trainRows = Array(trainRows.prefix(limit)) }
    let schema =
      if let schema { schema } else {
        try DatasetSchema.fit(
          table: table, labelColumn: labelColumn, imputation: imputation,
          statisticsRows: trainRows)
      }
    let train = try schema.encode(
      table, rows: trainRows, name: "\(name)-train",
      labelsOptional: request.options.labelsOptional)
    var test: Dataset
    if let testSource = request.testSource {
      test = try loadTestSet(testSource, schema: schema, request: request)
    } else if let testRows {
      test = try schema.encode(table, rows: testRows, name: "\(name)-test")
    } else {
      test = try request.missingTestSet(like: train, name: "\(name)-test")
    }
    if let limit = request.options.testLimit { test = test.prefix(limit) }
    return LoadedSource(source: request.source, train: train, test: test, schema: schema)
  }

  /// `npz:`, `npy:`, `idx:`.
  static func loadArrays(schema: DatasetSchema?, request: Request) throws(DataError)
    -> LoadedSource
  {
    let (samples, ownTest) = try readArrays(request.source)
    let name = request.source.shortName
    var trainPart = samples
    var testPart: ArraySamples? = ownTest
    if let fraction = request.testFraction {
      let split = try TestSplit.indices(
        labels: samples.labels, fraction: fraction, seed: request.seed,
        spelling: request.source.description)
      trainPart = samples.subset(split.train)
      testPart = samples.subset(split.test)
    }
    if let limit = request.options.trainLimit, limit < trainPart.count {
      trainPart = trainPart.subset(Array(0..<max(0, limit)))
    }
    let vocabulary = samples.labels + (request.testFraction == nil ? ownTest?.labels ?? [] : [])
    let schema =
      if let schema { schema } else {
        try DatasetSchema.fit(
          samples: trainPart, kind: request.source.kind, vocabulary: vocabulary)
      }
    let train = try schema.apply(to: trainPart, name: "\(name)-train")
    var test: Dataset
    if let testSource = request.testSource {
      test = try loadTestSet(testSource, schema: schema, request: request)
    } else if let testPart {
      test = try schema.apply(to: testPart, name: "\(name)-test")
    } else {
      test = try request.missingTestSet(like: train, name: "\(name)-test")
    }
    if let limit = request.options.testLimit { test = test.prefix(limit) }
    return LoadedSource(source: request.source, train: train, test: test, schema: schema)
  }

  /// The samples of an array source and its own test part, if any.
  static func readArrays(_ source: DataSource) throws(DataError)
    -> (train: ArraySamples, test: ArraySamples?)
  {
    switch source {
    case .npz(let path): return try ArraySamples.load(npz: path)
    case .npy(let features, let labels):
      return (try ArraySamples.load(npyFeatures: features, labels: labels), nil)
    case .idx(let directory): return try ArraySamples.load(idxDirectory: directory)
    case .builtIn, .csv:
      preconditionFailure("readArrays is called for array sources only")
    }
  }

  /// The test set from `--test-data`: its test part if it has one, else all of it, encoded
  /// with `schema`.
  static func loadTestSet(_ source: DataSource, schema: DatasetSchema, request: Request)
    throws(DataError) -> Dataset
  {
    let name = "\(source.shortName)-test"
    switch source {
    case .builtIn(let dataset):
      var test = try loadRawDataset(
        dataset, dataDirectory: request.dataDirectory, options: request.options
      ).test.renamed(name)
      try schema.apply(toIndexed: &test, path: request.dataDirectory.directory(for: dataset))
      return test
    case .csv(let path):
      return try schema.encode(CSVTable(contentsOfFile: path), name: name)
    case .npz, .npy, .idx:
      let (samples, ownTest) = try readArrays(source)
      return try schema.apply(to: ownTest ?? samples, name: name)
    }
  }
}
