/// The lines in which two canonical model files differ (issue 17): what a server tells a
/// participant whose model is not its own, without parsing the participant's text.
///
/// A canonical model file (`ModelFile.canonicalText` in CoLearnNN, JoinResponse.model_file on
/// the wire) is `key = value` lines — `name`, `input`, `classes` — followed by one
/// `[[layers]]` block per layer with its `type` and every setting explicit. The comparison
/// goes block by block: the header's `input` and `classes` (the name is a label and is not
/// compared), then layer i against layer i, so a changed size names its layer and a missing
/// layer is named as "nothing". Text from a participant is hostile input: only printable
/// ASCII is shown (anything else becomes `?`), each side is cut to 80 characters, and at most
/// ``maximumLines`` lines are reported.
///
/// - Complexity: O(n) in the length of the two texts.
public enum ModelFileDifferences {
  /// The most difference lines reported; more are summarised as "… and N more".
  public static let maximumLines = 8

  /// The longest text compared (64 KiB); a longer participant file is not compared.
  public static let maximumTextBytes = 64 << 10

  /// Where `there` (the other side's canonical file) differs from `here` (this side's),
  /// e.g. `layer 2 (linear): outputs = 16 on the server, outputs = 32 here`. Empty when the
  /// texts agree on everything but the name, or when either is empty or too long.
  ///
  /// - Parameters:
  ///   - here: this side's canonical text, named by `hereName` ("here").
  ///   - there: the other side's, named by `thereName` ("on the server").
  public static func between(
    _ here: String, _ there: String, hereName: String = "here", thereName: String = "there"
  ) -> [String] {
    guard !here.isEmpty, !there.isEmpty, here.utf8.count <= maximumTextBytes,
      there.utf8.count <= maximumTextBytes
    else { return [] }
    let mine = blocks(of: here)
    let theirs = blocks(of: there)
    var lines: [String] = []
    for key in ["input", "classes"] {
      let a = mine.header[key] ?? "nothing"
      let b = theirs.header[key] ?? "nothing"
      if a != b { lines.append("\(key): \(shown(b)) \(thereName), \(shown(a)) \(hereName)") }
    }
    for index in 0..<max(mine.layers.count, theirs.layers.count) {
      let a = index < mine.layers.count ? mine.layers[index] : nil
      let b = index < theirs.layers.count ? theirs.layers[index] : nil
      if a == b { continue }
      let kind = (b ?? a)?.first { $0.key == "type" }?.value ?? "?"
      let differing: (a: String, b: String)
      if let a, let b, a.first == b.first {
        // Same kind: name only the settings that differ.
        let keys = (a + b).map(\.key).reduce(into: [String]()) {
          if !$0.contains($1) { $0.append($1) }
        }
        let changed = keys.filter { key in
          a.first { $0.key == key }?.value != b.first { $0.key == key }?.value
        }
        func settings(_ block: [Setting]) -> String {
          changed.map { key in "\(key) = \(block.first { $0.key == key }?.value ?? "unset")" }
            .joined(separator: ", ")
        }
        differing = (settings(a), settings(b))
      } else {
        func whole(_ block: [Setting]?) -> String {
          guard let block else { return "nothing" }
          return block.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
        }
        differing = (whole(a), whole(b))
      }
      lines.append(
        "layer \(index + 1) (\(shown(kind))): \(shown(differing.b)) \(thereName), "
          + "\(shown(differing.a)) \(hereName)")
    }
    guard lines.count > maximumLines else { return lines }
    return Array(lines.prefix(maximumLines)) + ["… and \(lines.count - maximumLines) more"]
  }

  /// One `key = value` line of a block.
  private struct Setting: Equatable {
    var key: String
    var value: String
  }

  /// The header's settings and each layer's, in order.
  private static func blocks(of text: String) -> (header: [String: String], layers: [[Setting]]) {
    var header: [String: String] = [:]
    var layers: [[Setting]] = []
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
      let line = rawLine.trimmingSpaces
      if line.isEmpty || line.hasPrefix("#") { continue }
      if line == "[[layers]]" {
        layers.append([])
        continue
      }
      guard let equals = line.firstIndex(of: "=") else { continue }
      let key = String(line[..<equals].trimmingSpaces)
      let value = String(line[line.index(after: equals)...].trimmingSpaces)
      if layers.isEmpty {
        header[key] = value
      } else {
        layers[layers.count - 1].append(Setting(key: key, value: value))
      }
    }
    return (header, layers)
  }

  /// Printable ASCII only, at most 80 characters.
  private static func shown(_ text: String) -> String {
    var result = ""
    for scalar in text.unicodeScalars {
      if result.count == 80 {
        result += "…"
        break
      }
      result.unicodeScalars.append((0x20...0x7E).contains(scalar.value) ? scalar : "?")
    }
    return result
  }
}

extension Substring {
  /// Without leading and trailing spaces and tabs.
  fileprivate var trimmingSpaces: Substring {
    let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
    guard let first = firstIndex(where: { !isSpace($0) }),
      let last = lastIndex(where: { !isSpace($0) })
    else { return "" }
    return self[first...last]
  }
}
