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
  /// The transport's hard limit on a request message (memory protection: a larger one only
  /// resets the stream). The federation's own, lower limit answers with RESOURCE_EXHAUSTED.
  public var maxRequestBytes: Int
  /// How long a graceful shutdown waits for in-flight calls.
  public var shutdownGrace: Duration

  public init(
    host: String, port: Int, tls: (certificateChain: String, privateKey: String)?,
    maxRequestBytes: Int = 4 << 20, shutdownGrace: Duration = .seconds(10)
  ) {
    self.host = host
    self.port = port
    self.tls = tls
    self.maxRequestBytes = maxRequestBytes
    self.shutdownGrace = shutdownGrace
  }

  var address: GRPCNIOTransportCore.SocketAddress {
    host.contains(":") ? .ipv6(host: host, port: port) : .ipv4(host: host, port: port)
  }
}

/// Runs the parameter server: gRPC over HTTP/2 (TLS unless configured otherwise), token
/// authentication, a metrics line in the log every `metricsInterval`, and a graceful stop on
/// SIGTERM or SIGINT (no new calls, waiting Lock calls fail with UNAVAILABLE, in-flight uploads
/// finish, a final snapshot), after which ``serve(onListening:)`` returns.
public final class ParameterServerHost: Sendable {
  public let federation: Federation
  public let authenticator: TokenAuthenticator
  public let listen: ListenConfiguration
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
    host = RPCServerHost(
      services: [ParameterServerService(federation: federation)], authenticator: authenticator,
      listen: listen, logger: logger, metricsInterval: metricsInterval,
      hooks: RPCServerHost.Hooks(
        servingMetadata: {
          [
            "model": "\(federation.settings.model)",
            "protocol": "\(federation.settings.order.rawValue)",
            "participants": "\(federation.settings.participants)",
            "sequence": "\(federation.store.sequence)",
          ]
        },
        logMetrics: { Self.logMetrics(federation: federation, logger: logger) },
        stopWaiting: { federation.stopWaiting() },
        finish: {
          try federation.store.snapshot()
          Self.logMetrics(federation: federation, logger: logger)
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

  /// Stops gracefully (what SIGTERM does): no new calls, waiting Lock calls fail with
  /// UNAVAILABLE, in-flight calls finish (for at most the shutdown grace).
  public func stop() {
    host.stop()
  }

  /// One line with the counters.
  public func logMetrics() {
    Self.logMetrics(federation: federation, logger: logger)
  }

  private static func logMetrics(federation: Federation, logger: Logger) {
    let metrics = federation.metrics
    logger.info(
      "metrics",
      metadata: [
        "participants": "\(metrics.participantsJoined)", "sequence": "\(metrics.sequence)",
        "rounds": "\(metrics.roundsCompleted)", "uploads": "\(metrics.uploadsAccepted)",
        "duplicates": "\(metrics.duplicateUploads)", "refused": "\(metrics.refusedUploads)",
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
