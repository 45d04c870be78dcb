import Foundation

/// What a federation agrees on about its data: the sample shape, the feature columns with
/// their standardisation statistics or category lists, the label and its class list, and for
/// array data the per-channel statistics (issue 17).
///
/// A schema is fitted once, on training data (``fit(table:labelColumn:imputation:statisticsRows:)``,
/// ``fit(samples:kind:vocabulary:)``), written as JSON by `colearn data describe --out`, and
/// then applied to every institution's data (``encode(_:rows:)``, ``apply(to:name:)``): each
/// participant standardises with the schema's statistics, not its own, so that the same input
/// means the same thing everywhere. Data that does not fit the schema (a missing or extra
/// column, an unknown category or label, another sample shape) is refused with
/// ``DataError/schemaMismatch(path:reason:)`` naming the difference. Two schemas are the same
/// when their ``fingerprint`` (SHA-256 of the canonical JSON) is.
///
/// Privacy: a schema fitted on one institution's data reveals aggregate statistics of it (each
/// column's mean and standard deviation, the categories that occur, the classes).
///
/// JSON layout (format version 1): `formatVersion`, `sourceKind`, `inputShape`, `features`
/// (tabular data: one entry per source column in sample order, see ``FeatureColumn``),
/// `labelColumn` (tabular data), `classes` (class index = position), `normalization` (array
/// data: per-channel `mean` and `standardDeviation`), `imputation`.
///
/// Threading: a value type, `Sendable`.
public struct DatasetSchema: Codable, Sendable, Hashable {
  /// The format version this build writes and reads.
  public static let currentFormatVersion = 1

  /// The kind of source the schema was fitted on. Tabular (`csv`) and array (`npz`, `npy`,
  /// `idx`, `mnist`, `svhn`) schemas are not interchangeable; array kinds are among themselves.
  public enum SourceKind: String, Codable, Sendable, Hashable, CaseIterable {
    case mnist, svhn, csv, npz, npy, idx

    /// Whether the source is a table of named columns (as opposed to arrays of samples).
    public var isTabular: Bool { self == .csv }
  }

  /// What to do with a missing numeric cell (an empty cell or NaN) of tabular data.
  public enum Imputation: String, Codable, Sendable, Hashable, CaseIterable {
    /// Refuse the data with ``DataError/missingValue(path:line:column:)``.
    case none
    /// Use the column's training mean from the schema (which standardises to 0). Categorical
    /// columns and the label are never imputed.
    case mean
  }

  /// ``currentFormatVersion`` when written by this build.
  public var formatVersion: Int
  /// The kind of source fitted on.
  public var sourceKind: SourceKind
  /// The shape of one sample, channels-last (`[F]` for tabular data: F = total feature width).
  public var inputShape: [Int]
  /// The feature columns in sample order (tabular data; empty for arrays).
  public var features: [FeatureColumn]
  /// The name of the label column (tabular data).
  public var labelColumn: String?
  /// The class names; a sample's label is the position of its class here. Integer labels are
  /// sorted numerically, text labels by their Unicode order.
  public var classes: [String]
  /// Per-channel standardisation of array data (`nil` for tabular data, whose numeric columns
  /// carry their own statistics).
  public var normalization: Normalization?
  /// How missing numeric cells are handled.
  public var imputation: Imputation

  /// Creates a schema and checks that its parts fit together.
  ///
  /// - Throws: ``DataError/invalidSchema(path:reason:)`` (path `"schema"`) naming the first
  ///   inconsistency.
  public init(
    sourceKind: SourceKind, inputShape: [Int], features: [FeatureColumn], labelColumn: String?,
    classes: [String], normalization: Normalization?, imputation: Imputation = .none
  ) throws(DataError) {
    self.formatVersion = Self.currentFormatVersion
    self.sourceKind = sourceKind
    self.inputShape = inputShape
    self.features = features
    self.labelColumn = labelColumn
    self.classes = classes
    self.normalization = normalization
    self.imputation = imputation
    try validate(path: "schema")
  }

  /// The number of values in one sample.
  public var sampleSize: Int { inputShape.reduce(1, *) }

