import Foundation

extension ExperimentSuite {
  /// Keys of a `figure:` document.
  static let figureKeys: Set<String> = [
    "figure", "title", "kind", "x", "x-label", "x-scale", "claim", "baselines", "source",
  ]
  /// Keys of a `runs:` document that describe the runs rather than set them.
  static let groupKeys: Set<String> = [
    "runs", "series", "figure", "command", "paper", "optional",
  ]
  /// The commands a suite can run.
  static let commands: Set<String> = ["train", "simulate"]

  /// Reads the suite file at `path`.
  ///
  /// - Throws: ``CLIError`` naming the file (and line) when it cannot be read or is malformed.
  init(path: String) throws {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw CLIError("cannot read suite file \(path): \(error.localizedDescription)")
    }
    try self.init(parsing: text, path: path)
  }

  /// Parses a suite from `text`; `path` names it in messages.
  ///
  /// - Throws: ``CLIError`` with `path:line` and what is wrong: a line that is not `key: value`,
  ///   an unknown or repeated key, a missing `suite:` or `title:`, a figure that does not exist,
  ///   a paper list that does not match the sweep.
  init(parsing text: String, path: String) throws {
    let documents = try Self.documents(text, path: path)
    guard let header = documents.first, header.first?.key == "suite" else {
      throw CLIError("\(path): the first document must start with `suite: NAME`")
    }
    self.path = path
    name = header[0].value
    var title: String?
    var description: String?
    var defaults = SuiteSettings()
    var command = "simulate"
    for line in header.dropFirst() {
      switch line.key {
      case "title": title = line.value
      case "description": description = line.value
      case "command":
        guard Self.commands.contains(line.value) else {
          throw CLIError(
            "\(path):\(line.number): unknown command `\(line.value)` (expected train or simulate)")
        }
        command = line.value
      default:
        if Self.figureKeys.contains(line.key) || Self.groupKeys.contains(line.key) {
          throw CLIError(
            "\(path):\(line.number): `\(line.key)` belongs in a `figure:` or `runs:` document")
        }
        try defaults.add(line, path: path)
      }
    }
    guard let title else { throw CLIError("\(path): the suite has no `title:`") }
    self.title = title
    self.description = description
    self.defaults = defaults
    self.command = command
    figures = []
    groups = []
    for document in documents.dropFirst() {
      switch document.first?.key {
      case "figure": figures.append(try Self.figure(document, path: path))
      case "runs": groups.append(try Self.group(document, path: path))
      default:
        let number = document.first?.number ?? 0
        throw CLIError(
          "\(path):\(number): a document must start with `figure: ID` or `runs: NAME-TEMPLATE`")
      }
    }
    if groups.isEmpty { throw CLIError("\(path): the suite has no `runs:` document") }
    for group in groups {
      for id in group.figures where figure(id) == nil {
        throw CLIError(
          "\(path):\(group.line): figure `\(id)` is not defined (add a `figure: \(id)` document)")
      }
    }
  }

  // MARK: - Documents and lines

  /// One `key: value` line.
  struct Line {
    var key: String
    var value: String
    var number: Int
  }

  /// The documents of `text` (split at `---`), each a list of lines; comments and blank lines
  /// are dropped.
  static func documents(_ text: String, path: String) throws -> [[Line]] {
    var documents: [[Line]] = [[]]
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let number = index + 1
      let line = ConfigFile.stripComment(String(rawLine)).trimmingCharacters(in: .whitespaces)
      if line.isEmpty { continue }
      if line == "---" {
        if !(documents.last?.isEmpty ?? true) { documents.append([]) }
        continue
      }
      if rawLine.first == " " || rawLine.first == "\t" || line.hasPrefix("-") {
        throw CLIError(
          "\(path):\(number): nested settings are not supported; write `key: value` or "
            + "`key: [a, b]` at the start of the line")
      }
      guard let colon = line.firstIndex(of: ":") else {
        throw CLIError("\(path):\(number): expected `key: value`, found `\(line)`")
      }
      let key = line[..<colon].trimmingCharacters(in: .whitespaces)
      var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      guard !key.isEmpty,
        key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_" })
      else {
        throw CLIError("\(path):\(number): `\(key)` is not a setting name")
      }
      if value.count >= 2, let first = value.first, first == "\"" || first == "'",
        value.last == first
      {
        value = String(value.dropFirst().dropLast())
      }
      guard !value.isEmpty else { throw CLIError("\(path):\(number): `\(key)` has no value") }
      documents[documents.count - 1].append(Line(key: key, value: value, number: number))
    }
    return documents.filter { !$0.isEmpty }
  }

  /// The items of a `[a, b, c]` list, or nil when `value` is not a list.
  static func listItems(_ value: String) -> [String]? {
    guard value.hasPrefix("["), value.hasSuffix("]") else { return nil }
    return value.dropFirst().dropLast().split(separator: ",")
      .map { $0.trimmingCharacters(in: .whitespaces) }
      .map { item in
        if item.count >= 2, let first = item.first, first == "\"" || first == "'",
          item.last == first
        {
          return String(item.dropFirst().dropLast())
        }
        return item
      }
  }

  // MARK: - Figures and groups

  static func figure(_ lines: [Line], path: String) throws -> SuiteFigure {
    let id = lines[0].value
    try requireIdentifier(id, path: path, line: lines[0].number)
    var values: [String: Line] = [:]
    var claims: [String] = []
    for line in lines.dropFirst() {
      guard figureKeys.contains(line.key) else {
        throw CLIError(
          "\(path):\(line.number): `\(line.key)` is not a figure setting (expected one of "
            + figureKeys.sorted().joined(separator: ", ") + ")")
      }
      if line.key == "claim" {
        claims.append(line.value)
        continue
      }
      if values[line.key] != nil {
        throw CLIError("\(path):\(line.number): `\(line.key)` is given twice")
      }
      values[line.key] = line
    }
    let kindText = values["kind"]?.value ?? SuiteFigure.Kind.summary.rawValue
    guard let kind = SuiteFigure.Kind(rawValue: kindText) else {
      throw CLIError(
        "\(path):\(values["kind"]?.number ?? 0): unknown figure kind `\(kindText)` (expected "
          + SuiteFigure.Kind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
    }
    let scaleText = values["x-scale"]?.value ?? (kind == .bytes ? "log" : "linear")
    guard let scale = AxisScale(rawValue: scaleText) else {
      throw CLIError(
        "\(path):\(values["x-scale"]?.number ?? 0): unknown x-scale `\(scaleText)` (linear or log)")
    }
    if kind == .summary, values["x"] == nil {
      throw CLIError("\(path):\(lines[0].number): a summary figure needs `x: SETTING`")
    }
    let defaultLabel =
      switch kind {
      case .summary: values["x"]?.value ?? ""
      case .curve: "round"
      case .bytes: "bytes uploaded and downloaded (all participants)"
      }
    return SuiteFigure(
      id: id, title: values["title"]?.value ?? id, kind: kind, x: values["x"]?.value,
      xLabel: values["x-label"]?.value ?? defaultLabel, xScale: scale, claims: claims,
      baselines: values["baselines"].map { listItems($0.value) ?? [$0.value] } ?? [],
      source: values["source"]?.value)
  }

  static func group(_ lines: [Line], path: String) throws -> SuiteGroup {
    var settings = SuiteSettings()
    var figures: [String] = []
    var series: String?
    var command: String?
    var paper: [Double] = []
    var optional = false
    var seen = Set<String>()
    for line in lines.dropFirst() {
      if groupKeys.contains(line.key), !seen.insert(line.key).inserted {
        throw CLIError("\(path):\(line.number): `\(line.key)` is given twice")
      }
      switch line.key {
      case "series": series = line.value
      case "figure": figures = listItems(line.value) ?? [line.value]
      case "command":
        guard commands.contains(line.value) else {
          throw CLIError(
            "\(path):\(line.number): unknown command `\(line.value)` (expected train or simulate)")
        }
        command = line.value
      case "paper":
        for item in listItems(line.value) ?? [line.value] {
          guard let number = Double(item) else {
            throw CLIError("\(path):\(line.number): paper value `\(item)` is not a number")
          }
          paper.append(number)
        }
      case "optional": optional = line.value.lowercased() == "true"
      default:
        if figureKeys.contains(line.key) {
          throw CLIError("\(path):\(line.number): `\(line.key)` belongs in a `figure:` document")
        }
        try settings.add(line, path: path)
      }
    }
    guard !figures.isEmpty else {
      throw CLIError("\(path):\(lines[0].number): the group has no `figure:`")
    }
    let sweeps = settings.entries.filter(\.isSweep)
    if paper.count > 1,
      sweeps.count != 1 || sweeps[0].values.count != paper.count || sweeps[0].scale != nil
    {
      throw CLIError(
        "\(path):\(lines[0].number): \(paper.count) paper values need exactly one sweep of "
          + "\(paper.count) values in the group (found \(sweeps.map(\.key)))")
    }
    return SuiteGroup(
      nameTemplate: lines[0].value, seriesTemplate: series ?? lines[0].value, figures: figures,
      command: command, paper: paper, optional: optional, settings: settings,
      line: lines[0].number)
  }

  static func requireIdentifier(_ value: String, path: String, line: Int) throws {
    guard !value.isEmpty,
      value.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." })
    else {
      throw CLIError(
        "\(path):\(line): `\(value)` may contain only letters, digits, `-`, `_` and `.`")
    }
  }
}

extension SuiteSettings {
  /// Adds a `key: value` line, splitting off a `quick.`/`full.` prefix and a `[a, b]` sweep.
  mutating func add(_ line: ExperimentSuite.Line, path: String) throws {
    var key = line.key
    var scale: SuiteScale?
    for candidate in SuiteScale.allCases where key.hasPrefix(candidate.rawValue + ".") {
      scale = candidate
      key = String(key.dropFirst(candidate.rawValue.count + 1))
    }
    if key.contains(".") {
      throw CLIError(
        "\(path):\(line.number): `\(line.key)`: a prefix must be `quick.` or `full.`")
    }
    if entries.contains(where: { $0.key == key && $0.scale == scale }) {
      throw CLIError("\(path):\(line.number): `\(line.key)` is given twice")
    }
    let items = ExperimentSuite.listItems(line.value)
    if let items, items.isEmpty || items.contains(where: \.isEmpty) {
      throw CLIError("\(path):\(line.number): `\(line.key)` has an empty value in its list")
    }
    entries.append(
      Entry(
        key: key, values: items ?? [line.value], isSweep: items != nil, scale: scale,
        line: line.number))
  }
}
