import CoLearnTensor
import CoLearnWire
import Dispatch
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A parameter server whose state survives a crash (SPEC §10): every accepted upload and every
/// stat decay is appended to a write-ahead log, and an upload is acknowledged only once the log
/// holding it has been fsync'ed; ``snapshot()`` writes the whole state atomically and empties
/// the log. Opening a state directory recovers snapshot + log; a record torn by a crash in the
/// middle of a write (it was never acknowledged) is dropped.
///
/// Two ways to upload:
/// - ``upload(_:origin:)`` writes, applies and fsyncs before returning (one fsync per upload: the
///   simulation and tests);
/// - ``stage(_:origin:)`` writes and applies, then ``waitUntilDurable(_:)`` suspends until a
///   flusher has fsync'ed the log past the upload: **group commit**, one fsync for every upload
///   staged while the previous fsync ran (the gRPC server).
///
/// An upload staged but not yet durable is already visible to downloads. If the process dies
/// before the fsync, it was never acknowledged: its participant retries it with the same round
/// and the recovered server applies it then.
///
/// Per participant identity the server keeps the last applied round and its receipt, so a retry
/// of an applied round is answered from the record instead of being applied again, also after
/// a restart.
///
/// When `uploadsPerRound` is N, the server itself decays `stat` after every N applied uploads (a
/// deployed federation's round); the simulation instead calls ``decayStatistics()``.
///
/// Files in the state directory (all integers little-endian):
/// - `snapshot.bin`: "CLSNAP02", |w| (u64), β (f32), uploads, updated parameters, sequence,
///   events, rounds completed, uploads in the current round (u64 each), participant count (u32),
///   per participant: name (u16 length + UTF-8), last round, last sequence, last applied
///   entries, uploads, parameters uploaded (u64 each); then w_global and stat (f32 × |w| each),
///   and a CRC-32 of all before it (u32).
/// - `uploads.wal`: the records after the snapshot (the format is in WriteAheadLog.swift: a
///   header naming the snapshot it continues, then checksummed, numbered records).
/// - `federation.settings`: the settings the federation was created with (``StateSettings``),
///   when the caller passes them.
/// - `lock`: flock'ed by the server that has the directory open, holding its pid.
///
/// **Opening** takes the lock (a second server is refused with the holder's pid), then refuses
/// a directory that is neither empty nor a complete state (``StateProblem``): a missing
/// snapshot or log, a log that continues another snapshot, a missing settings file. Temporary
/// files of an interrupted atomic write are removed (their rename never happened). A torn tail
/// of the log (a record cut short by a crash: never acknowledged) is dropped; any other damage
/// is refused (``DurabilityError/damagedLog(_:)``) unless ``StateOpenOptions/repair`` is set,
/// which keeps every intact record, moves the damaged log aside and reports what was lost.
/// Everything opening did besides replaying is in ``recovery``.
///
/// Every record carries its event number, and the snapshot the number of events it contains, so
/// a crash between writing a snapshot and emptying the log never applies a record twice.
///
/// Threading: all methods may be called from any thread; state changes serialise on one lock,
/// and the fsyncs of group commit run on a serial dispatch queue of their own.
public final class DurableParameterServer: ParameterServerClient {
  struct Locked {
    var state: ParameterServerState
    var selector = MagnitudeSelector()
    var sequence: UInt64
    var events: UInt64
    var roundsCompleted: UInt64
    var uploadsInRound: UInt64
    var participants: [String: ParticipantRecord]
    var logBytes: Int
  }