  /// Checks the invariants a decoded or constructed schema must satisfy.
  ///
  /// - Throws: ``DataError/invalidSchema(path:reason:)``.
  public func validate(path: String) throws(DataError) {
    func fail(_ reason: String) -> DataError { .invalidSchema(path: path, reason: reason) }
    guard formatVersion == Self.currentFormatVersion else {
      throw fail(
        "format version \(formatVersion) is not \(Self.currentFormatVersion), the one this build "
          + "reads")
    }
    guard !inputShape.isEmpty, inputShape.allSatisfy({ $0 > 0 }) else {
      throw fail("input shape \(inputShape) must be non-empty and positive")
    }
    guard !classes.isEmpty, Set(classes).count == classes.count else {
      throw fail("the class list \(classes) must be non-empty without repeats")
    }
    if sourceKind.isTabular {
      guard let labelColumn, !labelColumn.isEmpty else { throw fail("a csv schema needs a labelColumn") }
      guard inputShape.count == 1 else {
        throw fail("a csv schema's input shape must be [features], not \(inputShape)")
      }
      var offset = 0
      var names = Set<String>()
      for column in features {
        guard names.insert(column.name).inserted, column.name != labelColumn else {
          throw fail("column '\(column.name)' appears twice")
        }
        try column.validate(expectedOffset: offset, path: path)
        offset += column.width
      }
      guard offset == inputShape[0] else {
        throw fail("the feature columns are \(offset) values wide, the input shape says \(inputShape)")
      }
    } else {
      guard features.isEmpty, labelColumn == nil else {
        throw fail("a \(sourceKind.rawValue) schema has no feature columns or label column")
      }
      guard let normalization, normalization.mean.count == inputShape.last,
        normalization.standardDeviation.count == normalization.mean.count,
        normalization.mean.allSatisfy(\.isFinite),
        normalization.standardDeviation.allSatisfy({ $0 > 0 && $0.isFinite })
      else {
        throw fail(
          "an array schema needs one finite normalization mean and one positive deviation per "
            + "channel (\(inputShape.last ?? 0) channels)")
      }
      guard classes.allSatisfy({ Int64($0) != nil }) else {
        throw fail("array classes must be integers, not \(classes)")
      }
    }
  }

  // MARK: - JSON

  /// The canonical JSON: sorted keys, no whitespace. The ``fingerprint`` hashes it.
  public func canonicalJSON() -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    // Encoding plain structs, strings and finite numbers cannot fail.
    return (try? [UInt8](encoder.encode(self))) ?? []
  }

  /// The JSON written to schema files: sorted keys, indented, a final line break.
  public func prettyJSON() -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return ((try? [UInt8](encoder.encode(self))) ?? []) + [UInt8(ascii: "\n")]
  }

  /// SHA-256 of ``canonicalJSON()``, 64 hexadecimal digits: stable across a JSON round trip,
  /// so a server can compare the schema a participant holds with its own.
  public var fingerprint: String { SHA256.hexDigest(canonicalJSON()) }

  /// Decodes and validates schema JSON.
  ///
  /// - Throws: ``DataError/invalidSchema(path:reason:)`` naming what could not be decoded.
  public init(json: [UInt8], path: String) throws(DataError) {
    do {
      self = try JSONDecoder().decode(DatasetSchema.self, from: Data(json))
    } catch let error as DecodingError {
      throw .invalidSchema(path: path, reason: Self.describe(error))
    } catch {
      throw .invalidSchema(path: path, reason: "\(error)")
    }
    try validate(path: path)
  }

  /// Reads a schema file written by ``write(toPath:)``.
  ///
  /// - Throws: ``DataError`` naming the file: missing, unreadable or not a valid schema.
  public init(contentsOfFile path: String) throws(DataError) {
    try self.init(json: FileIO.readFile(atPath: path), path: path)
  }

  /// Writes ``prettyJSON()`` to `path` atomically (a temporary file renamed over it), so a
  /// failure leaves no partial file.
  ///
  /// - Throws: ``DataError/ioFailure(path:reason:)``.
  public func write(toPath path: String) throws(DataError) {
    try FileIO.writeAtomically(prettyJSON(), toPath: path)
  }

  /// A one-line account of a decoding error: the key path and what was wrong.
  static func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
      let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
      return keys.isEmpty ? "the top level" : "'" + keys.joined(separator: ".") + "'"
    }
    switch error {
    case .keyNotFound(let key, let context):
      return "key '\(key.stringValue)' is missing at \(path(context))"
    case .typeMismatch(_, let context), .valueNotFound(_, let context):
      return "\(path(context)): \(context.debugDescription)"
    case .dataCorrupted(let context):
      return "\(path(context)): \(context.debugDescription)"
    @unknown default:
      return "\(error)"
    }
  }
}
