import NIOCore
import NIOSSL
import NIOTLS

/// Sits right after the server's TLS handler on each accepted connection and reports a
/// handshake that fails — with the peer's address and the reason in words — to the
/// ``AuthenticationAudit``; once the handshake completes it removes itself. Without it, a
/// participant that cannot complete the handshake (it does not trust this certificate, dials a
/// name the certificate lacks, or speaks plaintext) leaves no trace in the server's log.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer

  private let audit: AuthenticationAudit
  private var reported = false

  init(audit: AuthenticationAudit) { self.audit = audit }

  /// Adds a watcher after the channel's `NIOSSLServerHandler` (on its event loop).
  static func install(on channel: any Channel, audit: AuthenticationAudit) throws {
    let operations = channel.pipeline.syncOperations
    let tls = try operations.handler(type: NIOSSLServerHandler.self)
    try operations.addHandler(Self(audit: audit), position: .after(tls))
  }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
      context.fireUserInboundEventTriggered(event)
      context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
      return
    }
    context.fireUserInboundEventTriggered(event)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    report(context, Self.reason(error))
    context.fireErrorCaught(error)
  }

  func channelInactive(context: ChannelHandlerContext) {
    report(context, "the connection closed before the handshake completed")
    context.fireChannelInactive()
  }

  private func report(_ context: ChannelHandlerContext, _ reason: String) {
    guard !reported else { return }
    reported = true
    let address = context.channel.remoteAddress
    let peer = address.flatMap { address in address.ipAddress.map { "\($0):\(address.port ?? 0)" } }
      ?? "unknown"
    audit.failedHandshake(peer: peer, reason: reason)
  }

  /// The failure in words, from BoringSSL's error names.
  static func reason(_ error: any Error) -> String {
    let text = briefly(error)
    if text.contains("WRONG_VERSION_NUMBER") || text.contains("HTTP_REQUEST")
      || text.contains("UNKNOWN_PROTOCOL")
    {
      return "the client does not speak TLS (a participant with --insecure?) (\(text))"
    }
    if text.contains("ALERT_UNKNOWN_CA") || text.contains("ALERT_BAD_CERTIFICATE")
      || text.contains("ALERT_CERTIFICATE_UNKNOWN")
    {
      return "the client refused this server's certificate: it does not trust its CA, or dialled "
        + "a name the certificate does not list (\(text))"
    }
    return text
  }

  /// BoringSSL's error names (e.g. `CERTIFICATE_VERIFY_FAILED`) instead of NIOSSL's full
  /// description with its source paths; the description itself when it names none.
  static func briefly(_ error: any Error) -> String {
    let text = "\(error)"
    let names = text.matches(of: /OPENSSL_internal:([A-Z0-9_]+)/).map { String($0.1) }
    return names.isEmpty ? text : names.joined(separator: ", ")
  }
}
