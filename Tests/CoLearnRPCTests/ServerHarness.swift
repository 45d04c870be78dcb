import CoLearnDSSGD
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Synchronization

/// A real parameter server (``ParameterServerHost``) on 127.0.0.1 (a port the kernel picks) over
/// a temporary state directory and token file with the identities alice, bob and carol, and
/// raw generated clients with any token. Stops by itself when `body` returns.
struct ServerHarness {
  static let model = ModelIdentity(
    architecture: "tiny", specificationHash: "0123456789abcdef", parameterCount: 10)

  let port: Int
  let tokens: [String: String]
  let federation: Federation
  let host: ParameterServerHost
  let directory: URL

  /// The token file.
  var tokenPath: String { directory.appendingPathComponent("tokens").path }

  static func run(
    order: ExchangeOrder = .roundRobin, participants: Int = 3, uploadFraction: Double = 0.5,
    maxRequestBytes: Int = 4 << 20, maxLeaseMilliseconds: UInt32 = 60_000,
    tls: (certificateChain: String, privateKey: String)? = nil,
    updateBounds: UpdateBounds = .none, medianNormFactor: Double? = nil, logger: Logger? = nil,
    modelFile: String = "", datasetSchema: String = "", minimumParticipants: Int = 1,
    rounds: UInt64? = nil,
    _ body: (ServerHarness) async throws -> Void
  ) async throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("colearn-rpc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var file = TokenFile()
    var tokens: [String: String] = [:]
    for name in ["alice", "bob", "carol", "dave"] { tokens[name] = try file.issue(for: name) }
    _ = file.revoke("dave")
    let tokenPath = directory.appendingPathComponent("tokens").path
    try file.write(to: tokenPath)
    let store = try DurableParameterServer(
      directory: directory.appendingPathComponent("state").path,
      initial: ParameterServerState(parameters: (0..<10).map(Float.init), statDecay: 0.5),
      uploadsPerRound: participants)
    let logger = logger ?? {
      var logger = Logger(label: "test")
      logger.logLevel = .critical
      return logger
    }()
    let federation = Federation(
      settings: FederationSettings(
        model: model, downloadFraction: 1, uploadFraction: uploadFraction, statDecay: 0.5,
        order: order, participants: participants, maxLeaseMilliseconds: maxLeaseMilliseconds,
        maxMessageBytes: maxRequestBytes, updateBounds: updateBounds,
        medianNormFactor: medianNormFactor, modelFile: modelFile, datasetSchema: datasetSchema,
        minimumParticipants: minimumParticipants, rounds: rounds),
      store: store, logger: logger)
    let host = ParameterServerHost(
      federation: federation, authenticator: try TokenAuthenticator(path: tokenPath),
      listen: ListenConfiguration(
        host: "127.0.0.1", port: 0, tls: tls,
        maxRequestBytes: maxRequestBytes + ListenConfiguration.requestEnvelopeBytes),
      logger: logger)
    let port = Mutex<Int?>(nil)
    let serving = Task { try await host.serve(handleSignals: false) { p in port.withLock { $0 = p } } }
    var waited = 0
    while port.withLock({ $0 }) == nil {
      try await Task.sleep(for: .milliseconds(10))
      waited += 1
      if waited > 1000 {
        serving.cancel()
        throw HarnessError.didNotStart
      }
    }
    let harness = ServerHarness(
      port: port.withLock { $0! }, tokens: tokens, federation: federation, host: host,
      directory: directory)
    do {
      try await body(harness)
    } catch {
      host.stop()
      _ = try? await serving.value
      throw error
    }
    host.stop()
    try await serving.value
  }

  enum HarnessError: Error { case didNotStart }

  /// Runs `body` with a client sending `token` (plaintext unless `tls` names a CA file).
  func withClient(
    token: String?, caCertificate: String? = nil,
    _ body: (Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>, Metadata) async throws -> Void
  ) async throws {
    let security: HTTP2ClientTransport.Posix.TransportSecurity =
      caCertificate.map { ca in
        .tls { $0.trustRoots = .certificates([.file(path: ca, format: .pem)]) }
      } ?? .plaintext
    let transport = try HTTP2ClientTransport.Posix(
      target: .ipv4(address: "127.0.0.1", port: port), transportSecurity: security)
    let metadata: Metadata = token.map { ["authorization": .string("Bearer \($0)")] } ?? [:]
    try await withGRPCClient(transport: transport) { grpc in
      try await body(Colearn_V1_ParameterServer.Client(wrapping: grpc), metadata)
    }
  }

  /// Joins `name` with its own token and returns the participant id.
  func join(
    _ client: Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>, _ metadata: Metadata,
    name: String
  ) async throws -> String {
    var request = Colearn_V1_JoinRequest()
    request.model = Self.model.proto
    request.participantName = name
    return try await client.join(request, metadata: metadata).participantID
  }

  /// The server's w_global and counters, read directly from the federation.
  var snapshot: ([Float], UInt64, UInt64) {
    let (parameters, sequence) = federation.store.readAll()
    return (parameters, sequence, UInt64(federation.store.state.updatedParameterCount))
  }
}

extension SparseVector {
  static func make(_ pairs: [(Int32, Float)]) -> SparseVector {
    SparseVector(indices: pairs.map(\.0), values: pairs.map(\.1))
  }
}

/// A log handler that keeps every event (message and metadata) for the test to read.
struct CapturingLogHandler: LogHandler {
  final class Store: Sendable {
    let events = Mutex<[(Logger.Level, String, Logger.Metadata)]>([])

    /// The events whose message is `message`.
    func events(_ message: String) -> [Logger.Metadata] {
      events.withLock { $0.filter { $0.1 == message }.map(\.2) }
    }
  }

  let store: Store
  var logLevel: Logger.Level = .trace
  var metadata: Logger.Metadata = [:]

  subscript(metadataKey key: String) -> Logger.Metadata.Value? {
    get { metadata[key] }
    set { metadata[key] = newValue }
  }

  func log(event: LogEvent) {
    store.events.withLock {
      $0.append((event.level, "\(event.message)", metadata.merging(event.metadata ?? [:]) { $1 }))
    }
  }

  /// A logger writing into a new store.
  static func logger() -> (Logger, Store) {
    let store = Store()
    return (Logger(label: "test") { _ in CapturingLogHandler(store: store) }, store)
  }
}
