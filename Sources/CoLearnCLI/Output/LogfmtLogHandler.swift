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

  static func quoted(_ value: String) -> String {
    let plain = !value.isEmpty && value.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "=" }
    if plain { return value }
    return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\")
      .replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
      + "\""
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
