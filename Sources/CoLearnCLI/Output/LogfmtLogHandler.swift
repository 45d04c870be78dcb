import ArgumentParser
import Foundation
import Logging

/// swift-log's handler for the server and participants: one logfmt line per event on standard
/// error, e.g.
///
///     ts=2026-11-22T10:00:00.123Z level=info label=colearn.serve msg="participant joined" participant=alice
///
/// (machine-parsable, greppable, and what log shippers such as Loki or Vector read as is).
struct LogfmtLogHandler: LogHandler {
  let label: String
  var logLevel: Logger.Level
  var metadata: Logger.Metadata = [:]

  init(label: String, level: Logger.Level) {
    self.label = label
    logLevel = level
  }

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    var line = "ts=\(Self.timestamp()) level=\(event.level) label=\(label) msg=\(Self.quoted("\(event.message)"))"
    let merged = metadata.merging(event.metadata ?? [:]) { $1 }
    for key in merged.keys.sorted() {
      line += " \(key)=\(Self.quoted("\(merged[key]!)"))"
    }
    line += "\n"
    FileHandle.standardError.write(Data(line.utf8))
  }

  /// `value` as a logfmt value: as is when it is plain, else in double quotes with `\\` and
  /// `"` escaped and every control, format or line-separator character (ESC, CR, NUL, bidi
  /// overrides, …) written as `\n`, `\r`, `\t` or `\u{XX}`, so a client-chosen string can
  /// neither forge a line nor hide text on a terminal.
  static func quoted(_ value: String) -> String {
    let plain = !value.isEmpty
      && value.unicodeScalars.allSatisfy {
        !$0.properties.isWhitespace && $0 != "\"" && $0 != "=" && $0 != "\\" && !needsEscape($0)
      }
    if plain { return value }
    var out = "\""
    for scalar in value.unicodeScalars {
      switch scalar {
      case "\\": out += "\\\\"
      case "\"": out += "\\\""
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case _ where needsEscape(scalar):
        out += "\\u{" + String(scalar.value, radix: 16) + "}"
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }

  /// Control (Cc), format (Cf) and line or paragraph separator characters.
  private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.properties.generalCategory {
    case .control, .format, .lineSeparator, .paragraphSeparator: true
    default: false
    }
  }

  private static func timestamp() -> String {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    var time = now.tv_sec
    var parts = tm()
    gmtime_r(&time, &parts)
    return String(
      format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900,
      Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min),
      Int(parts.tm_sec), now.tv_nsec / 1_000_000)
  }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// A logger writing logfmt to standard error at `level`.
func makeLogger(_ label: String, level: Logger.Level) -> Logger {
  Logger(label: label) { label in LogfmtLogHandler(label: label, level: level) }
}