  /// Group commit: what has been written and what is durable, and who waits for what.
  private struct SyncState {
    var written: UInt64
    var synced: UInt64
    var flushing = false
    var failure: DurabilityError?
    var waiters: [(event: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
  }

  static let snapshotMagic = Array("CLSNAP02".utf8)

  /// The state directory.
  public let directory: String
  /// |w|.
  public let dimension: Int
  /// N: the server decays `stat` after every N uploads; nil when the caller decays.
  public let uploadsPerRound: Int?
  /// What opening the directory did besides replaying it (log it).
  public let recovery: RecoveryReport
  private let log: Int32
  private let lock: Int32
  private let locked: Mutex<Locked>
  private let syncState: Mutex<SyncState>
  private let flushQueue = DispatchQueue(label: "colearn.wal.flush")

  private var snapshotPath: String { directory + "/snapshot.bin" }
  private var logPath: String { directory + "/uploads.wal" }

  /// Opens (and recovers) the state in `directory`, or starts it from `initial` when the
  /// directory is empty or new.
  ///
  /// - Throws: ``DurabilityError`` for I/O failures, foreign or damaged files, an incomplete
  ///   state, another server holding the directory, other settings, or state of a model with
  ///   another |w|.
  public init(
    directory: String, initial: ParameterServerState, uploadsPerRound: Int? = nil,
    options: StateOpenOptions = StateOpenOptions()
  ) throws(DurabilityError) {
    precondition(uploadsPerRound.map { $0 > 0 } ?? true, "uploads per round must be positive")
    self.directory = directory
    self.uploadsPerRound = uploadsPerRound
    dimension = initial.dimension
    if mkdir(directory, 0o700) < 0, errno != EEXIST {
      throw .io(path: directory, operation: "create the state directory", errno: errno)
    }
    let lock = try StateDirectory.lock(directory)
    let opened: Opened
    do throws(DurabilityError) {
      opened = try Self.recover(directory: directory, initial: initial, options: options)
    } catch {
      close(lock)
      throw error
    }
    self.lock = lock
    log = opened.log
    recovery = opened.report
    syncState = Mutex(SyncState(written: opened.locked.events, synced: opened.locked.events))
    locked = Mutex(opened.locked)
  }

  deinit {
    close(log)
    close(lock)  // releases the directory's lock
  }

  /// A copy of the server's state.
  public var state: ParameterServerState { locked.withLock { $0.state } }

  /// The sequence number of the last applied upload.
  public var sequence: UInt64 { locked.withLock { $0.sequence } }

  /// Rounds completed (stat decays applied).
  public var roundsCompleted: UInt64 { locked.withLock { $0.roundsCompleted } }

  /// What the server remembers of each participant identity.
  public var participants: [String: ParticipantRecord] { locked.withLock { $0.participants } }

  /// The size of the write-ahead log in bytes (the caller snapshots when it grows large).
  public var logBytes: Int { locked.withLock { $0.logBytes } }

  public func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>)
    throws -> TransferSize
  {
    precondition(parameters.count == dimension, "|w| is \(dimension), got \(parameters.count)")
    if fraction >= 1 {
      locked.withLock { $0.state.copyParameters(into: parameters) }
      return TransferSize(
        parameters: dimension, bytes: SparseCodec.denseEncodedByteCount(count: dimension))
    }
    let (download, _) = self.download(fraction: fraction)
    for (index, value) in zip(download.indices, download.values) {
      parameters[Int(index)] = value
    }
    return TransferSize(parameters: download.count, bytes: SparseCodec.encodedByteCount(download))
  }

  /// w_global at the ⌈θ_d·|w|⌉ positions with the largest stat (every position for 1), and the
  /// sequence number of the state it was read from.
  public func download(fraction: Double) -> (SparseVector, UInt64) {
    locked.withLock { ($0.state.download(fraction: fraction, using: &$0.selector), $0.sequence) }
  }

  /// w_global at `indices` (strictly increasing, each < |w|: the caller validates), and the
  /// sequence number of the state it was read from.
  public func read(indices: [Int32]) -> (SparseVector, UInt64) {
    locked.withLock { locked in
      let values = locked.state.parameters.withUnsafeBufferPointer { w in
        indices.map { w[Int($0)] }
      }
      return (SparseVector(indices: indices, values: values), locked.sequence)
    }
  }

  /// w_global, whole, with its sequence number.
  public func readAll() -> ([Float], UInt64) {
    locked.withLock { ($0.state.parameters, $0.sequence) }
  }

  public func upload(_ update: SparseVector) throws -> UInt64 {
    try upload(update, origin: nil).sequence
  }

  /// Validates `update`, makes it durable, applies it, and returns its receipt. Nothing changes
  /// (in memory or on disk) when it is refused.
  ///
  /// - Throws: ``SparseVectorProblem`` for a malformed update, ``UploadRefusal`` for a stale
  ///   round, ``DurabilityError`` when the log cannot be written.
  public func upload(_ update: SparseVector, origin: UploadOrigin?) throws -> UploadReceipt {
    let receipt = try stage(update, origin: origin)
    try syncNow(through: receipt.event)
    return receipt
  }

