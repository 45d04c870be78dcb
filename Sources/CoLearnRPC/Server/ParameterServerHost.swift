import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where and how the server listens.
public struct ListenConfiguration: Sendable {
  /// A host name or IP address (IPv4 dotted, or IPv6 with colons) and a port (0: any free one).
  public var host: String
  public var port: Int
  /// TLS certificate chain and private key (PEM files); nil serves plaintext (`--insecure`).
  public var tls: (certificateChain: String, privateKey: String)?
  /// The largest request message read (the whole message: for an upload, the update plus the
  /// few bytes of ids around it). A larger one is refused with RESOURCE_EXHAUSTED as soon as
  /// its length prefix arrives, without reading it (``RequestBudget``).
  public var maxRequestBytes: Int
  /// The request bytes one caller (token identity) may have in flight at once; by default two
  /// messages of the largest size.
  public var maxInFlightBytesPerCaller: Int
  /// The request bytes the server holds at once, over all callers; by default 16 messages of
  /// the largest size, at least 64 MiB.
  public var maxInFlightBytes: Int
  /// How long a graceful shutdown waits for in-flight calls.
  public var shutdownGrace: Duration

  public init(
    host: String, port: Int, tls: (certificateChain: String, privateKey: String)?,
    maxRequestBytes: Int = 4 << 20, maxInFlightBytesPerCaller: Int? = nil,
    maxInFlightBytes: Int? = nil, shutdownGrace: Duration = .seconds(10)
  ) {
    self.host = host
    self.port = port
    self.tls = tls
    self.maxRequestBytes = maxRequestBytes
    self.maxInFlightBytesPerCaller = max(
      maxInFlightBytesPerCaller ?? 2 * maxRequestBytes, maxRequestBytes)
    self.maxInFlightBytes = max(
      maxInFlightBytes ?? max(16 * maxRequestBytes, 64 << 20), self.maxInFlightBytesPerCaller)
    self.shutdownGrace = shutdownGrace
  }

  /// The envelope an upload request adds to its update (participant and lease ids, round,
  /// field tags): what `--max-message-bytes` is padded by for the transport.
  public static let requestEnvelopeBytes = 64 << 10

  var address: GRPCNIOTransportCore.SocketAddress {
    host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
  }
}

/// Runs the parameter server: gRPC over HTTP/2 (TLS unless configured otherwise), token
/// authentication, a metrics line in the log every `metricsInterval`, and a graceful stop on
/// SIGTERM or SIGINT (no new calls, waiting HoldTurn and Lock calls fail with UNAVAILABLE, held
/// HoldTurn calls end, in-flight uploads finish, a final snapshot), after which
/// ``serve(onListening:)`` returns.
public final class ParameterServerHost: Sendable {
  public let federation: Federation
  public let authenticator: TokenAuthenticator
  public let listen: ListenConfiguration
  /// The refused authentications (counted and logged).
  public let audit: AuthenticationAudit
  private let logger: Logger
  private let host: RPCServerHost

  public init(
    federation: Federation, authenticator: TokenAuthenticator, listen: ListenConfiguration,
    logger: Logger, metricsInterval: Duration = .seconds(30)
  ) {
    self.federation = federation
    self.authenticator = authenticator
    self.listen = listen
    self.logger = logger
    let audit = AuthenticationAudit(logger: logger)
    self.audit = audit
    federation.watchRevocations(authenticator)
    host = RPCServerHost(
      services: [ParameterServerService(federation: federation)], authenticator: authenticator,
      listen: listen, logger: logger, metricsInterval: metricsInterval, audit: audit,
      hooks: RPCServerHost.Hooks(
        servingMetadata: {
          let bounds = federation.settings.updateBounds
          return [
            "model": "\(federation.settings.model)",
            "protocol": "\(federation.settings.order.rawValue)",
            "participants": "\(federation.settings.participants)",
            "sequence": "\(federation.store.sequence)",
            "max_update": "\(bounds.maxValue.map { "\($0)" } ?? "none")",
            "max_update_norm": "\(bounds.maxNorm.map { "\($0)" } ?? "none")",
          ]
        },
        logMetrics: {
          federation.evictRevoked()
          federation.reconsiderTurns()
          Self.logMetrics(federation: federation, audit: audit, logger: logger)
        },
        stopWaiting: { federation.stopWaiting() },
        finish: {
          try federation.store.snapshot()
          Self.logMetrics(federation: federation, audit: audit, logger: logger)
          logger.info("stopped", metadata: ["sequence": "\(federation.store.sequence)"])
        }))
  }

  /// Serves until ``stop()``, or SIGTERM/SIGINT when `handleSignals`; then writes a final
  /// snapshot and returns. `onListening` receives the bound port once the server listens.
  ///
  /// - Throws: ``ServeError`` when the address cannot be bound or the TLS files cannot be
  ///   loaded; ``DurabilityError`` when the final snapshot fails (the log still holds
  ///   everything).
  public func serve(
    handleSignals: Bool = true, onListening: @Sendable (Int) -> Void = { _ in }
  ) async throws {
    try await host.serve(handleSignals: handleSignals, onListening: onListening)
  }

  /// Stops gracefully (what SIGTERM does): no new calls, waiting HoldTurn and Lock calls fail
  /// with UNAVAILABLE, held HoldTurn calls end, in-flight calls finish (for at most the shutdown
  /// grace).
  public func stop() {
    host.stop()
  }

  /// One line with the counters.
  public func logMetrics() {
    Self.logMetrics(federation: federation, audit: audit, logger: logger)
  }

  /// The counters now, with the refused authentications.
  public var metrics: FederationMetrics {
    var metrics = federation.metrics
    metrics.refusedAuthentications = audit.refusedCount
    metrics.failedHandshakes = audit.failedHandshakeCount
    return metrics
  }

  private static func logMetrics(
    federation: Federation, audit: AuthenticationAudit, logger: Logger
  ) {
    let metrics = federation.metrics
    let refusedAuthentications = audit.refusedCount
    logger.info(
      "metrics",
      metadata: [
        "participants": "\(metrics.participantsJoined)", "sequence": "\(metrics.sequence)",
        "rounds": "\(metrics.roundsCompleted)", "uploads": "\(metrics.uploadsAccepted)",
        "duplicates": "\(metrics.duplicateUploads)",
        "refused": "\(metrics.refusedUploads + refusedAuthentications)",
        "refused_uploads": "\(metrics.refusedUploads)", "refused_auth": "\(refusedAuthentications)",
        "failed_tls": "\(audit.failedHandshakeCount)",
        "parameters_updated": "\(metrics.parametersUpdated)",
        "upload_bytes": "\(metrics.uploadBytes)", "downloads": "\(metrics.downloads)",
        "download_bytes": "\(metrics.downloadBytes)",
        "upload_p50_ms": "\(rounded(metrics.uploadLatencyP50))",
        "upload_p99_ms": "\(rounded(metrics.uploadLatencyP99))",
        "lease_holder": "\(metrics.leaseHolder)",
      ])
  }

  private static func rounded(_ value: Double) -> String {
    String(Double((value * 100).rounded()) / 100)
  }
}

/// Why the server could not start.
public enum ServeError: Error, CustomStringConvertible {
  case cannotListen(address: String, tls: Bool, underlying: String)

  public var description: String {
    switch self {
    case .cannotListen(let address, let tls, let underlying):
      return "cannot serve on \(address): \(underlying)"
        + (tls
          ? " (check that --tls-cert and --tls-key are readable PEM files of a matching pair)"
          : " (is the port in use? choose another with --listen HOST:PORT)")
    }
  }
}
