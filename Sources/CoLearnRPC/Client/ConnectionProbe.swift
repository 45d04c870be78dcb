import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import X509

/// Why a participant cannot talk to its server, in words: gRPC reports every TLS failure as
/// "closed the connection before completing the HTTP/2 connection preface", after which a
/// participant would retry for minutes. When a call fails as unavailable, ``diagnose(_:)``
/// makes one TLS handshake of its own with the same settings and, if that fails, a second one
/// that trusts anything, to read the server's certificate and tell apart:
///
/// - the certificate does not name the host dialled (and which names it has);
/// - the certificate is not signed by the trusted CA (and who signed it), or has expired;
/// - the server speaks plaintext (`serve --insecure`) and the participant TLS, or the reverse.
///
/// Each of these is a setting to change, not a transient failure: the caller stops retrying.
/// A server that cannot be reached at all is left to the caller's retries.
public enum ConnectionProbe {
  /// What the probe found.
  public enum Finding: Sendable, Equatable {
    /// The handshake the call would make succeeds (or plaintext meets plaintext): the failure
    /// lies elsewhere.
    case fine
    /// No connection at all (refused, timed out): perhaps the server is not up yet.
    case unreachable(String)
    /// A setting is wrong; the message says which and what to do.
    case misconfigured(String)
  }

  /// Probes `endpoint` (at most a few seconds).
  public static func diagnose(_ endpoint: RPCEndpoint, timeout: TimeAmount = .seconds(5)) async -> Finding {
    let dialled = endpoint.tls?.serverName ?? endpoint.host
    guard let tls = endpoint.tls else {
      // Plaintext participant: does the server answer a TLS handshake?
      switch await handshake(endpoint, trusting: nil, verify: false, timeout: timeout) {
      case .success:
        return .misconfigured(
          "the server at \(endpoint.host):\(endpoint.port) speaks TLS, but this participant "
            + "connected without it (--insecure): drop --insecure and give --tls-ca with the "
            + "federation's CA certificate (ca.pem in your kit)")
      case .failure(.connect(let reason)): return .unreachable(reason)
      case .failure: return .fine
      }
    }
    let verified = await handshake(endpoint, trusting: tls.caCertificate, verify: true, timeout: timeout)
    let failure: ProbeFailure
    switch verified {
    case .success: return .fine
    case .failure(.connect(let reason)): return .unreachable(reason)
    case .failure(let other): failure = other
    }
    // Read the certificate with trust switched off, to say what is wrong with it.
    let certificate: Certificate
    switch await handshake(endpoint, trusting: nil, verify: false, timeout: timeout) {
    case .success(let presented?): certificate = presented
    case .success(nil):
      return .misconfigured("the TLS handshake with \(endpoint.host):\(endpoint.port) failed: \(failure)")
    case .failure(.connect(let reason)): return .unreachable(reason)
    case .failure:
      return .misconfigured(
        "the server at \(endpoint.host):\(endpoint.port) does not speak TLS (it answered in "
          + "plaintext: it runs with --insecure); ask the operator to serve TLS with "
          + "--tls-cert/--tls-key, or connect with --insecure only on a loopback or test network")
    }
    let names = alternativeNames(of: certificate)
    if case .hostname = failure {
      let listed = names.isEmpty ? "no subjectAltName at all" : names.joined(separator: ", ")
      return .misconfigured(
        "the server's certificate does not name the host you dialled (\(dialled)); it names: "
          + "\(listed). Dial one of those in --server (or give it as --server-name), or ask the "
          + "operator for a certificate naming \(dialled) (`colearn provision --renew-server` "
          + "after adding it to server-names)")
    }
    if certificate.notValidAfter < Date() {
      return .misconfigured(
        "the server's certificate expired on \(certificate.notValidAfter); ask the operator to "
          + "renew it (`colearn provision --renew-server`)")
    }
    let trusted = tls.caCertificate.map { "the CA in --tls-ca \($0)" } ?? "the system's CAs (no --tls-ca given)"
    return .misconfigured(
      "the server's certificate (for \(names.first ?? "\(certificate.subject)"), issued by "
        + "\(certificate.issuer)) is not signed by \(trusted): use the federation's CA "
        + "certificate (ca.pem in your kit) as --tls-ca (\(failure))")
  }

