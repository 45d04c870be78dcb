import CoLearnDSSGD
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The durable state of a split-learning coordinator (`split serve --state-dir`): a snapshot of
/// the ``SplitCoordinatorState`` and a write-ahead log of every change since
/// (``SplitStateRecord``; the formats are in SplitStateFiles.swift), with the DSSGD server's
/// file helpers (atomic replacement with fsync, the directory's lock, the settings file).
///
/// ``SplitFederation`` appends a record for each change **before** it answers the call that made
/// it: a Step's record holds the whole back after the step (3.3 MB for the paper's network; an
/// append and fdatasync of that size took about 3.5 ms on the development VM, a snapshot per
/// step through a rename about 4.2 ms), so a replay restores it bit for bit whatever the BLAS
/// threads of the restarted process; Join, PublishUpdate (with the sealed update), Finish and a finished participant's
/// DownloadBack are fsync'ed records too; acknowledgements of fetched updates are written
/// without an fsync of their own (losing one only keeps relayed updates longer). Once the log
/// passes `compactionBytes` the whole state goes to `split-snapshot.bin` (atomically) and the
/// log starts afresh; so does a graceful stop.
///
/// **Opening** takes the directory's lock (a second coordinator is refused with the holder's
/// pid), refuses other settings naming each one, refuses a directory that is neither empty nor a
/// complete split state, removes temporary files of an interrupted atomic write, and replays
/// snapshot + log. A torn last record (a write cut short by a crash: never acknowledged) is
/// dropped and reported in ``recoveryLines``; any other damage is refused naming the file and
/// byte offset (``SplitStateError/corrupt(path:offset:reason:)``).
///
/// The store keeps its own copy of the state, to which it applies each record it appends (the
/// replay's code), so a snapshot is always exactly the state after the last logged event.
///
/// Threading: every method may be called from any thread; appends serialise on one lock. After
/// a failed write or fsync the store refuses every further append (fail-stop: a restart
/// recovers what is on disk).
public final class SplitCoordinatorStore: Sendable {
  private struct Inner {
    var state: SplitCoordinatorState
    var logBytes: Int
    var failure: SplitStateError?
  }

  /// The state directory.
  public let directory: String
  /// The state opening found (the initial one for a new federation).
  public let recovered: SplitCoordinatorState
  /// What opening did besides replaying, one line each (log them).
  public let recoveryLines: [String]
  /// The log size beyond which an append writes a snapshot and empties the log.
  public let compactionBytes: Int
  private let limits: SplitStateFiles.Limits
  private let log: Int32
  private let lock: Int32
  private let inner: Mutex<Inner>

  private var logPath: String { directory + "/" + SplitStateFiles.logName }
  private var snapshotPath: String { directory + "/" + SplitStateFiles.snapshotName }

  /// Opens (and recovers) the state in `directory`, or starts it from `initial` when the
  /// directory is empty or new.
  ///
  /// - Parameters:
  ///   - settings: what identifies the federation (model, cut, seed, learning rate, …), recorded
  ///     in `split.settings`; a restart with any other value is refused.
  ///   - maxSealedBytes: the largest sealed front update (bounds the log's records).
  /// - Throws: ``SplitStateError``.
  public init(
    directory: String, initial: SplitCoordinatorState, settings: [String: String],
    maxSealedBytes: Int, compactionBytes: Int = 64 << 20
  ) throws(SplitStateError) {
    self.directory = directory
    self.compactionBytes = compactionBytes
    let limits = SplitStateFiles.Limits(
      backCount: initial.back.count, maxSealedBytes: maxSealedBytes)
    self.limits = limits
    if mkdir(directory, 0o700) < 0, errno != EEXIST {
      throw .durability(
        .io(path: directory, operation: "create the state directory", errno: errno))
    }
    let lock: Int32
    do {
      lock = try StateDirectory.lock(directory)
    } catch {
      throw .durability(error)
    }
    let opened: (SplitCoordinatorState, Int32, Int, [String])
    do throws(SplitStateError) {
      opened = try Self.recover(
        directory: directory, initial: initial, settings: settings, limits: limits)
    } catch {
      close(lock)
      throw error
    }
    self.lock = lock
    recovered = opened.0
    log = opened.1
    recoveryLines = opened.3
    inner = Mutex(Inner(state: opened.0, logBytes: opened.2))
  }

  deinit {
    close(log)
    close(lock)  // releases the directory's lock
  }

