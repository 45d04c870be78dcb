/// Fitting a schema to a CSV table and encoding tables with it.
///
/// The column rule: the label column is named by the caller; every other column is a feature.
/// A feature column is **categorical only when none of its cells is a number** (cells that
/// Swift's `Double(_:)` parses, `nan` included); otherwise it is **numeric**, and a cell of it
/// that is text or ±infinity is an error (``DataError/unparseableCell(path:line:column:value:)``)
/// rather than a category. Missing cells are empty ones; in numeric columns a `nan` cell counts
/// as missing too. Missing cells are an error (``DataError/missingValue(path:line:column:)``,
/// or for `nan` ``DataError/unparseableCell(path:line:column:value:)``) unless the schema's
/// ``DatasetSchema/Imputation/mean`` fills numeric ones with the training mean; categorical
/// cells and labels are never imputed.
extension DatasetSchema {
  /// What one cell holds.
  enum Cell: Equatable {
    /// Empty.
    case missing
    /// `nan` (any case).
    case notANumber
    /// A number (possibly infinite).
    case number(Double)
    /// Anything else.
    case text
  }

  /// Classifies a (trimmed) cell.
  static func classify(_ cell: String) -> Cell {
    if cell.isEmpty { return .missing }
    guard let value = Double(cell) else { return .text }
    return value.isNaN ? .notANumber : .number(value)
  }

  /// Fits a schema to `table`: column kinds, category lists and the class list from every row
  /// (the vocabulary of the whole source), means and standard deviations from
  /// `statisticsRows` (the training rows; all rows when `nil`).
  ///
  /// - Parameters:
  ///   - table: The parsed CSV.
  ///   - labelColumn: The column holding the labels; every other column is a feature.
  ///   - imputation: Recorded in the schema; decides whether missing numeric cells are allowed.
  ///   - statisticsRows: Row indices (0-based, into `table.rows`) the statistics come from.
  /// - Returns: A schema whose sample vector is the features in header order, categorical
  ///   columns expanded to their one-hot width.
  /// - Throws: ``DataError`` naming the file, line and column: an unknown label column, a
  ///   column without values, a text cell in a numeric column, a missing label.
  /// - Complexity: O(rows × columns).
  public static func fit(
    table: CSVTable, labelColumn: String, imputation: Imputation = .none,
    statisticsRows: [Int]? = nil
  ) throws(DataError) -> DatasetSchema {
    guard let labelIndex = table.columnIndex(labelColumn) else {
      throw missingLabelColumn(labelColumn, in: table)
    }
    guard table.columns.count >= 2 else {
      throw .malformedCSV(
        path: table.path, line: 1,
        reason: "the only column is the label '\(labelColumn)'; add feature columns")
    }
    let rows = statisticsRows ?? Array(table.rows.indices)
    var features: [FeatureColumn] = []
    var offset = 0
    for index in table.columns.indices where index != labelIndex {
      let column = try fitColumn(
        table: table, index: index, offset: offset, imputation: imputation, rows: rows)
      features.append(column)
      offset += column.width
    }
    var labels = Set<String>()
    for (row, cells) in table.rows.enumerated() {
      let cell = cells[labelIndex]
      guard !cell.isEmpty else {
        throw .missingValue(path: table.path, line: table.lineNumbers[row], column: labelColumn)
      }
      labels.insert(cell)
    }
    return try DatasetSchema(
      sourceKind: .csv, inputShape: [offset], features: features, labelColumn: labelColumn,
      classes: sortedClasses(labels), normalization: nil, imputation: imputation)
  }

  /// The error for a label column the table does not have, listing the columns it has.
  static func missingLabelColumn(_ name: String, in table: CSVTable) -> DataError {
    .malformedCSV(
      path: table.path, line: 1,
      reason: "there is no label column '\(name)' (the columns are \(listed(table.columns))); "
        + "pass --label-column with one of them")
  }

