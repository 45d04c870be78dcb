import CoLearnTensor
import CoLearnWire
import Synchronization

/// What a participant needs from the parameter server (SPEC §6): download θ_d of w_global,
/// upload a sparse change, and, for `random-order`, hold the server from its download to its
/// upload. The participant code (``DSSGDTurnRunner``) talks only to this interface, so the same
/// turn runs against the in-process server of the simulation (``InProcessParameterServer``) or a
/// remote server over the network.
///
/// Calls block the calling thread until the server answered. A network client is expected to be
/// driven from a thread of its own (a participant process trains on one anyway), not from a
/// Swift concurrency executor.
public protocol ParameterServerClient: AnyObject, Sendable {
  /// |w|.
  var dimension: Int { get }

  /// Writes θ_d of w_global over `parameters`: all of it for θ_d = 1, else the values at the
  /// ⌈θ_d·|w|⌉ positions with the largest stat (ties to the lower index); other positions keep
  /// their local value.
  ///
  /// - Returns: how many values arrived and their size on the wire (SPEC §10).
  func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>) throws
    -> TransferSize

  /// Adds `update` to w_global (never overwrites), all of it or, if it is malformed, none.
  ///
  /// - Returns: the server's sequence number for this upload (1 for the first ever accepted).
  func upload(_ update: SparseVector) throws -> UInt64

  /// Takes the server for one participant's download → train → upload (`random-order`); other
  /// participants' turns wait until ``endTurn()``.
  func beginTurn() throws
  /// Gives the server back after ``beginTurn()``.
  func endTurn() throws
}

/// The size of one download or upload.
public struct TransferSize: Sendable, Hashable {
  /// (index, value) pairs.
  public var parameters: Int
  /// Bytes as encoded on the wire (SPEC §10).
  public var bytes: Int

  public init(parameters: Int, bytes: Int) {
    self.parameters = parameters
    self.bytes = bytes
  }
}

/// The parameter server living in the same process as its participants: a
/// ``ParameterServerState`` behind a lock, safe to call from several threads (`async`).
///
/// ``beginTurn()`` / ``endTurn()`` do nothing: the simulation's sequential protocols run one turn
/// at a time on one thread, which is exactly what the lock of `random-order` guarantees.
public final class InProcessParameterServer: ParameterServerClient {
  private struct Locked {
    var state: ParameterServerState
    var selector = MagnitudeSelector()
    var sequence: UInt64 = 0
  }

  private let locked: Mutex<Locked>

  /// |w|.
  public let dimension: Int

  /// A server holding `state`.
  public init(state: ParameterServerState) {
    dimension = state.dimension
    locked = Mutex(Locked(state: state))
  }

  /// A copy of the server's state.
  public var state: ParameterServerState { locked.withLock { $0.state } }

  /// The number of uploads accepted so far (the last sequence number handed out).
  public var sequence: UInt64 { locked.withLock { $0.sequence } }

  /// Replaces the state (a simulation resumed from a checkpoint); the sequence continues from
  /// the restored upload count.
  func restore(_ state: ParameterServerState) {
    locked.withLock {
      $0.state = state
      $0.sequence = UInt64(state.uploadCount)
    }
  }

  /// stat := β·stat (the simulation calls this once per round).
  public func decayStatistics() {
    locked.withLock { $0.state.decayStatistics() }
  }

  public func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>)
    throws -> TransferSize
  {
    precondition(parameters.count == dimension, "|w| is \(dimension), got \(parameters.count)")
    if fraction >= 1 {
      // θ_d = 1: copied straight over, without building a sparse vector of every index.
      locked.withLock { $0.state.copyParameters(into: parameters) }
      return TransferSize(
        parameters: dimension, bytes: SparseCodec.denseEncodedByteCount(count: dimension))
    }
    let download = locked.withLock { $0.state.download(fraction: fraction, using: &$0.selector) }
    for (index, value) in zip(download.indices, download.values) {
      parameters[Int(index)] = value
    }
    return TransferSize(parameters: download.count, bytes: SparseCodec.encodedByteCount(download))
  }

  /// - Throws: ``SparseVectorProblem`` if `update` is malformed (nothing is applied then).
  public func upload(_ update: SparseVector) throws -> UInt64 {
    try locked.withLock { locked throws(SparseVectorProblem) -> UInt64 in
      try locked.state.apply(update)
      locked.sequence += 1
      return locked.sequence
    }
  }

  public func beginTurn() throws {}
  public func endTurn() throws {}
}
