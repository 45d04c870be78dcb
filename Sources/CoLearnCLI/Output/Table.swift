import Foundation

/// A plain-text table with right-aligned numeric columns, for terminal reports.
struct Table {
  var headers: [String]
  var rows: [[String]] = []

  init(headers: [String]) {
    self.headers = headers
  }

  mutating func add(_ row: [String]) {
    precondition(row.count == headers.count, "row has \(row.count) cells, table has \(headers.count)")
    rows.append(row)
  }

  /// The table as lines of text, columns separated by two spaces, first column left-aligned.
  func render() -> String {
    let all = [headers] + rows
    let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { column, cell in
        let padding = String(repeating: " ", count: widths[column] - cell.count)
        return column == 0 ? cell + padding : padding + cell
      }.joined(separator: "  ")
    }
    let rule = widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")
    return ([line(headers), rule] + rows.map(line)).joined(separator: "\n")
  }
}

/// `value` with `digits` decimals.
func format(_ value: Double, _ digits: Int) -> String {
  String(format: "%.\(digits)f", value)
}
