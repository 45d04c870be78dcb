import ArgumentParser
import CoLearnNN
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

/// `colearn loadgen`: a load benchmark for `colearn serve`. Many participants in one process,
/// each with its own connection and token, download θ_d and upload random sparse updates of
/// ⌈θ_u·|w|⌉ entries as fast as the server answers (the `async` protocol: no turns), and the
/// achieved rates and latencies are reported.
struct LoadgenCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "loadgen",
    abstract: "Load-test a `colearn serve` server with many concurrent participants.",
    discussion: """
      Every client joins with the token in --tokens-dir/NAME.token (NAME = client-0, client-1, \
      …; issue them with `colearn token add client-0 … --write-to DIR`), then loops for \
      --seconds: Download (--download-fraction) and Upload (θ_u of the server). The server must \
      run the async protocol with at least --clients participants. Prints uploads/s, download \
      throughput and p50/p99 latencies, and writes them as JSON with --json.
      """)

  @Option(help: "The server, HOST:PORT.")
  var server: String

  @Option(name: .customLong("tokens-dir"), help: "Directory of client-I.token files.")
  var tokensDir: String

  @Option(help: "Concurrent participants.")
  var clients: Int = 150

  @Option(help: "Seconds of load after all clients joined.")
  var seconds: Double = 20

  @Option(help: "The server's model: a preset or a model file.", transform: ModelSpec.argument)
  var model: ModelSpec = .mnistMLP

  @Option(name: .customLong("download-fraction"), help: "θ_d of each download (0: no downloads).")
  var downloadFraction: Double = 1

  @Option(name: .customLong("tls-ca"), help: "CA certificate (PEM) to trust.")
  var tlsCA: String?

  @Flag(help: "Connect without TLS.")
  var insecure = false

  @Option(
    help: """
      Iterations per second over all clients (open loop: each client is due every \
      clients/rate seconds, latency counted from when it was due); 0: as fast as answered.
      """)
  var rate: Double = 0

  @Flag(inversion: .prefixedNo, help: "Upload in every iteration (--no-uploads: download throughput alone).")
  var uploads = true

  @Option(help: "Write the figures as JSON to this file.")
  var json: String?

  func validate() throws {
    _ = try HostPort(parsing: server, flag: "server")
    try requireAtLeast(1, clients, flag: "clients")
    if !(seconds > 0) { throw ValidationError("--seconds must be positive") }
    if !(0...1).contains(downloadFraction) {
      throw ValidationError("--download-fraction must be in [0, 1]")
    }
    if !insecure, tlsCA == nil { throw ValidationError("give --tls-ca FILE, or --insecure") }
    if !(rate >= 0) { throw ValidationError("--rate must be ≥ 0") }
    if !uploads, downloadFraction == 0 {
      throw ValidationError("--no-uploads with --download-fraction 0 leaves nothing to do")
    }
  }

  func run() async throws {
    let address = try HostPort(parsing: server, flag: "server")
    let network = model.makeNetwork()
    let dimension = network.parameterCount
    let identity = model.identity(parameterCount: dimension)
    var tokens: [String] = []
    for index in 0..<clients {
      let path = tokensDir + "/client-\(index).token"
      guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw CLIError("cannot read \(path); issue the tokens with `colearn token add client-0 … --write-to \(tokensDir)`")
      }
      tokens.append(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
    let (tlsCA, clients, downloadFraction, uploads, rate) = (
      self.tlsCA, self.clients, self.downloadFraction, self.uploads, self.rate
    )
    let recorder = LoadRecorder()
    let clock = ContinuousClock()
    let duration = Duration.milliseconds(Int64(seconds * 1000))
    print("loadgen: \(clients) clients → \(server) (\(insecure ? "plaintext" : "TLS")), \(model), "
      + "θ_d = \(downloadFraction), \(seconds) s, "
      + (rate > 0 ? "open loop at \(rate)/s" : "closed loop (as fast as answered)"))
    try await withThrowingTaskGroup(of: Void.self) { group in
      for (index, token) in tokens.enumerated() {
        group.addTask {
          let security: HTTP2ClientTransport.Posix.TransportSecurity =
            tlsCA.map { ca in .tls { $0.trustRoots = .certificates([.file(path: ca, format: .pem)]) } }
            ?? .plaintext
          let transport = try HTTP2ClientTransport.Posix(
            target: .ipv4(address: address.host, port: address.port), transportSecurity: security)
          var options = CallOptions.defaults
          options.maxResponseMessageBytes = 64 << 20
          try await withGRPCClient(transport: transport) { grpc in
            let client = Colearn_V1_ParameterServer.Client(wrapping: grpc)
            let metadata: Metadata = ["authorization": .string("Bearer \(token)")]
            var join = Colearn_V1_JoinRequest()
            join.model = identity.proto
            join.participantName = "client-\(index)"
            let joinedResponse = try await client.join(join, metadata: metadata)
            let id = joinedResponse.participantID
            let k = fractionCount(joinedResponse.configuration.uploadFraction, of: dimension)
            // A few random updates of k entries, made before the clock starts, so the load
            // generator measures the server rather than its own random numbers.
            var random = SeededGenerator(seed: UInt64(index) + 1)
            let updates = (0..<4).map { _ in
              var indices = Set<Int32>()
              while indices.count < k {
                indices.insert(Int32.random(in: 0..<Int32(dimension), using: &random))
              }
              let sorted = indices.sorted()
              return SparseVector(
                indices: sorted,
                values: sorted.map { _ in Float.random(in: -1e-3...1e-3, using: &random) }
              ).proto(dimension: dimension)
            }
            // Everyone starts together once all have joined.
            let start = try await recorder.joinedAndReady(clients: clients)
            var round = joinedResponse.lastAppliedRound
            // Open loop at --rate: this client's iterations are due every `interval`, staggered
            // across clients, and latency counts from when an iteration was due (so a server
            // that falls behind shows it, instead of hiding it by slowing the clients down).
            let interval: Duration? =
              rate > 0 ? .nanoseconds(Int64(Double(clients) / rate * 1e9)) : nil
            var due = start + (interval.map { $0 * (Double(index) / Double(clients)) } ?? .zero)
            while clock.now - start < duration {
              if let interval {
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
              } else {
                due = clock.now
              }
              defer { if let interval { due = due + interval } }
              if downloadFraction > 0 {
                var request = Colearn_V1_DownloadRequest()
                request.participantID = id
                request.fraction = downloadFraction
                let begin = clock.now
                let response = try await client.download(request, metadata: metadata, options: options)
                recorder.download(
                  milliseconds: (clock.now - begin).loadMilliseconds,
                  bytes: response.parameters.encoded.count)
              }
              guard uploads else { continue }
              round += 1
              var upload = Colearn_V1_UploadRequest()
              upload.participantID = id
              upload.round = round
              upload.update = updates[Int(round) % updates.count]
              let begin = interval == nil || downloadFraction > 0 ? clock.now : due
              _ = try await client.upload(upload, metadata: metadata)
              recorder.upload(
                milliseconds: (clock.now - begin).loadMilliseconds,
                bytes: upload.update.encoded.count)
            }
          }
        }
      }
      try await group.waitForAll()
    }
    let elapsed = (clock.now - (recorder.start ?? clock.now)).loadMilliseconds / 1000
    var report = recorder.report(seconds: elapsed, clients: clients, tls: !insecure)
    report.targetRate = rate > 0 ? rate : nil
    print(report.text)
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(report).write(to: URL(fileURLWithPath: json))
    }
  }
}