  /// Validates `update`, writes it to the log (without fsync) and applies it; or, for a retry of
  /// the participant's last round, returns that upload's receipt with `duplicate` set. The
  /// caller acknowledges only after ``waitUntilDurable(_:)`` for the receipt's event.
  ///
  /// - Throws: ``SparseVectorProblem``, ``UploadRefusal``, ``ParameterOverflow`` (the update
  ///   would make a parameter infinite) or ``DurabilityError``; then nothing changed.
  ///
  /// - Parameter encoded: `update` as SPEC §10 bytes when the caller has them (a server decoded
  ///   it from them), to spare encoding it again for the log.
  public func stage(_ update: SparseVector, encoded: [UInt8]? = nil, origin: UploadOrigin?) throws
    -> UploadReceipt
  {
    if let problem = update.validate(dimension: dimension) { throw problem }
    if let failure = syncState.withLock({ $0.failure }) { throw failure }
    let name = origin?.participant ?? ""
    if origin != nil, name.isEmpty || name.utf8.count > 255 {
      throw UploadRefusal.badParticipantName(name)
    }
    let encoded = encoded ?? SparseCodec.encode(update)
    let receipt = try locked.withLock { locked throws -> UploadReceipt in
      if let origin, let round = origin.round, let record = locked.participants[name],
        record.lastRound > 0
      {
        if round == record.lastRound {
          return UploadReceipt(
            sequence: record.lastSequence, appliedEntries: Int(record.lastAppliedEntries),
            duplicate: true, event: record.lastEvent)
        }
        if round < record.lastRound {
          throw UploadRefusal.staleRound(
            participant: name, round: round, lastApplied: record.lastRound)
        }
      }
      // Checked under the lock, against the parameters it would be added to.
      if let overflow = locked.state.overflow(of: update) { throw overflow }
      let sequence = locked.sequence + 1
      let event = locked.events + 1
      locked.logBytes += try Self.append(
        .upload(
          event: event, sequence: sequence, round: origin?.round ?? 0, name: name,
          update: encoded),
        to: log, path: logPath, length: locked.logBytes)
      Self.apply(
        update, sequence: sequence, round: origin?.round ?? 0, name: name, event: event,
        to: &locked)
      var last = event
      if let perRound = uploadsPerRound, locked.uploadsInRound >= UInt64(perRound) {
        do throws(DurabilityError) {
          last = try appendDecay(&locked)
        } catch {
          // The upload is applied and logged but the round's decay is not: stop accepting
          // anything (a restart recovers a consistent state from the log).
          syncState.withLock { $0.failure = error }
          throw error
        }
      }
      syncState.withLock { $0.written = max($0.written, last) }
      return UploadReceipt(
        sequence: sequence, appliedEntries: update.count, duplicate: false, event: event)
    }
    return receipt
  }

  /// stat := β·stat, made durable first (the simulation's end of a round).
  public func decayStatistics() throws(DurabilityError) {
    let event = try locked.withLock { (locked) throws(DurabilityError) -> UInt64 in
      let event = try appendDecay(&locked)
      syncState.withLock { $0.written = max($0.written, event) }
      return event
    }
    try syncNow(through: event)
  }

