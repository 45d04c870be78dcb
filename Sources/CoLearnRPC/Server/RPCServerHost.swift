import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import NIOHPACK
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// What every colearn server shares (the DSSGD parameter server and the split-learning
/// coordinator): gRPC over HTTP/2 with TLS unless configured otherwise, the request memory bound
/// (``RequestBudget``: the message limit, and the bytes in flight per caller and in all),
/// token authentication with an audit trail of refusals
/// (``AuthenticationAudit``) (``TokenAuthentication``) in front of every service, a `serving`
/// log line, a metrics line every `metricsInterval`, and a graceful stop on SIGTERM or SIGINT
/// (no new calls, waiting calls released by ``Hooks/stopWaiting``, in-flight calls finish, then
/// ``Hooks/finish``), after which ``serve(handleSignals:onListening:)`` returns.
public final class RPCServerHost: Sendable {
  /// What the service behind the host adds to the common life cycle.
  public struct Hooks: Sendable {
    /// Extra fields of the `serving` line.
    public var servingMetadata: @Sendable () -> Logger.Metadata
    /// Writes one metrics line.
    public var logMetrics: @Sendable () -> Void
    /// Fails the calls that wait (for a turn) with UNAVAILABLE, so shutdown can finish.
    public var stopWaiting: @Sendable () -> Void
    /// Runs after the last call finished (final snapshot, final metrics, `stopped` line).
    public var finish: @Sendable () throws -> Void

    public init(
      servingMetadata: @escaping @Sendable () -> Logger.Metadata,
      logMetrics: @escaping @Sendable () -> Void, stopWaiting: @escaping @Sendable () -> Void,
      finish: @escaping @Sendable () throws -> Void
    ) {
      self.servingMetadata = servingMetadata
      self.logMetrics = logMetrics
      self.stopWaiting = stopWaiting
      self.finish = finish
    }
  }

  public let listen: ListenConfiguration
  /// The refused authentications.
  public let audit: AuthenticationAudit
  /// The request bytes in flight.
  public let budget: RequestBudget
  private let services: [any RegistrableRPCService]
  private let authenticator: TokenAuthenticator
  private let logger: Logger
  private let metricsInterval: Duration
  private let hooks: Hooks
  private let running = Mutex<GRPCServer<HTTP2ServerTransport.Posix>?>(nil)

  public init(
    services: [any RegistrableRPCService], authenticator: TokenAuthenticator,
    listen: ListenConfiguration, logger: Logger, metricsInterval: Duration,
    audit: AuthenticationAudit? = nil, hooks: Hooks
  ) {
    self.audit = audit ?? AuthenticationAudit(logger: logger)
    budget = RequestBudget(
      maxMessageBytes: listen.maxRequestBytes, perCallerBytes: listen.maxInFlightBytesPerCaller,
      totalBytes: listen.maxInFlightBytes)
    self.services = services
    self.authenticator = authenticator
    self.listen = listen
    self.logger = logger
    self.metricsInterval = metricsInterval
    self.hooks = hooks
  }

  /// Serves until ``stop()``, or SIGTERM/SIGINT when `handleSignals`; then runs
  /// ``Hooks/finish`` and returns. `onListening` receives the bound port once the server
  /// listens.
  ///
  /// - Throws: ``ServeError`` when the address cannot be bound or the TLS files cannot be
  ///   loaded; whatever ``Hooks/finish`` throws.
  public func serve(
    handleSignals: Bool = true, onListening: @Sendable (Int) -> Void = { _ in }
  ) async throws {
    let security: HTTP2ServerTransport.Posix.TransportSecurity
    if let tls = listen.tls {
      security = .tls(
        certificateChain: [.file(path: tls.certificateChain, format: .pem)],
        privateKey: .file(path: tls.privateKey, format: .pem))
    } else {
      security = .plaintext
    }
    let maxRequestBytes = listen.maxRequestBytes
    let grace = listen.shutdownGrace
    let (budget, authenticator, audit) = (self.budget, self.authenticator, self.audit)
    let watchesHandshakes = listen.tls != nil
    let transport = HTTP2ServerTransport.Posix(
      address: listen.address, transportSecurity: security,
      config: .defaults {
        // Never reached: RequestAdmissionHandler refuses larger messages first, with a status.
        $0.rpc.maxRequestPayloadSize = maxRequestBytes
        $0.connection.maxGraceTime = grace
        // A peer that went silent without closing its connection (network gone) is found by a
        // ping after 30 s without data, unanswered for 20 s: the connection is closed, and a
        // turn it held through HoldTurn released (gRPC's default waits 2 hours).
        $0.connection.keepalive.time = .seconds(30)
        $0.connection.keepalive.timeout = .seconds(20)
        $0.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
          channel.eventLoop.makeCompletedFuture {
            if watchesHandshakes { try TLSHandshakeWatcher.install(on: channel, audit: audit) }
          }
        }
        $0.channelDebuggingCallbacks.onAcceptHTTP2Stream = { channel in
          channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
              RequestAdmissionHandler(budget: budget) { headers in
                Self.caller(headers, authenticator: authenticator)
              },
              position: .first)
          }
        }
      })
    let server = GRPCServer(
      transport: transport, services: services,
      interceptors: [TokenAuthentication(authenticator: authenticator, audit: audit)])
    running.withLock { $0 = server }
    let signals = handleSignals ? installSignalHandlers() : []
    defer {
      for source in signals { source.cancel() }
      running.withLock { $0 = nil }
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await server.serve() }
      let address: GRPCNIOTransportCore.SocketAddress?
      do {
        address = try await server.listeningAddress
      } catch {
        group.cancelAll()
        throw ServeError.cannotListen(
          address: "\(listen.host):\(listen.port)", tls: listen.tls != nil, underlying: "\(error)")
      }
      let port = address?.ipv4?.port ?? address?.ipv6?.port ?? listen.port
      var metadata: Logger.Metadata = [
        "address": "\(listen.host):\(port)", "tls": "\(listen.tls != nil)",
      ]
      metadata.merge(hooks.servingMetadata()) { first, _ in first }
      logger.info("serving", metadata: metadata)
      onListening(port)
      group.addTask { [metricsInterval, hooks] in
        while true {
          try await Task.sleep(for: metricsInterval)
          hooks.logMetrics()
        }
      }
      // serve() returns once a graceful shutdown has finished the in-flight calls.
      try await group.next()
      group.cancelAll()
    }
    try hooks.finish()
  }

  /// Stops gracefully (what SIGTERM does): no new calls, waiting calls fail with UNAVAILABLE,
  /// in-flight calls finish (for at most the shutdown grace).
  public func stop() {
    logger.info("shutting down: finishing in-flight calls")
    running.withLock { $0?.beginGracefulShutdown() }
    hooks.stopWaiting()
  }

  /// Whose share of the request budget a call draws on: its token's identity, or "" (one
  /// share for all calls without a valid token, which are refused anyway).
  static func caller(_ headers: HPACKHeaders, authenticator: TokenAuthenticator) -> String {
    var metadata = Metadata()
    for value in headers[BearerToken.metadataKey] {
      metadata.addString(value, forKey: BearerToken.metadataKey)
    }
    guard let token = BearerToken.token(in: metadata),
      case .identity(let name) = authenticator.authenticate(token)
    else { return "" }
    return name
  }

  private func installSignalHandlers() -> [any DispatchSourceSignal] {
    [SIGTERM, SIGINT].map { signalNumber in
      signal(signalNumber, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: signalNumber)
      source.setEventHandler { [self] in stop() }
      source.resume()
      return source
    }
  }
}
