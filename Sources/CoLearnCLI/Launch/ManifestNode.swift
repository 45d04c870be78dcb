import Foundation

/// A Kubernetes manifest as a tree — maps keep their order, so the YAML written is
/// deterministic — and its rendering as block-style YAML.
///
/// A final class over ``Value`` (not a recursive enum: the compiler reported a circular
/// reference for the recursive enum in this module's release build).
final class ManifestNode {
  enum Value {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    /// A multi-line text (a file in a ConfigMap), written as a `|` literal block.
    case text(String)
    case map([(String, ManifestNode)])
    case list([ManifestNode])
  }

  let value: Value

  init(_ value: Value) { self.value = value }

  static func string(_ value: String) -> ManifestNode { ManifestNode(.string(value)) }
  static func integer(_ value: Int) -> ManifestNode { ManifestNode(.integer(value)) }
  static func boolean(_ value: Bool) -> ManifestNode { ManifestNode(.boolean(value)) }
  static func text(_ value: String) -> ManifestNode { ManifestNode(.text(value)) }
  static func map(_ entries: [(String, ManifestNode)]) -> ManifestNode { ManifestNode(.map(entries)) }
  static func list(_ items: [ManifestNode]) -> ManifestNode { ManifestNode(.list(items)) }

  /// The value at `key` of a map (nil for other nodes or a missing key).
  subscript(key: String) -> ManifestNode? {
    guard case .map(let entries) = value else { return nil }
    return entries.first { $0.0 == key }?.1
  }

  /// The value at a dotted path (`spec.template.metadata.labels`).
  func at(_ path: String) -> ManifestNode? {
    path.split(separator: ".").reduce(Optional(self)) { node, key in node?[String(key)] }
  }

  var stringValue: String? {
    switch value {
    case .string(let text), .text(let text): return text
    case .integer(let number): return "\(number)"
    default: return nil
    }
  }

  var integerValue: Int? {
    if case .integer(let number) = value { return number }
    return nil
  }

  var listValue: [ManifestNode] {
    if case .list(let items) = value { return items }
    return []
  }

  var mapValue: [(String, ManifestNode)] {
    if case .map(let entries) = value { return entries }
    return []
  }

  /// The node as a YAML document (no leading `---`), ending in a newline.
  func yaml() -> String {
    var lines: [String] = []
    Self.render(self, indent: 0, into: &lines)
    return lines.joined(separator: "\n") + "\n"
  }

  private static func render(_ node: ManifestNode, indent: Int, into lines: inout [String]) {
    let pad = String(repeating: " ", count: indent)
    switch node.value {
    case .map(let entries):
      if entries.isEmpty {
        lines.append(pad + "{}")
        return
      }
      for (key, value) in entries {
        let head = pad + scalar(key) + ":"
        if let single = inline(value) {
          lines.append(head + " " + single)
        } else if case .text(let text) = value.value {
          lines.append(head + " |" + (text.hasSuffix("\n") ? "" : "-"))
          for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast(text.hasSuffix("\n") ? 1 : 0) {
            lines.append(line.isEmpty ? "" : pad + "  " + line)
          }
        } else {
          lines.append(head)
          render(value, indent: indent + 2, into: &lines)
        }
      }
    case .list(let items):
      if items.isEmpty {
        lines.append(pad + "[]")
        return
      }
      for item in items {
        if let single = inline(item) {
          lines.append(pad + "- " + single)
        } else {
          var nested: [String] = []
          render(item, indent: indent + 2, into: &nested)
          // The first line of the item goes after the dash.
          if let first = nested.first {
            lines.append(pad + "- " + first.dropFirst(indent + 2))
            lines += nested.dropFirst()
          }
        }
      }
    default:
      lines.append(pad + (inline(node) ?? ""))
    }
  }

  /// The node on one line, or nil for maps, lists and texts with content.
  private static func inline(_ node: ManifestNode) -> String? {
    switch node.value {
    case .string(let value): return scalar(value)
    case .integer(let value): return "\(value)"
    case .boolean(let value): return value ? "true" : "false"
    case .map(let entries) where entries.isEmpty: return "{}"
    case .list(let items) where items.isEmpty: return "[]"
    case .text(let value) where value.isEmpty: return "\"\""
    default: return nil
    }
  }

  /// A string as a YAML scalar: plain when unambiguous, else double-quoted (JSON escapes).
  static func scalar(_ value: String) -> String {
    let plainCharacters = CharacterSet(
      charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")
    let reserved: Set<String> = [
      "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~",
    ]
    let isPlain =
      !value.isEmpty && value.unicodeScalars.allSatisfy(plainCharacters.contains)
      && !reserved.contains(value.lowercased()) && Double(value) == nil && Int(value) == nil
      && !value.hasPrefix("-") && !value.hasPrefix(".")
    if isPlain { return value }
    let data = (try? JSONEncoder().encode(value)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
  }
}