  enum ProbeFailure: Error, CustomStringConvertible {
    case connect(String)
    case hostname
    case handshake(String)

    var description: String {
      switch self {
      case .connect(let reason), .handshake(let reason): return reason
      case .hostname: return "hostname mismatch"
      }
    }
  }

  /// One TLS handshake; the server's certificate when it completes.
  static func handshake(
    _ endpoint: RPCEndpoint, trusting caFile: String?, verify: Bool, timeout: TimeAmount
  ) async -> Result<Certificate?, ProbeFailure> {
    var configuration = TLSConfiguration.makeClientConfiguration()
    configuration.applicationProtocols = ["grpc-exp", "h2"]
    if verify {
      if let caFile { configuration.trustRoots = .file(caFile) }
    } else {
      configuration.certificateVerification = .none
    }
    let context: NIOSSLContext
    do {
      context = try NIOSSLContext(configuration: configuration)
    } catch {
      return .failure(.handshake("cannot load \(caFile ?? "the trust roots"): \(error)"))
    }
    let name = endpoint.tls?.serverName ?? endpoint.host
    let sni = CertificateAuthority.addressBytes(name) == nil ? name : nil
    let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Certificate?.self)
    let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .connectTimeout(timeout)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.addHandler(
            NIOSSLClientHandler(context: context, serverHostname: sni))
          try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: promise))
        }
      }
    let channel: any Channel
    do {
      channel = try await bootstrap.connect(host: endpoint.host, port: endpoint.port).get()
    } catch {
      promise.fail(error)
      return .failure(.connect("cannot connect to \(endpoint.host):\(endpoint.port): \(error)"))
    }
    let deadline = channel.eventLoop.scheduleTask(in: timeout) {
      promise.fail(ProbeFailure.handshake("no TLS answer within \(timeout.nanoseconds / 1_000_000_000) s"))
    }
    defer {
      deadline.cancel()
      channel.close(promise: nil)
    }
    do {
      return .success(try await promise.futureResult.get())
    } catch let error as NIOSSLExtraError where error == .failedToValidateHostname {
      return .failure(.hostname)
    } catch let error as ProbeFailure {
      return .failure(error)
    } catch {
      return .failure(.handshake(TLSHandshakeWatcher.briefly(error)))
    }
  }

  /// The DNS names and IP addresses the certificate is for.
  static func alternativeNames(of certificate: Certificate) -> [String] {
    guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
    return names.compactMap { name in
      switch name {
      case .dnsName(let dns): return dns
      case .ipAddress(let bytes): return address(Array(bytes.bytes))
      default: return nil
      }
    }
  }

  static func address(_ bytes: [UInt8]) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family = bytes.count == 4 ? AF_INET : bytes.count == 16 ? AF_INET6 : -1
    guard family >= 0 else { return nil }
    return bytes.withUnsafeBytes { raw in
      inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) == nil
        ? nil : String(cString: buffer)
    }
  }
}

/// Completes `promise` with the server's certificate once the TLS handshake is done, or fails
/// it with the first error (or the connection's end).
private final class HandshakeWaiter: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = ByteBuffer
  let promise: EventLoopPromise<Certificate?>

  init(promise: EventLoopPromise<Certificate?>) { self.promise = promise }

  func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
    if let event = event as? TLSUserEvent, case .handshakeCompleted = event {
      let presented = try? context.pipeline.syncOperations.nioSSL_peerCertificate()
      let certificate = (try? presented?.toDERBytes()).flatMap { try? Certificate(derEncoded: $0) }
      promise.succeed(certificate)
    }
    context.fireUserInboundEventTriggered(event)
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    promise.fail(error)
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    promise.fail(ConnectionProbe.ProbeFailure.handshake("the server closed the connection during the handshake"))
    context.fireChannelInactive()
  }
}
