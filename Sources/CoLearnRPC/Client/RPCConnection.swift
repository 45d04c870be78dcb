import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Where a colearn client connects and with which credentials.
public struct RPCEndpoint: Sendable {
  /// Host name or IP address, and port.
  public var host: String
  public var port: Int
  /// TLS (trusting `caCertificate`, a PEM file, or the system's roots when nil); nil connects
  /// in plaintext (`--insecure`).
  public var tls: (caCertificate: String?, serverName: String?)?
  /// The participant's secret token, sent as `authorization: Bearer <token>`.
  public var token: String

  public init(
    host: String, port: Int, tls: (caCertificate: String?, serverName: String?)?, token: String
  ) {
    self.host = host
    self.port = port
    self.tls = tls
    self.token = token
  }
}

/// What every colearn client shares (the DSSGD participant and the split-learning participant):
/// one HTTP/2 connection (TLS unless configured otherwise) with the bearer token on every call,
/// blocking calls for the training thread, and retries of transient failures with exponential
/// backoff and jitter.
///
/// Calls block the calling thread: drive it from a thread of its own, never from a Swift
/// concurrency executor.
public final class RPCConnection: @unchecked Sendable {
  public let endpoint: RPCEndpoint
  /// The client, for the generated stubs (`Service.Client(wrapping: connection.grpc)`).
  public let grpc: GRPCClient<HTTP2ClientTransport.Posix>
  /// The metadata every call carries (the bearer token).
  public let metadata: Metadata
  private let connections: Task<Void, any Error>
  /// Whether a call has succeeded on this connection: until one has, an UNAVAILABLE call is
  /// checked with a ``ConnectionProbe`` (a wrong TLS setting is reported, not retried).
  private let connected = Atomic<Bool>(false)

  /// Starts connecting (lazily: the first call waits for the connection).
  public init(_ endpoint: RPCEndpoint) throws {
    self.endpoint = endpoint
    let security: HTTP2ClientTransport.Posix.TransportSecurity
    if let tls = endpoint.tls {
      security = .tls { settings in
        if let ca = tls.caCertificate {
          settings.trustRoots = .certificates([.file(path: ca, format: .pem)])
        }
      }
    } else {
      security = .plaintext
    }
    let isAddress = endpoint.host.allSatisfy { $0.isNumber || $0 == "." }
    let serverName = endpoint.tls?.serverName
    let config = HTTP2ClientTransport.Posix.Config.defaults { config in
      config.backoff = .init(
        initial: .milliseconds(100), max: .seconds(5), multiplier: 2, jitter: 0.2)
      if let serverName { config.http2.authority = serverName }
    }
    let transport =
      isAddress
      ? try HTTP2ClientTransport.Posix(
        target: .ipv4(address: endpoint.host, port: endpoint.port),
        transportSecurity: security, config: config)
      : try HTTP2ClientTransport.Posix(
        target: .dns(host: endpoint.host, port: endpoint.port),
        transportSecurity: security, config: config)
    let grpc = GRPCClient(transport: transport)
    self.grpc = grpc
    connections = Task.detached { try await grpc.runConnections() }
    metadata = ["authorization": .string(BearerToken.metadataValue(for: endpoint.token))]
  }

  deinit {
    close()
  }

  /// Closes the connection (after in-flight calls).
  public func close() {
    grpc.beginGracefulShutdown()
  }

  /// What to do about a refusal that is not transient.
  public enum Recovery {
    /// Repeat the call now (the caller repaired the state, e.g. joined again).
    case retryNow
    /// Give up with ``RemoteServerError/refused(operation:code:message:)``.
    case refuse
  }

  /// Runs `body` until it succeeds: transient failures (UNAVAILABLE, a broken connection, a
  /// deadline, INTERNAL, UNKNOWN, CANCELLED) are retried with exponential backoff (100 ms to
  /// 5 s, jitter ±20 %) for up to `retryFor`; other statuses go to `recover`.
  ///
  /// Until a call has succeeded, an UNAVAILABLE failure is checked by a ``ConnectionProbe``:
  /// a TLS setting that cannot work ends the retries with
  /// ``RemoteServerError/misconfigured(operation:reason:)`` saying what to change.
  ///
  /// - Throws: ``RemoteServerError``, or whatever `recover` throws.
  public func call<Response: Sendable>(
    _ operation: String, options: CallOptions, retryFor: Duration,
    onRetry: ((String) -> Void)? = nil,
    recover: (RPCError) throws -> Recovery = { _ in .refuse },
    _ body:
      @escaping @Sendable (GRPCClient<HTTP2ClientTransport.Posix>, Metadata, CallOptions)
      async throws -> Response
  ) throws -> Response {
    let clock = ContinuousClock()
    let start = clock.now
    var backoff = Duration.milliseconds(100)
    while true {
      let grpc = self.grpc
      let metadata = self.metadata
      let result = blocking { try await body(grpc, metadata, options) }
      let failure: RPCError
      switch result {
      case .success(let response):
        connected.store(true, ordering: .relaxed)
        return response
      case .failure(let error as RPCError): failure = error
      case .failure(let error):
        failure = RPCError(code: .unavailable, message: "\(error)")
      }
      switch failure.code {
      case .unavailable, .deadlineExceeded, .internalError, .unknown, .cancelled:
        break  // transient: back off and retry
      default:
        switch try recover(failure) {
        case .retryNow: continue
        case .refuse:
          throw RemoteServerError.refused(
            operation: operation, code: failure.code, message: failure.message)
        }
      }
      if failure.code == .unavailable, !connected.load(ordering: .relaxed) {
        let endpoint = self.endpoint
        if case .success(.misconfigured(let reason)) = blocking({
          await ConnectionProbe.diagnose(endpoint)
        }) {
          throw RemoteServerError.misconfigured(operation: operation, reason: reason)
        }
      }
      let elapsed = clock.now - start
      guard elapsed < retryFor else {
        throw RemoteServerError.gaveUp(
          operation: operation, after: elapsed, last: "\(failure.code): \(failure.message)")
      }
      onRetry?("\(operation): \(failure.code): \(failure.message); retrying in \(backoff)")
      let jitter = Double.random(in: 0.8...1.2)
      blockingSleep(backoff * jitter)
      backoff = min(backoff * 2, .seconds(5))
    }
  }

  /// Runs `body` to its end, blocking the calling thread (no retries).
  func run(_ body: @escaping @Sendable () async -> Void) {
    _ = blocking { await body() }
  }

  private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T)
    -> Result<T, any Error>
  {
    let box = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.detached {
      let result: Result<T, any Error>
      do { result = .success(try await body()) } catch { result = .failure(error) }
      box.withLock { $0 = result }
      done.signal()
    }
    done.wait()
    return box.withLock { $0! }
  }
}

/// Sleeps the calling thread for `duration`.
func blockingSleep(_ duration: Duration) {
  let (seconds, attoseconds) = duration.components
  var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
  var remaining = timespec()
  while nanosleep(&request, &remaining) != 0 { request = remaining }
}
