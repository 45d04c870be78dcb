import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The server's counters in the Prometheus text exposition format (version 0.0.4) at
/// `GET /metrics` on a plain HTTP listener of its own (`serve --metrics-listen`), the endpoint
/// operators point Prometheus, Grafana Agent or an OpenTelemetry collector at. Names follow
/// Prometheus's conventions: a `colearn_` prefix, `_total` for counters, base units (seconds,
/// bytes), and the upload latency as a histogram.
///
/// It serves counters and aggregates only — no participant's name or figures, no token (the
/// per-participant rows are `colearn status`'s, behind a token) — and is meant for an internal
/// network or loopback: it has no TLS and no authentication of its own (as is usual for
/// `/metrics`; put it behind the network's access rules).
public final class MetricsEndpoint: Sendable {
  private let channel: any Channel

  /// Listens on `host:port` (port 0: any free port, see ``port``); `metrics` is read per request.
  public static func start(
    host: String, port: Int, metrics: @escaping @Sendable () -> FederationMetrics
  ) async throws -> MetricsEndpoint {
    let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.backlog, value: 64)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          try channel.pipeline.syncOperations.addHandler(MetricsHandler(metrics: metrics))
        }
      }
    let channel = try await bootstrap.bind(host: host, port: port).get()
    return MetricsEndpoint(channel: channel)
  }

  private init(channel: any Channel) { self.channel = channel }

  /// The bound port.
  public var port: Int { channel.localAddress?.port ?? 0 }

  public func stop() { channel.close(promise: nil) }

  /// `metrics` in the text exposition format.
  public static func exposition(_ metrics: FederationMetrics) -> String {
    var text = ""
    func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
      text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
    }
    metric("colearn_participants_joined", "gauge", "Participants currently joined.", "\(metrics.participantsJoined)")
    metric("colearn_rounds_completed_total", "counter", "Rounds completed (N uploads each).", "\(metrics.roundsCompleted)")
    metric("colearn_sequence_number", "gauge", "Sequence number of the last applied upload.", "\(metrics.sequence)")
    metric("colearn_parameters_updated", "gauge", "Parameters of w_global updated at least once.", "\(metrics.parametersUpdated)")
    metric("colearn_uploads_accepted_total", "counter", "Uploads accepted and applied.", "\(metrics.uploadsAccepted)")
    metric("colearn_uploads_duplicate_total", "counter", "Retried uploads answered without applying them again.", "\(metrics.duplicateUploads)")
    metric("colearn_uploads_refused_total", "counter", "Uploads refused (validation, bounds, turn).", "\(metrics.refusedUploads)")
    metric("colearn_authentications_refused_total", "counter", "Calls refused for a missing, unknown or revoked token.", "\(metrics.refusedAuthentications)")
    metric("colearn_tls_handshakes_failed_total", "counter", "Connections whose TLS handshake failed.", "\(metrics.failedHandshakes)")
    metric("colearn_upload_bytes_total", "counter", "Bytes of accepted uploads (encoded sparse vectors).", "\(metrics.uploadBytes)")
    metric("colearn_downloads_total", "counter", "Downloads served.", "\(metrics.downloads)")
    metric("colearn_download_bytes_total", "counter", "Bytes of downloads served (encoded sparse vectors).", "\(metrics.downloadBytes)")
    let name = "colearn_upload_latency_seconds"
    text += "# HELP \(name) Upload latency, request received to durable acknowledgement.\n"
    text += "# TYPE \(name) histogram\n"
    for (bound, count) in zip(FederationMetrics.latencyBucketBounds, metrics.uploadLatencyBuckets) {
      text += "\(name)_bucket{le=\"\(bound)\"} \(count)\n"
    }
    text += "\(name)_bucket{le=\"+Inf\"} \(metrics.uploadLatencyCount)\n"
    text += "\(name)_sum \(metrics.uploadLatencySecondsSum)\n"
    text += "\(name)_count \(metrics.uploadLatencyCount)\n"
    if let evaluation = metrics.lastGlobalEvaluation {
      metric("colearn_global_accuracy", "gauge", "Accuracy of w_global on the server's held-out data (serve --eval-data), latest evaluation.", "\(evaluation.accuracy)")
      metric("colearn_global_loss", "gauge", "Mean loss of w_global on the server's held-out data, latest evaluation.", "\(evaluation.loss)")
      metric("colearn_global_evaluation_round", "gauge", "Rounds completed at the latest evaluation of w_global.", "\(evaluation.round)")
    }
    if let reported = metrics.reportedAccuracy {
      metric("colearn_reported_accuracy_mean", "gauge", "Mean of the participants' latest self-reported local test accuracies.", "\(reported.mean)")
      metric("colearn_reported_accuracy_min", "gauge", "Lowest of the participants' latest self-reported local test accuracies.", "\(reported.min)")
      metric("colearn_reported_accuracy_max", "gauge", "Highest of the participants' latest self-reported local test accuracies.", "\(reported.max)")
      metric("colearn_reports", "gauge", "Participants that have reported an accuracy since the server started.", "\(reported.reports)")
    }
    return text
  }
}

/// Answers `GET /metrics` (and HEAD) with the exposition; anything else with 404 or 405.
private final class MetricsHandler: ChannelInboundHandler, @unchecked Sendable {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  private let metrics: @Sendable () -> FederationMetrics
  private var request: HTTPRequestHead?

  init(metrics: @escaping @Sendable () -> FederationMetrics) { self.metrics = metrics }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head): request = head
    case .body: break
    case .end:
      guard let head = request else { return }
      request = nil
      let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
      let (status, body): (HTTPResponseStatus, String)
      if path != "/metrics" {
        (status, body) = (.notFound, "colearn serves its metrics at /metrics\n")
      } else if head.method != .GET && head.method != .HEAD {
        (status, body) = (.methodNotAllowed, "GET /metrics\n")
      } else {
        (status, body) = (.ok, MetricsEndpoint.exposition(metrics()))
      }
      var headers = HTTPHeaders()
      headers.add(
        name: "Content-Type",
        value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
      headers.add(name: "Content-Length", value: "\(body.utf8.count)")
      headers.add(name: "Connection", value: head.isKeepAlive ? "keep-alive" : "close")
      context.write(
        wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))),
        promise: nil)
      if head.method != .HEAD {
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
      }
      let keepAlive = head.isKeepAlive
      context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
        if !keepAlive { context.close(promise: nil) }
      }
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    context.close(promise: nil)
  }
}