  /// Classes sorted numerically when every one is an integer, else by their text.
  static func sortedClasses(_ names: Set<String>) -> [String] {
    let integers = names.compactMap { Int64($0) }
    if integers.count == names.count {
      // Distinct spellings of one integer ("1", "01") stay distinct, ordered by value.
      return names.sorted { (Int64($0) ?? 0, $0) < (Int64($1) ?? 0, $1) }
    }
    return names.sorted()
  }

  /// Decides one column's kind and fits its statistics or categories.
  static func fitColumn(
    table: CSVTable, index: Int, offset: Int, imputation: Imputation, rows: [Int]
  ) throws(DataError) -> FeatureColumn {
    let name = table.columns[index]
    var firstText: Int?
    var firstNumber: Int?
    var categories = Set<String>()
    for (row, cells) in table.rows.enumerated() {
      switch classify(cells[index]) {
      case .text:
        if firstText == nil { firstText = row }
        categories.insert(cells[index])
      case .number, .notANumber:
        if firstNumber == nil { firstNumber = row }
      case .missing:
        break
      }
    }
    if firstNumber == nil {
      guard !categories.isEmpty else {
        throw .malformedCSV(
          path: table.path, line: 0,
          reason: "column '\(name)' has no values in any row; fill it in or drop the column")
      }
      return .categorical(name, offset: offset, categories: categories.sorted())
    }
    if let firstText {
      throw .unparseableCell(
        path: table.path, line: table.lineNumbers[firstText], column: name,
        value: table.rows[firstText][index])
    }
    var sum = 0.0
    var values: [Double] = []
    values.reserveCapacity(rows.count)
    for row in rows {
      switch classify(table.rows[row][index]) {
      case .number(let value) where value.isFinite:
        values.append(value)
        sum += value
      case .number:
        throw .unparseableCell(
          path: table.path, line: table.lineNumbers[row], column: name,
          value: table.rows[row][index])
      default:
        continue  // Missing cells are reported (or imputed) when the table is encoded.
      }
    }
    guard !values.isEmpty else {
      throw .malformedCSV(
        path: table.path, line: 0,
        reason: "numeric column '\(name)' has no values in the training rows; fill it in or "
          + "drop the column")
    }
    let mean = sum / Double(values.count)
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
    let deviation = variance.squareRoot()
    return .numeric(
      name, offset: offset, mean: mean,
      standardDeviation: deviation > 0 && deviation.isFinite ? deviation : 1)
  }