/// Latencies and sizes of a load test.
final class LoadRecorder: Sendable {
  private struct Samples {
    var uploads: [Double] = []
    var uploadBytes = 0
    var downloads: [Double] = []
    var downloadBytes = 0
  }

  private let samples = Mutex(Samples())
  private let joined = Atomic<Int>(0)
  private let startLine = Mutex<ContinuousClock.Instant?>(nil)

  /// Counts a joined client, waits until `clients` have joined, and returns the common start.
  func joinedAndReady(clients: Int) async throws -> ContinuousClock.Instant {
    joined.add(1, ordering: .relaxed)
    while joined.load(ordering: .relaxed) < clients { try await Task.sleep(for: .milliseconds(5)) }
    return startLine.withLock { start in
      if start == nil { start = ContinuousClock().now }
      return start!
    }
  }

  /// When the load started.
  var start: ContinuousClock.Instant? { startLine.withLock { $0 } }

  func upload(milliseconds: Double, bytes: Int) {
    samples.withLock {
      $0.uploads.append(milliseconds)
      $0.uploadBytes += bytes
    }
  }

  func download(milliseconds: Double, bytes: Int) {
    samples.withLock {
      $0.downloads.append(milliseconds)
      $0.downloadBytes += bytes
    }
  }

  struct Report: Encodable {
    var clients: Int
    var tls: Bool
    /// The open-loop rate asked for (nil: closed loop).
    var targetRate: Double?
    var seconds: Double
    var uploads: Int
    var uploadsPerSecond: Double
    var uploadMegabytesPerSecond: Double
    var uploadP50Milliseconds: Double
    var uploadP99Milliseconds: Double
    var downloads: Int
    var downloadMegabytesPerSecond: Double
    var downloadP50Milliseconds: Double
    var downloadP99Milliseconds: Double

    var text: String {
      """
      uploads:   \(uploads) in \(format(seconds, 1)) s = \(format(uploadsPerSecond, 0))/s \
      (\(format(uploadMegabytesPerSecond, 1)) MB/s), latency p50 \(format(uploadP50Milliseconds, 2)) ms, \
      p99 \(format(uploadP99Milliseconds, 2)) ms
      downloads: \(downloads) = \(format(Double(downloads) / max(seconds, 1e-9), 0))/s \
      (\(format(downloadMegabytesPerSecond, 1)) MB/s), latency p50 \(format(downloadP50Milliseconds, 2)) ms, \
      p99 \(format(downloadP99Milliseconds, 2)) ms
      """
    }
  }

  func report(seconds: Double, clients: Int, tls: Bool) -> Report {
    samples.withLock { samples in
      func percentile(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
      }
      let time = max(seconds, 1e-9)
      return Report(
        clients: clients, tls: tls, targetRate: nil, seconds: seconds, uploads: samples.uploads.count,
        uploadsPerSecond: Double(samples.uploads.count) / time,
        uploadMegabytesPerSecond: Double(samples.uploadBytes) / time / 1e6,
        uploadP50Milliseconds: percentile(samples.uploads, 0.5),
        uploadP99Milliseconds: percentile(samples.uploads, 0.99),
        downloads: samples.downloads.count,
        downloadMegabytesPerSecond: Double(samples.downloadBytes) / time / 1e6,
        downloadP50Milliseconds: percentile(samples.downloads, 0.5),
        downloadP99Milliseconds: percentile(samples.downloads, 0.99))
    }
  }
}

extension Duration {
  fileprivate var loadMilliseconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) * 1e3 + Double(attoseconds) * 1e-15
  }
}
