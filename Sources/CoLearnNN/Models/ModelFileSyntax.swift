import Foundation

/// A value of a model file, as TOML or JSON gives it.
enum ModelFileValue: Equatable {
  case string(String)
  case integer(Int)
  case float(Double)
  case boolean(Bool)
  case array([ModelFileValue])
  case table([String: ModelFileValue], keys: [String])

  /// For messages: "a string", "an integer", …
  var kindName: String {
    switch self {
    case .string: "a string"
    case .integer: "an integer"
    case .float: "a number"
    case .boolean: "true or false"
    case .array: "a list"
    case .table: "a table"
    }
  }
}

/// Reads the TOML a model file is written in: comments, `key = value` lines, `[table]` and
/// `[[array-of-tables]]` headers (one level: `[[layers]]`), and values that are strings ("…" with
/// escapes, or '…'), integers (with `_` separators), floats, booleans, arrays (which may span
/// lines) and inline tables. That is the part of TOML 1.0 a model file needs; dotted keys,
/// dates and multi-line strings are refused with the line they are on.
struct TOMLReader {
  private let scalars: [Unicode.Scalar]
  private var position = 0
  private var line = 1
  /// The file name for errors.
  private let file: String

  init(text: String, file: String) {
    self.scalars = Array(text.unicodeScalars)
    self.file = file
  }

  /// Parses the whole document into one table.
  static func parse(_ text: String, file: String) throws(ModelFileError) -> ModelFileValue {
    var reader = TOMLReader(text: text, file: file)
    return try reader.document()
  }

  private func error(_ reason: String) -> ModelFileError {
    ModelFileError(file: file, line: line, reason: reason)
  }

  private var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

  private mutating func advance() {
    if current == "\n" { line += 1 }
    position += 1
  }

  /// Skips spaces and tabs (and, when `newlines`, line breaks and comments).
  private mutating func skipBlank(newlines: Bool) {
    while let c = current {
      if c == " " || c == "\t" || c == "\r" {
        advance()
      } else if c == "#" {
        while let d = current, d != "\n" { advance() }
      } else if newlines && c == "\n" {
        advance()
      } else {
        return
      }
    }
  }

  /// The root table; `[name]` and `[[name]]` headers open nested tables.
  private mutating func document() throws(ModelFileError) -> ModelFileValue {
    var root = TableBuilder()
    // Where key = value lines go: the root, a named table, or the last table of an array.
    var target: (name: String, isArray: Bool)? = nil
    var tables: [String: TableBuilder] = [:]
    var arrays: [String: [TableBuilder]] = [:]
    var order: [String] = []
    while true {
      skipBlank(newlines: true)
      guard let c = current else { break }
      if c == "[" {
        advance()
        let isArray = current == "["
        if isArray { advance() }
        skipBlank(newlines: false)
        let name = try key()
        skipBlank(newlines: false)
        guard current == "]" else { throw error("expected ']' after the table name '\(name)'") }
        advance()
        if isArray {
          guard current == "]" else { throw error("expected ']]' after '[[\(name)'") }
          advance()
        }
        guard !root.has(name) else { throw error("'\(name)' is defined twice") }
        if isArray {
          guard tables[name] == nil else { throw error("'\(name)' is both a table and a list") }
          if arrays[name] == nil { order.append(name) }
          arrays[name, default: []].append(TableBuilder())
        } else {
          guard tables[name] == nil, arrays[name] == nil else {
            throw error("table [\(name)] is defined twice")
          }
          tables[name] = TableBuilder()
          order.append(name)
        }
        target = (name, isArray)
        try endOfLine()
        continue
      }
      let name = try key()
      skipBlank(newlines: false)
      guard current == "=" else { throw error("expected '=' after '\(name)'") }
      advance()
      skipBlank(newlines: false)
      let value = try self.value()
      let entryLine = line
      switch target {
      case nil:
        guard !root.has(name) else { throw error("'\(name)' is set twice") }
        root.set(name, value)
      case let (table, false)?:
        guard tables[table]?.has(name) == false else {
          throw error("'\(name)' is set twice in [\(table)]")
        }
        tables[table]?.set(name, value)
      case let (table, true)?:
        guard arrays[table]?.last?.has(name) == false else {
          throw ModelFileError(
            file: file, line: entryLine,
            reason: "'\(name)' is set twice in the same [[\(table)]] entry")
        }
        var entries = arrays[table] ?? []
        entries[entries.count - 1].set(name, value)
        arrays[table] = entries
      }
      try endOfLine()
    }
    for name in order {
      if let table = tables[name] {
        root.set(name, table.value)
      } else if let list = arrays[name] {
        root.set(name, .array(list.map(\.value)))
      }
    }
    return root.value
  }

  /// After a value or header: only blanks or a comment before the line ends.
  private mutating func endOfLine() throws(ModelFileError) {
    skipBlank(newlines: false)
    if let c = current, c != "\n" {
      throw error("unexpected '\(c)' after the value; put one setting on each line")
    }
  }

  /// A bare key (letters, digits, `_`, `-`) or a quoted one.
  private mutating func key() throws(ModelFileError) -> String {
    if current == "\"" || current == "'" { return try string() }
    var result = ""
    while let c = current,
      c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "-"
    {
      result.unicodeScalars.append(c)
      advance()
    }
    guard !result.isEmpty else {
      throw error("expected a setting name, found '\(current.map(String.init) ?? "end of file")'")
    }
    if current == "." { throw error("dotted keys ('\(result).…') are not supported; use a [table]") }
    return result
  }