  /// Turns rows of `table` into a standardised dataset with this schema's statistics (not the
  /// table's own): numeric cells `(x − mean) / std`, categorical cells one-hot, labels the
  /// position of their class.
  ///
  /// The table may order its columns differently from the schema; it must have exactly the
  /// schema's columns.
  ///
  /// - Parameters:
  ///   - table: The parsed CSV.
  ///   - rows: Row indices to encode, in order (all rows when `nil`).
  ///   - name: The dataset name (default: the file name without `.csv`).
  ///   - labelsOptional: Accept a table without the label column (data to predict on); its
  ///     labels are then all 0.
  /// - Throws: ``DataError/schemaMismatch(path:reason:)`` for a missing or extra column, an
  ///   unknown category or label, or a schema of array data; the cell errors of the column
  ///   rule above, naming the line and column.
  /// - Complexity: O(rows × columns).
  public func encode(
    _ table: CSVTable, rows: [Int]? = nil, name: String? = nil, labelsOptional: Bool = false
  ) throws(DataError) -> Dataset {
    let path = table.path
    guard sourceKind.isTabular, let labelColumn else {
      throw .schemaMismatch(
        path: path,
        reason: "the schema describes \(sourceKind.rawValue) arrays of shape \(inputShape), but "
          + "\(path) is a CSV table; use array data (npz:, npy:, idx:) with this schema")
    }
    var positions: [Int] = []
    for column in features {
      guard let position = table.columnIndex(column.name) else {
        throw .schemaMismatch(
          path: path, reason: "column '\(column.name)' of the schema is missing from \(path)")
      }
      positions.append(position)
    }
    let labelPosition = table.columnIndex(labelColumn)
    if labelPosition == nil, !labelsOptional {
      throw .schemaMismatch(
        path: path, reason: "label column '\(labelColumn)' of the schema is missing from \(path)")
    }
    let known = Set(features.map(\.name) + [labelColumn])
    if let extra = table.columns.first(where: { !known.contains($0) }) {
      throw .schemaMismatch(
        path: path,
        reason: "column '\(extra)' of \(path) is not in the schema (whose columns are "
          + "\(Self.listed(features.map(\.name))) and the label '\(labelColumn)'); drop it")
    }
    let categoryIndex = features.map { column in
      Dictionary(uniqueKeysWithValues: (column.categories ?? []).enumerated().map { ($1, $0) })
    }
    let classIndex = ClassIndex(classes: classes)
    let selected = rows ?? Array(table.rows.indices)
    let width = sampleSize
    var values = [Float](repeating: 0, count: selected.count * width)
    var labels = [Int32](repeating: 0, count: selected.count)
    for (sample, row) in selected.enumerated() {
      let cells = table.rows[row]
      let line = table.lineNumbers[row]
      for (columnNumber, column) in features.enumerated() {
        let cell = cells[positions[columnNumber]]
        let base = sample * width + column.offset
        switch (column.kind, Self.classify(cell)) {
        case (.numeric, .number(let x)) where x.isFinite:
          values[base] = Float((x - (column.mean ?? 0)) / (column.standardDeviation ?? 1))
        case (.numeric, .missing) where imputation == .mean,
          (.numeric, .notANumber) where imputation == .mean:
          values[base] = 0  // The training mean, standardised.
        case (.numeric, .missing), (.categorical, .missing):
          throw .missingValue(path: path, line: line, column: column.name)
        case (.numeric, _):
          throw .unparseableCell(path: path, line: line, column: column.name, value: cell)
        case (.categorical, _):
          guard let category = categoryIndex[columnNumber][cell] else {
            throw .schemaMismatch(
              path: path,
              reason: "\(path), line \(line), column '\(column.name)': category '\(cell)' is "
                + "not in the schema (whose categories are "
                + "\(Self.listed(column.categories ?? [])))")
          }
          values[base + category] = 1
        }
      }
      guard let labelPosition else { continue }
      let labelCell = cells[labelPosition]
      guard !labelCell.isEmpty else {
        throw .missingValue(path: path, line: line, column: labelColumn)
      }
      guard let label = classIndex.index(of: labelCell) else {
        throw .schemaMismatch(
          path: path,
          reason: "\(path), line \(line): label '\(labelCell)' is not one of the schema's "
            + "classes (\(Self.listed(classes)))")
      }
      labels[sample] = Int32(label)
    }
    return try Dataset(
      name: name ?? Self.baseName(path), sampleShape: inputShape, features: values,
      labels: labels, classCount: classes.count)
  }

  /// Up to 12 names, quoted, then how many more.
  static func listed(_ names: [String]) -> String {
    let shown = names.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
    return names.count > 12 ? shown + " and \(names.count - 12) more" : shown
  }

  /// `breast_cancer` for `/x/breast_cancer.csv`.
  static func baseName(_ path: String) -> String {
    let file = path.split(separator: "/").last.map(String.init) ?? path
    guard let dot = file.lastIndex(of: "."), dot != file.startIndex else { return file }
    return String(file[..<dot])
  }
}

/// Class name → class index, matching integer labels by value (`"01"` finds class `"1"`) when
/// every class is an integer.
struct ClassIndex {
  let byName: [String: Int]
  let byValue: [Int64: Int]?

  init(classes: [String]) {
    byName = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    let values = classes.compactMap { Int64($0) }
    byValue =
      values.count == classes.count
      ? Dictionary(values.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }) : nil
  }

  /// The index of `name`, if it is a class.
  func index(of name: String) -> Int? {
    if let index = byName[name] { return index }
    if let byValue, let value = Int64(name) { return byValue[value] }
    return nil
  }

  /// The index of the integer label `value`, if it is a class.
  func index(of value: Int64) -> Int? {
    byValue?[value] ?? byName[String(value)]
  }
}
