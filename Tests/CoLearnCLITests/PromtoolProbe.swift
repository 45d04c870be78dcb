import CoLearnTestSupport
import Foundation
import Testing

/// Prometheus's own checker for the text exposition format: `promtool check metrics` (Debian's
/// `prometheus` package; `.ci/run` installs it), found on PATH or at /usr/bin/promtool.
enum Promtool {
  /// The promtool binary, or nil when it is not installed. A missing one is a recorded failure
  /// in CI (`CI=true`); elsewhere the check is skipped with a message saying how to install it.
  static func located() -> URL? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
    let candidates = path.split(separator: ":").map { "\($0)/promtool" } + ["/usr/bin/promtool"]
    if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
      return URL(fileURLWithPath: found)
    }
    if ProcessInfo.processInfo.environment["CI"] == "true" {
      Issue.record("CI=true but promtool is missing: .ci/run must install Debian's prometheus package")
    } else {
      print(
        "skipped: promtool check metrics (no promtool on PATH or at /usr/bin/promtool; "
          + "`apt-get install --no-install-recommends prometheus` provides it)")
    }
    return nil
  }

  /// Feeds `exposition` to `promtool check metrics` on its standard input, as
  /// `curl -s URL | promtool check metrics` does. It exits 0 with no output when the text parses
  /// and has no lint problems (it prints each one, e.g. `counter metrics should have "_total"
  /// suffix`, and exits 3).
  static func checkMetrics(_ exposition: String, promtool: URL, in directory: URL) throws -> ProcessResult {
    let file = directory.appendingPathComponent("promtool-input.txt")
    try exposition.write(to: file, atomically: true, encoding: .utf8)
    return try runProcess(
      URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" check metrics < \"$1\"", promtool.path, file.path])
  }
}