  /// A copy of the state as logged so far.
  public var state: SplitCoordinatorState { inner.withLock { $0.state } }

  /// The size of the write-ahead log in bytes.
  public var logBytes: Int { inner.withLock { $0.logBytes } }

  /// Appends `record` (the next event) and applies it to the store's copy; with `sync`, returns
  /// only once it is on disk (fdatasync). Writes a snapshot when the log passes
  /// ``compactionBytes``.
  ///
  /// - Throws: ``SplitStateError`` when the log cannot be written; the store then refuses every
  ///   later append.
  func append(_ record: SplitStateRecord, sync: Bool) throws(SplitStateError) {
    try inner.withLock { (inner) throws(SplitStateError) in
      if let failure = inner.failure { throw failure }
      do throws(SplitStateError) {
        var next = inner.state
        if let problem = next.apply(record) {
          // A caller's bug, not the disk's: nothing was written.
          throw SplitStateError.refusedChange(problem)
        }
        let bytes = SplitStateFiles.encode(record, event: next.events)
        do throws(DurabilityError) {
          try DurableFile.writeAll(log, bytes, path: logPath)
          if sync { try DurableFile.check(fdatasync(log), "fsync", logPath) }
        } catch {
          throw SplitStateError.durability(error)
        }
        inner.state = next
        inner.logBytes += bytes.count
        if inner.logBytes > compactionBytes { try writeSnapshot(&inner) }
      } catch {
        inner.failure = error
        throw error
      }
    }
  }

  /// Writes the whole state to `split-snapshot.bin` atomically and empties the log (a graceful
  /// stop calls it, so the next start replays nothing).
  public func snapshot() throws(SplitStateError) {
    try inner.withLock { (inner) throws(SplitStateError) in
      if let failure = inner.failure { throw failure }
      do throws(SplitStateError) {
        try writeSnapshot(&inner)
      } catch {
        inner.failure = error
        throw error
      }
    }
  }

  private func writeSnapshot(_ inner: inout Inner) throws(SplitStateError) {
    do throws(DurabilityError) {
      try DurableFile.replace(
        snapshotPath, with: SplitStateFiles.encodeSnapshot(inner.state), directory: directory)
      // Empty the log, then name the snapshot it continues. A crash in between leaves the old
      // header without records, which the snapshot covers (opening starts the log afresh).
      try DurableFile.check(
        ftruncate(log, off_t(SplitStateFiles.logHeaderLength)), "truncate", logPath)
      let header = SplitStateFiles.logHeader(base: inner.state.events)
      let written = header.withUnsafeBytes { pwrite(log, $0.baseAddress!, $0.count, 0) }
      guard written == header.count else {
        throw DurabilityError.io(path: logPath, operation: "write", errno: written < 0 ? errno : EIO)
      }
      try DurableFile.check(lseek(log, 0, SEEK_END), "seek", logPath)
      try DurableFile.check(fsync(log), "fsync", logPath)
    } catch {
      throw .durability(error)
    }
    inner.logBytes = SplitStateFiles.logHeaderLength
  }

  // MARK: - Opening