  /// Suspends until the log is durable through `event` (group commit: one fsync covers every
  /// record written before it started).
  ///
  /// - Throws: ``DurabilityError`` if an fsync failed; the server then refuses all further
  ///   uploads (fail-stop: restart it to recover from disk).
  public func waitUntilDurable(_ event: UInt64) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
      enum Action { case resume, fail(DurabilityError), startFlusher, wait }
      let action = syncState.withLock { sync -> Action in
        if let failure = sync.failure { return .fail(failure) }
        if event <= sync.synced { return .resume }
        sync.waiters.append((event, continuation))
        if sync.flushing { return .wait }
        sync.flushing = true
        return .startFlusher
      }
      switch action {
      case .resume: continuation.resume()
      case .fail(let failure): continuation.resume(throwing: failure)
      case .wait: break
      case .startFlusher: flushQueue.async { self.flushUntilIdle() }
      }
    }
  }

  /// The flusher: fsync what has been written, resume who waited for it, repeat while anyone
  /// waits.
  private func flushUntilIdle() {
    while true {
      let target: UInt64? = syncState.withLock { sync in
        if sync.waiters.isEmpty || sync.written <= sync.synced {
          // Nothing more to make durable (a snapshot may have covered it).
          return nil
        }
        return sync.written
      }
      guard let target else {
        let ready = syncState.withLock { sync -> [CheckedContinuation<Void, any Error>] in
          let ready = sync.waiters.filter { $0.event <= sync.synced }.map(\.continuation)
          sync.waiters.removeAll { $0.event <= sync.synced }
          if sync.waiters.isEmpty { sync.flushing = false }
          return ready
        }
        for continuation in ready { continuation.resume() }
        if syncState.withLock({ !$0.flushing }) { return }
        continue
      }
      let failed = fdatasync(log) < 0 ? errno : 0
      let (ready, failure) = syncState.withLock {
        sync -> ([CheckedContinuation<Void, any Error>], DurabilityError?) in
        if failed != 0 {
          let failure = DurabilityError.io(path: logPath, operation: "fsync", errno: failed)
          sync.failure = failure
          let all = sync.waiters.map(\.continuation)
          sync.waiters.removeAll()
          sync.flushing = false
          return (all, failure)
        }
        sync.synced = max(sync.synced, target)
        let ready = sync.waiters.filter { $0.event <= sync.synced }.map(\.continuation)
        sync.waiters.removeAll { $0.event <= sync.synced }
        if sync.waiters.isEmpty { sync.flushing = false }
        return (ready, nil)
      }
      for continuation in ready {
        if let failure { continuation.resume(throwing: failure) } else { continuation.resume() }
      }
      if failure != nil || syncState.withLock({ !$0.flushing }) { return }
    }
  }

  /// fsync now, from the calling thread, unless the log is durable through `event` already.
  private func syncNow(through event: UInt64) throws(DurabilityError) {
    if let failure = syncState.withLock({ $0.failure }) { throw failure }
    if syncState.withLock({ event <= $0.synced }) { return }
    let target = syncState.withLock { $0.written }
    if fdatasync(log) < 0 {
      let failure = DurabilityError.io(path: logPath, operation: "fsync", errno: errno)
      syncState.withLock { $0.failure = failure }
      throw failure
    }
    syncState.withLock { $0.synced = max($0.synced, target) }
  }

  /// Writes the whole state atomically and empties the log.
  public func snapshot() throws(DurabilityError) {
    try locked.withLock { (locked) throws(DurabilityError) in
      try writeSnapshot(locked)
      // Empty the log, then name the snapshot it continues. A crash in between leaves the old
      // header without records, which the snapshot covers (opening starts the log afresh).
      try DurableFile.check(
        ftruncate(log, off_t(WriteAheadLog.headerLength)), "truncate", logPath)
      let header = WriteAheadLog.header(
        base: WriteAheadLog.Position(event: locked.events, sequence: locked.sequence))
      let written = header.withUnsafeBytes { pwrite(log, $0.baseAddress!, $0.count, 0) }
      guard written == header.count else {
        throw .io(path: logPath, operation: "write", errno: written < 0 ? errno : EIO)
      }
      try DurableFile.check(lseek(log, 0, SEEK_END), "seek", logPath)
      try DurableFile.check(fsync(log), "fsync", logPath)
      locked.logBytes = WriteAheadLog.headerLength
      // Everything applied so far is in the durable snapshot now.
      let events = locked.events
      syncState.withLock { $0.synced = max($0.synced, events) }
    }
  }

  /// Writes the snapshot but leaves the log as it is: what a crash right after the snapshot's
  /// rename leaves behind (for tests of recovery).
  public func snapshotWithoutEmptyingTheLogForTesting() throws(DurabilityError) {
    try locked.withLock { (locked) throws(DurabilityError) in try writeSnapshot(locked) }
  }

  public func beginTurn() throws {}
  public func endTurn() throws {}

  // MARK: - Applying

  static func apply(
    _ update: SparseVector, sequence: UInt64, round: UInt64, name: String, event: UInt64,
    to locked: inout Locked
  ) {
    // Validated by the caller (stage) or by decoding (replay).
    locked.state.apply(validated: update)
    locked.sequence = sequence
    locked.events = event
    locked.uploadsInRound += 1
    guard !name.isEmpty else { return }
    var record = locked.participants[name] ?? ParticipantRecord(name: name)
    if round > 0 {
      record.lastRound = round
      record.lastSequence = sequence
      record.lastAppliedEntries = UInt64(update.count)
      record.lastEvent = event
    }
    record.uploads += 1
    record.parametersUploaded += UInt64(update.count)
    locked.participants[name] = record
  }

  static func applyDecay(event: UInt64, to locked: inout Locked) {
    locked.state.decayStatistics()
    locked.events = event
    locked.roundsCompleted += 1
    locked.uploadsInRound = 0
  }

  private func appendDecay(_ locked: inout Locked) throws(DurabilityError) -> UInt64 {
    let event = locked.events + 1
    locked.logBytes += try Self.append(
      .decay(event: event), to: log, path: logPath, length: locked.logBytes)
    Self.applyDecay(event: event, to: &locked)
    return event
  }

  // MARK: - Writing

  private func writeSnapshot(_ locked: Locked) throws(DurabilityError) {
    try DurableFile.replace(
      snapshotPath, with: Self.encodeSnapshot(locked, dimension: dimension), directory: directory)
  }

  /// Appends one record (without fsync) and returns its size. A failed write is cut off again
  /// (back to `length`), so later records never follow a torn one.
  private static func append(
    _ record: WriteAheadLog.Record, to fd: Int32, path: String, length: Int
  ) throws(DurabilityError) -> Int {
    let bytes = WriteAheadLog.encode(record)
    do {
      try DurableFile.writeAll(fd, bytes, path: path)
    } catch {
      try DurableFile.check(ftruncate(fd, off_t(length)), "truncate", path)
      try DurableFile.check(lseek(fd, 0, SEEK_END), "seek", path)
      throw error
    }
    return bytes.count
  }
}
