import CoLearnTensor
import Foundation

/// Progress of a long loop on standard error: a redrawn bar with rate and ETA on a terminal,
/// plain lines otherwise (logs, CI), so that output captured to a file stays readable.
final class ProgressDisplay {
  private let total: Int
  private let unit: String
  private let isTerminal: Bool
  private let start = monotonicSeconds()
  private var lastDraw = -1.0
  private var hasBar = false

  /// A display for `total` units of work named `unit` ("samples", "rounds").
  init(total: Int, unit: String, forceTerminal: Bool? = nil) {
    self.total = max(total, 1)
    self.unit = unit
    self.isTerminal = forceTerminal ?? (isatty(STDERR_FILENO) == 1)
  }

  /// Reports that `done` units are finished; redraws the bar at most ten times a second.
  func update(done: Int, label: String) {
    guard isTerminal else { return }
    let now = monotonicSeconds()
    guard now - lastDraw >= 0.1 || done >= total else { return }
    lastDraw = now
    let elapsed = now - start
    let fraction = min(1, Double(done) / Double(total))
    let rate = elapsed > 0 ? Double(done) / elapsed : 0
    let remaining = rate > 0 ? Double(total - done) / rate : 0
    let width = 30
    let filled = Int(fraction * Double(width))
    let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
    let text =
      "\r\(label) \(bar) \(format(100 * fraction, 0))%  \(format(rate, 0)) \(unit)/s  "
      + "ETA \(Self.duration(remaining))   "
    FileHandle.standardError.write(Data(text.utf8))
    hasBar = true
  }

  /// Prints a finished line (clearing the bar first on a terminal).
  func line(_ text: String) {
    if hasBar {
      FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8))
      hasBar = false
    }
    print(text)
    fflush(nil)
  }

  /// Seconds as `1h02m`, `3m05s` or `12s`.
  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    if s >= 3600 { return "\(s / 3600)h\(String(format: "%02d", (s % 3600) / 60))m" }
    if s >= 60 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
    return "\(s)s"
  }
}