  private mutating func value() throws(ModelFileError) -> ModelFileValue {
    guard let c = current, c != "\n" else { throw error("a setting needs a value after '='") }
    switch c {
    case "\"", "'": return .string(try string())
    case "[": return try array()
    case "{": return try inlineTable()
    case "t", "f": return try boolean()
    default: return try number()
    }
  }

  private mutating func string() throws(ModelFileError) -> String {
    let quote = current!
    advance()
    if current == quote, position + 1 < scalars.count, scalars[position + 1] == quote {
      throw error("multi-line strings are not supported in model files")
    }
    var result = ""
    while let c = current, c != quote {
      guard c != "\n" else { throw error("the string is not closed on its line") }
      if c == "\\" && quote == "\"" {
        advance()
        switch current {
        case "n": result += "\n"
        case "t": result += "\t"
        case "\"": result += "\""
        case "\\": result += "\\"
        default:
          throw error("unsupported escape '\\\(current.map(String.init) ?? "")' in a string")
        }
      } else {
        result.unicodeScalars.append(c)
      }
      advance()
    }
    guard current == quote else { throw error("the string is not closed") }
    advance()
    return result
  }

  private mutating func boolean() throws(ModelFileError) -> ModelFileValue {
    for (word, value) in [("true", true), ("false", false)] {
      let end = position + word.unicodeScalars.count
      if end <= scalars.count, String(String.UnicodeScalarView(scalars[position..<end])) == word {
        for _ in 0..<word.unicodeScalars.count { advance() }
        return .boolean(value)
      }
    }
    throw error("expected a value (a number, \"a string\", true/false or [a, list])")
  }

  private mutating func number() throws(ModelFileError) -> ModelFileValue {
    var text = ""
    while let c = current,
      ("0"..."9").contains(c) || c == "-" || c == "+" || c == "." || c == "e" || c == "E"
        || c == "_"
    {
      if c != "_" { text.unicodeScalars.append(c) }
      advance()
    }
    if let integer = Int(text) { return .integer(integer) }
    if let float = Double(text), float.isFinite { return .float(float) }
    throw error(
      "expected a value (a number, \"a string\", true/false or [a, list]), found "
        + "'\(text.isEmpty ? (current.map(String.init) ?? "") : text)'")
  }

  private mutating func array() throws(ModelFileError) -> ModelFileValue {
    advance()
    var items: [ModelFileValue] = []
    while true {
      skipBlank(newlines: true)
      if current == "]" {
        advance()
        return .array(items)
      }
      guard current != nil else { throw error("the list is not closed with ']'") }
      items.append(try value())
      skipBlank(newlines: true)
      if current == "," {
        advance()
      } else if current != "]" {
        throw error("expected ',' or ']' in the list")
      }
    }
  }

  private mutating func inlineTable() throws(ModelFileError) -> ModelFileValue {
    advance()
    var table = TableBuilder()
    while true {
      skipBlank(newlines: true)
      if current == "}" {
        advance()
        return table.value
      }
      let name = try key()
      skipBlank(newlines: false)
      guard current == "=" else { throw error("expected '=' after '\(name)'") }
      advance()
      skipBlank(newlines: false)
      guard !table.has(name) else { throw error("'\(name)' is set twice in the same table") }
      table.set(name, try value())
      skipBlank(newlines: true)
      if current == "," {
        advance()
      } else if current != "}" {
        throw error("expected ',' or '}' in the inline table")
      }
    }
  }
}

/// A table being read, keeping the order its keys were written in.
private struct TableBuilder {
  var entries: [String: ModelFileValue] = [:]
  var keys: [String] = []

  func has(_ key: String) -> Bool { entries[key] != nil }

  mutating func set(_ key: String, _ value: ModelFileValue) {
    if entries[key] == nil { keys.append(key) }
    entries[key] = value
  }

  var value: ModelFileValue { .table(entries, keys: keys) }
}

/// Reads a JSON model file into the same values (object keys sorted: order carries no meaning).
enum JSONModelReader {
  static func parse(_ text: String, file: String) throws(ModelFileError) -> ModelFileValue {
    do {
      return try JSONDecoder().decode(ModelFileValue.self, from: Data(text.utf8))
    } catch {
      throw ModelFileError(
        file: file, reason: "not valid JSON (\(error)); check the brackets, commas and quotes")
    }
  }
}

extension ModelFileValue: Decodable {
  init(from decoder: any Decoder) throws {
    if var list = try? decoder.unkeyedContainer() {
      var items: [ModelFileValue] = []
      while !list.isAtEnd { items.append(try list.decode(ModelFileValue.self)) }
      self = .array(items)
      return
    }
    if let object = try? decoder.container(keyedBy: AnyKey.self) {
      var entries: [String: ModelFileValue] = [:]
      for key in object.allKeys {
        entries[key.stringValue] = try object.decode(ModelFileValue.self, forKey: key)
      }
      self = .table(entries, keys: entries.keys.sorted())
      return
    }
    let single = try decoder.singleValueContainer()
    if let value = try? single.decode(Bool.self) {
      self = .boolean(value)
    } else if let value = try? single.decode(Int.self) {
      self = .integer(value)
    } else if let value = try? single.decode(Double.self) {
      self = .float(value)
    } else if let value = try? single.decode(String.self) {
      self = .string(value)
    } else {
      throw DecodingError.dataCorruptedError(
        in: single, debugDescription: "null is not a valid setting value")
    }
  }

  private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }
}
