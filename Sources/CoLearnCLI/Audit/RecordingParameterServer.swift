import CoLearnDSSGD
import CoLearnTensor
import Synchronization

/// The honest-but-curious server of `colearn audit`: one in-process parameter server that
/// records, for every upload, its sender, its round, the w_global the sender last downloaded
/// from and the upload itself (SPEC §6 semantics unchanged: it forwards every call).
///
/// One instance per participant (``client(for:)``) shares the server and the log, so a
/// ``DSSGDSimulation`` drives it as it drives a remote server; like a remote server it decays
/// `stat` by itself after every N uploads.
///
/// Threading: safe from several threads (the `async` protocol); the log is behind a mutex.
final class RecordingParameterServer: Sendable {
  /// One recorded upload.
  struct Upload: Sendable {
    var participant: Int
    var round: Int
    /// w_global as of the sender's download.
    var downloadedGlobal: [Float]
    var update: SparseVector
  }

  private struct Log {
    var uploads: [Upload] = []
    var lastDownload: [Int: [Float]] = [:]
    var uploadCount = 0
  }

  let server: InProcessParameterServer
  let participants: Int
  private let log = Mutex(Log())

  init(initialParameters: [Float], statDecay: Float, participants: Int) {
    server = InProcessParameterServer(
      state: ParameterServerState(parameters: initialParameters, statDecay: statDecay))
    self.participants = participants
  }

  /// Every upload so far, in the order the server accepted them.
  var uploads: [Upload] { log.withLock { $0.uploads } }

  /// w_global now.
  var global: [Float] { server.state.parameters }

  /// The client participant `id` talks to.
  func client(for id: Int) -> any ParameterServerClient { Client(id: id, owner: self) }

  fileprivate func recordDownload(by id: Int) {
    let snapshot = server.state.parameters
    log.withLock { $0.lastDownload[id] = snapshot }
  }

  fileprivate func upload(_ update: SparseVector, by id: Int) throws -> UInt64 {
    let sequence = try server.upload(update)
    let decay = log.withLock { log -> Bool in
      log.uploadCount += 1
      log.uploads.append(
        Upload(
          participant: id, round: (log.uploadCount - 1) / participants + 1,
          downloadedGlobal: log.lastDownload[id] ?? [], update: update))
      return log.uploadCount % participants == 0
    }
    if decay { server.decayStatistics() }
    return sequence
  }

  private final class Client: ParameterServerClient {
    let id: Int
    let owner: RecordingParameterServer
    var dimension: Int { owner.server.dimension }

    init(id: Int, owner: RecordingParameterServer) {
      self.id = id
      self.owner = owner
    }

    func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>) throws
      -> TransferSize
    {
      owner.recordDownload(by: id)
      return try owner.server.download(fraction: fraction, into: parameters)
    }

    func upload(_ update: SparseVector) throws -> UInt64 { try owner.upload(update, by: id) }
    func beginTurn() throws {}
    func endTurn() throws {}
  }
}
