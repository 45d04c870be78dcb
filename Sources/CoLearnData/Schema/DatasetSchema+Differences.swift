extension DatasetSchema {
  /// What differs between this schema and `other`, one line per difference, naming columns
  /// and values: `column mean_radius: mean 14.1 here, 14.3 on the server`; empty when the two
  /// are the same (equal ``fingerprint``). At most `limit` lines, then "… and N more".
  ///
  /// Used when a participant's own `--schema` is not the one the server publishes at Join.
  public func differences(
    from other: DatasetSchema, here: String = "here", there: String = "there", limit: Int = 12
  ) -> [String] {
    var lines: [String] = []
    func compare<T: Equatable>(_ what: String, _ a: T, _ b: T, _ show: (T) -> String) {
      if a != b { lines.append("\(what): \(show(a)) \(here), \(show(b)) \(there)") }
    }
    compare("source kind", sourceKind, other.sourceKind) { $0.rawValue }
    compare("input shape", inputShape, other.inputShape) { "\($0)" }
    compare("label column", labelColumn, other.labelColumn) { $0 ?? "none" }
    compare("classes", classes, other.classes) { $0.joined(separator: ", ") }
    compare("imputation", imputation, other.imputation) { $0.rawValue }
    compare("normalization", normalization, other.normalization) { value in
      value.map { "mean \($0.mean), deviation \($0.standardDeviation)" } ?? "none"
    }
    let theirs = Dictionary(other.features.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    let mine = Set(features.map(\.name))
    for column in features {
      guard let match = theirs[column.name] else {
        lines.append("column \(column.name): present \(here), absent \(there)")
        continue
      }
      let name = "column \(column.name)"
      compare("\(name) kind", column.kind, match.kind) { $0.rawValue }
      compare("\(name) position", column.offset, match.offset) { "\($0)" }
      compare("\(name) mean", column.mean, match.mean) { $0.map { "\($0)" } ?? "none" }
      compare("\(name) deviation", column.standardDeviation, match.standardDeviation) {
        $0.map { "\($0)" } ?? "none"
      }
      compare("\(name) categories", column.categories, match.categories) {
        $0?.joined(separator: ", ") ?? "none"
      }
    }
    for column in other.features where !mine.contains(column.name) {
      lines.append("column \(column.name): absent \(here), present \(there)")
    }
    guard lines.count > limit else { return lines }
    return Array(lines.prefix(limit)) + ["… and \(lines.count - limit) more"]
  }
}
