/// A CSV file read into a header and rows of text cells (RFC 4180), before any column is
/// interpreted.
///
/// Accepted: a UTF-8 byte-order mark at the start; LF or CRLF line ends (also a lone CR);
/// fields separated by commas; fields quoted with `"` that may hold commas, line breaks and
/// doubled quotes (`""` → `"`). Cells are kept as written except that spaces and tabs around an
/// unquoted cell are trimmed. Blank lines (no characters at all) are skipped anywhere, so a
/// final line break is harmless. The first record is the header: every column needs a
/// non-empty, unique name.
///
/// Every row remembers the 1-based line on which it starts (the header is line 1), so
/// messages point at the line an editor shows. Checked here: a header without data rows,
/// ragged rows (``DataError/raggedRow(path:line:expected:found:)``), an unterminated quote.
/// Cell content (numbers, missing values) is checked where the columns are interpreted
/// (``DatasetSchema``).
///
/// Threading: a value type, `Sendable`.
public struct CSVTable: Sendable {
  /// The file, for messages.
  public let path: String
  /// The column names from the header, in file order.
  public let columns: [String]
  /// The data rows; each has exactly `columns.count` cells.
  public let rows: [[String]]
  /// The 1-based line on which each row starts.
  public let lineNumbers: [Int]

  /// Reads and parses the CSV file at `path`.
  ///
  /// - Throws: ``DataError`` naming the file (and line): missing, unreadable, no header, no
  ///   data rows, a duplicate or empty column name, an unterminated quote, a ragged row.
  /// - Complexity: O(file size), one pass.
  public init(contentsOfFile path: String) throws(DataError) {
    try self.init(bytes: FileIO.readFile(atPath: path), path: path)
  }

  /// Parses CSV text held in memory.
  ///
  /// - Throws: ``DataError`` as ``init(contentsOfFile:)``.
  public init(bytes: [UInt8], path: String) throws(DataError) {
    var records = try Self.records(bytes, path: path)
    guard !records.isEmpty else {
      throw .malformedCSV(
        path: path, line: 0, reason: "the file is empty; a header row naming the columns is needed")
    }
    let header = records.removeFirst()
    var seen = Set<String>()
    for (index, name) in header.cells.enumerated() {
      guard !name.isEmpty else {
        throw .malformedCSV(
          path: path, line: header.line,
          reason: "column \(index + 1) of the header has no name; name every column")
      }
      guard seen.insert(name).inserted else {
        throw .malformedCSV(
          path: path, line: header.line,
          reason: "the header names column '\(name)' twice; give every column a unique name")
      }
    }
    guard !records.isEmpty else {
      throw .malformedCSV(
        path: path, line: header.line,
        reason: "the file has a header but no data rows; add at least one row of values")
    }
    for record in records where record.cells.count != header.cells.count {
      throw .raggedRow(
        path: path, line: record.line, expected: header.cells.count, found: record.cells.count)
    }
    self.path = path
    self.columns = header.cells
    self.rows = records.map(\.cells)
    self.lineNumbers = records.map(\.line)
  }

  /// The position of the column called `name`, if any.
  public func columnIndex(_ name: String) -> Int? { columns.firstIndex(of: name) }

  /// The number of data rows.
  public var count: Int { rows.count }

  // MARK: - Parsing

  /// One record and the line it starts on.
  struct Record {
    var cells: [String]
    var line: Int
  }

  /// Splits `bytes` into records by RFC 4180, skipping blank lines.
  static func records(_ bytes: [UInt8], path: String) throws(DataError) -> [Record] {
    let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n")
    let cr = UInt8(ascii: "\r")
    var index = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    var records: [Record] = []
    var cells: [String] = []
    var cell: [UInt8] = []
    var quoted = false  // the current cell started with a quote
    var inQuotes = false  // inside the quotes of the current cell
    var line = 1
    var recordLine = 1
    var recordHasContent = false

    func finishCell() {
      cells.append(quoted ? String(decoding: cell, as: UTF8.self) : trimmed(cell))
      cell.removeAll(keepingCapacity: true)
      quoted = false
    }
    func finishRecord() {
      if recordHasContent || !cells.isEmpty {
        finishCell()
        records.append(Record(cells: cells, line: recordLine))
      }
      cells.removeAll()
      cell.removeAll(keepingCapacity: true)
      quoted = false
      recordHasContent = false
    }

    while index < bytes.count {
      let byte = bytes[index]
      index += 1
      if inQuotes {
        if byte == quote {
          if index < bytes.count, bytes[index] == quote {
            cell.append(quote)
            index += 1
          } else {
            inQuotes = false
          }
        } else {
          if byte == lf || (byte == cr && (index >= bytes.count || bytes[index] != lf)) {
            line += 1
          }
          cell.append(byte)
        }
        continue
      }
      switch byte {
      case quote where cell.allSatisfy({ $0 == 32 || $0 == 9 }) && !quoted:
        cell.removeAll()
        quoted = true
        inQuotes = true
        recordHasContent = true
      case comma:
        finishCell()
        recordHasContent = true
      case lf, cr:
        if byte == cr, index < bytes.count, bytes[index] == lf { index += 1 }
        finishRecord()
        line += 1
        recordLine = line
      default:
        if quoted, byte != 32, byte != 9 {
          throw .malformedCSV(
            path: path, line: line,
            reason: "text follows the closing quote of a quoted cell; double quotes inside a "
              + "quoted cell (\"\") and put nothing between the closing quote and the comma")
        }
        if !quoted { cell.append(byte) }
        recordHasContent = true
      }
    }
    if inQuotes {
      throw .malformedCSV(
        path: path, line: recordLine,
        reason: "a quoted cell that starts on this line is never closed; add the closing quote")
    }
    finishRecord()
    return records
  }

  /// The cell without surrounding spaces and tabs.
  static func trimmed(_ bytes: [UInt8]) -> String {
    var start = 0
    var end = bytes.count
    while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
    while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
  }
}
