import Logging
import Synchronization

/// The audit trail of refused authentications (and of failed TLS handshakes, with the peer's
/// address and the reason): every call refused for a missing, malformed,
/// unknown or revoked token is counted (``refusedCount``, the metrics line's `refused_auth=`),
/// and logged at notice level with the token's name when the server knows it, the peer address
/// and the method, at most ``linesPerWindow`` lines per ``window`` (a flood of bad tokens cannot
/// flood the log; the next line that is written says how many were left out).
///
/// Client-chosen strings reach the log only through the log handler, which escapes every
/// control character (`colearn serve`'s logfmt handler).
public final class AuthenticationAudit: Sendable {
  /// Why a call was refused.
  public enum Reason: String, Sendable {
    /// No `authorization` entry, or not "Bearer <token>".
    case missing
    /// A token that is not in the token file.
    case unknown
    /// The token of a revoked identity.
    case revoked
  }

  private struct Window {
    var start: ContinuousClock.Instant
    var lines = 0
    var suppressed = 0
  }

  public let linesPerWindow: Int
  public let window: Duration
  private let logger: Logger
  private let count = Atomic<UInt64>(0)
  private let handshakes = Atomic<UInt64>(0)
  private let state: Mutex<Window>
  private let clock = ContinuousClock()

  public init(logger: Logger, linesPerWindow: Int = 20, window: Duration = .seconds(60)) {
    self.logger = logger
    self.linesPerWindow = linesPerWindow
    self.window = window
    state = Mutex(Window(start: ContinuousClock().now))
  }

  /// Refused authentications since the server started.
  public var refusedCount: UInt64 { count.load(ordering: .relaxed) }

  /// Failed TLS handshakes since the server started.
  public var failedHandshakeCount: UInt64 { handshakes.load(ordering: .relaxed) }

  /// Counts and (unless over the rate limit) logs one refused call.
  public func refused(_ reason: Reason, name: String?, peer: String, method: String) {
    count.add(1, ordering: .relaxed)
    var metadata: Logger.Metadata = [
      "reason": "\(reason.rawValue)", "peer": "\(peer)", "method": "\(method)",
    ]
    if let name { metadata["participant"] = "\(name)" }
    log("authentication refused", metadata)
  }

  /// Counts and (unless over the rate limit) logs a connection whose TLS handshake failed:
  /// the peer's address and the reason in words (a participant that does not trust this
  /// server's certificate, one that speaks plaintext, …).
  public func failedHandshake(peer: String, reason: String) {
    handshakes.add(1, ordering: .relaxed)
    log("TLS handshake failed", ["peer": "\(peer)", "reason": "\(reason)"])
  }

  /// Logs at notice level unless over the rate limit shared by all of the audit's lines.
  private func log(_ message: Logger.Message, _ metadata: Logger.Metadata) {
    let suppressed = state.withLock { window -> Int? in
      let now = clock.now
      if now - window.start >= self.window {
        window.start = now
        window.lines = 0
      }
      guard window.lines < linesPerWindow else {
        window.suppressed += 1
        return nil
      }
      window.lines += 1
      defer { window.suppressed = 0 }
      return window.suppressed
    }
    guard let suppressed else { return }
    var metadata = metadata
    if suppressed > 0 { metadata["suppressed_before"] = "\(suppressed)" }
    logger.notice(message, metadata: metadata)
  }
}