  /// Checks and replays the state in `directory` (whose lock the caller holds), or creates a new
  /// one; returns it, the log open for appending and its length, and the report lines.
  private static func recover(
    directory: String, initial: SplitCoordinatorState, settings: [String: String],
    limits: SplitStateFiles.Limits
  ) throws(SplitStateError) -> (SplitCoordinatorState, Int32, Int, [String]) {
    let logPath = directory + "/" + SplitStateFiles.logName
    let snapshotPath = directory + "/" + SplitStateFiles.snapshotName
    let settingsPath = directory + "/" + SplitStateFiles.settingsName
    let known = [SplitStateFiles.logName, SplitStateFiles.snapshotName, SplitStateFiles.settingsName]
    var lines: [String] = []
    do {
      let entries = try StateDirectory.entries(directory)
      let temporaries = entries.filter { name in known.contains { name == $0 + ".tmp" } }
      let foreign = entries.filter { !known.contains($0) && !temporaries.contains($0) }
      guard foreign.isEmpty else {
        throw SplitStateError.incomplete(
          directory: directory,
          problem: "it holds \(foreign.joined(separator: ", ")), which split serve does not "
            + "write (another server's state directory?)")
      }
      func removeTemporaries() throws(DurabilityError) {
        for name in temporaries {
          try StateDirectory.remove(directory + "/" + name, directory: directory)
          lines.append("removed \(name), left by an interrupted write (its rename never happened)")
        }
      }
      guard entries.contains(SplitStateFiles.logName) else {
        if entries.contains(SplitStateFiles.snapshotName) {
          throw SplitStateError.incomplete(
            directory: directory,
            problem: "split-snapshot.bin is there but split.wal is missing (steps acknowledged "
              + "after the snapshot were in it): restore it from a backup")
        }
        // A new federation: the settings, then the log (whose presence marks a state).
        try removeTemporaries()
        try DurableFile.replace(
          settingsPath, with: encodeSettings(settings), directory: directory)
        try DurableFile.replace(
          logPath, with: SplitStateFiles.logHeader(base: 0), directory: directory)
        let log = try DurableFile.openLog(logPath, length: nil, directory: directory)
        return (initial, log, SplitStateFiles.logHeaderLength, lines)
      }
      guard let recorded = try DurableFile.read(settingsPath) else {
        throw SplitStateError.incomplete(
          directory: directory,
          problem: "split.settings is missing next to split.wal: restore it from a backup")
      }
      let values: [String: String]
      do throws(DurabilityError) {
        values = try StateDirectory.decodeSettings(recorded, path: settingsPath)
      } catch {
        guard case .badSettingsFile(_, let line) = error else { throw error }
        // The byte offset of the line (1-based) that is not key=value.
        let lines = recorded.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let offset = lines.prefix(line - 1).reduce(0) { $0 + $1.count + 1 }
        throw SplitStateError.corrupt(
          path: settingsPath, offset: offset, reason: "line \(line) is not key=value")
      }
      let changes = StateSettings(values: settings).changes(from: values)
      guard changes.isEmpty else {
        throw SplitStateError.settingsChanged(path: settingsPath, changes: changes)
      }
      var state = initial
      let hasSnapshot = entries.contains(SplitStateFiles.snapshotName)
      if let bytes = try DurableFile.read(snapshotPath) {
        state = try SplitStateFiles.decodeSnapshot(
          bytes, path: snapshotPath, participants: initial.participants, limits: limits)
      }
      let bytes = try DurableFile.read(logPath) ?? []
      let log = try SplitStateFiles.decodeLog(bytes, path: logPath, limits: limits)
      if !hasSnapshot, log.base > 0 {
        throw SplitStateError.incomplete(
          directory: directory,
          problem: "split-snapshot.bin is missing, but split.wal continues a snapshot of event "
            + "\(log.base): restore split-snapshot.bin from a backup")
      }
      if log.base > state.events {
        throw SplitStateError.incomplete(
          directory: directory,
          problem: "split.wal continues the snapshot of event \(log.base), but "
            + "split-snapshot.bin ends at event \(state.events) (an older copy?): restore the "
            + "matching split-snapshot.bin")
      }
      // The state checks out: from here on, everything done is reported.
      try removeTemporaries()
      let snapshotEvents = state.events
      for (offset, event, record) in log.records where event > snapshotEvents {
        if let problem = state.apply(record) {
          throw SplitStateError.corrupt(path: logPath, offset: offset, reason: problem)
        }
      }
      if let torn = log.tornOffset {
        lines.append(
          "dropped a torn record of \(bytes.count - torn) bytes at offset \(torn) of "
            + "\(SplitStateFiles.logName) (a write cut short by a crash; never acknowledged)")
      }
      let lastLogged = log.base + UInt64(log.records.count)
      if lastLogged <= snapshotEvents, log.base != snapshotEvents {
        // The snapshot holds everything in the log (a crash between writing a snapshot and
        // emptying the log): start the log afresh after it.
        try DurableFile.replace(
          logPath, with: SplitStateFiles.logHeader(base: state.events), directory: directory)
        let fd = try DurableFile.openLog(logPath, length: nil, directory: directory)
        return (state, fd, SplitStateFiles.logHeaderLength, lines)
      }
      let fd = try DurableFile.openLog(
        logPath, length: log.tornOffset == nil ? nil : log.end, directory: directory)
      return (state, fd, log.end, lines)
    } catch let error as SplitStateError {
      throw error
    } catch let error as DurabilityError {
      throw .durability(error)
    } catch {
      throw .incomplete(directory: directory, problem: "\(error)")
    }
  }

  static func encodeSettings(_ settings: [String: String]) -> [UInt8] {
    StateDirectory.encodeSettings(
      settings,
      comment: "colearn split federation settings, written by colearn split serve; a restart "
        + "with other settings is refused")
  }

}
