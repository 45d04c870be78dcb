/// One source column of tabular data as a ``DatasetSchema`` records it: where its values sit in
/// the sample vector and how they are made from the cells.
///
/// - `numeric`: one value, `(x − mean) / standardDeviation` with the training mean and
///   population standard deviation (a constant column gets deviation 1).
/// - `categorical`: `categories.count` values, a one-hot encoding: the cell's category (its
///   position in the sorted ``categories``) gets 1, the others 0. Not standardised.
///
/// In JSON: `name`, `kind`, `offset`, `width`, and `mean` + `standardDeviation` (numeric) or
/// `categories` (categorical).
public struct FeatureColumn: Codable, Sendable, Hashable {
  /// How a column's cells become values.
  public enum Kind: String, Codable, Sendable, Hashable {
    /// Every cell is a number.
    case numeric
    /// No cell is a number: the cells are category names, one-hot encoded.
    case categorical
  }

  /// The column name in the header.
  public var name: String
  /// Numeric or categorical.
  public var kind: Kind
  /// The position of the column's first value in the sample vector.
  public var offset: Int
  /// How many values the column contributes (1, or the number of categories).
  public var width: Int
  /// The training mean (numeric columns).
  public var mean: Double?
  /// The training population standard deviation, positive (numeric columns).
  public var standardDeviation: Double?
  /// The sorted category names (categorical columns).
  public var categories: [String]?

  /// A numeric column.
  public static func numeric(
    _ name: String, offset: Int, mean: Double, standardDeviation: Double
  ) -> FeatureColumn {
    FeatureColumn(
      name: name, kind: .numeric, offset: offset, width: 1, mean: mean,
      standardDeviation: standardDeviation, categories: nil)
  }

  /// A categorical column with its (sorted) categories.
  public static func categorical(_ name: String, offset: Int, categories: [String])
    -> FeatureColumn
  {
    FeatureColumn(
      name: name, kind: .categorical, offset: offset, width: categories.count, mean: nil,
      standardDeviation: nil, categories: categories)
  }

  /// Checks the fields a column of this kind needs.
  ///
  /// - Throws: ``DataError/invalidSchema(path:reason:)`` naming the column.
  func validate(expectedOffset: Int, path: String) throws(DataError) {
    func fail(_ reason: String) -> DataError {
      .invalidSchema(path: path, reason: "column '\(name)': \(reason)")
    }
    guard offset == expectedOffset else {
      throw fail("offset \(offset) should be \(expectedOffset) (columns are packed in order)")
    }
    switch kind {
    case .numeric:
      guard width == 1, let mean, let standardDeviation, mean.isFinite,
        standardDeviation.isFinite, standardDeviation > 0, categories == nil
      else {
        throw fail("a numeric column needs width 1, a finite mean and a positive deviation")
      }
    case .categorical:
      guard let categories, !categories.isEmpty, width == categories.count,
        Set(categories).count == categories.count, mean == nil, standardDeviation == nil
      else {
        throw fail("a categorical column needs distinct categories and width = their count")
      }
    }
  }
}
