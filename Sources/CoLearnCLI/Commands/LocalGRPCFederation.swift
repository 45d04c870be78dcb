import CoLearnDSSGD
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Dispatch
import Foundation
import Logging
import Synchronization

/// `simulate --transport grpc`: a real parameter server (the `colearn serve` stack: gRPC over
/// HTTP/2, token authentication, the durable state with its write-ahead log) on 127.0.0.1, and
/// one authenticated network client per simulated participant. Plaintext, since nothing leaves
/// the machine; its state directory and tokens live in a temporary directory removed at the end.
final class LocalGRPCFederation {
  let host: ParameterServerHost
  let clients: [RemoteParameterServerClient]
  let port: Int
  private let serving: Task<Void, any Error>
  private let directory: URL

  init(
    settings: FederationSettings, initialParameters: [Float]
  ) throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("colearn-simulate-grpc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var file = TokenFile()
    var tokens: [String] = []
    for index in 0..<settings.participants { tokens.append(try file.issue(for: "participant-\(index)")) }
    let tokenPath = directory.appendingPathComponent("tokens").path
    try file.write(to: tokenPath)
    let store = try DurableParameterServer(
      directory: directory.appendingPathComponent("state").path,
      initial: ParameterServerState(parameters: initialParameters, statDecay: settings.statDecay),
      uploadsPerRound: settings.participants)
    let logger = makeLogger("colearn.simulate.server", level: .warning)
    let federation = Federation(settings: settings, store: store, logger: logger)
    host = ParameterServerHost(
      federation: federation, authenticator: try TokenAuthenticator(path: tokenPath),
      listen: ListenConfiguration(host: "127.0.0.1", port: 0, tls: nil, maxRequestBytes: 64 << 20),
      logger: logger, metricsInterval: .seconds(3600))
    let bound = Mutex<Int?>(nil)
    let ready = DispatchSemaphore(value: 0)
    let host = self.host
    serving = Task.detached {
      defer { ready.signal() }
      try await host.serve(handleSignals: false) { port in
        bound.withLock { $0 = port }
        ready.signal()
      }
    }
    ready.wait()
    guard let port = bound.withLock({ $0 }) else {
      let failure = Mutex<String>("the server stopped")
      let done = DispatchSemaphore(value: 0)
      let serving = self.serving
      Task.detached {
        do { try await serving.value } catch { failure.withLock { $0 = "\(error)" } }
        done.signal()
      }
      done.wait()
      throw CLIError("cannot start the local gRPC server: \(failure.withLock { $0 })")
    }
    self.port = port
    clients = try tokens.enumerated().map { index, token in
      try RemoteParameterServerClient(
        RemoteServerConfiguration(
          host: "127.0.0.1", port: port, tls: nil, token: token,
          participantName: "participant-\(index)", model: settings.model, retryFor: .seconds(30)))
    }
  }

  /// The servers for ``DSSGDSimulation``.
  var remoteServers: RemoteServers {
    let reader = clients[0]
    return RemoteServers(clients: clients, readGlobal: { try reader.downloadAll() })
  }

  /// Stops the server and removes its files.
  func stop() {
    for client in clients { client.close() }
    host.stop()
    let done = DispatchSemaphore(value: 0)
    let serving = self.serving
    Task.detached {
      _ = try? await serving.value
      done.signal()
    }
    done.wait()
    try? FileManager.default.removeItem(at: directory)
  }
}
