#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why the server's durable state could not be read or written. Each message names the file and
/// what to do.
public enum DurabilityError: Error, Equatable, CustomStringConvertible {
  /// A system call on `path` failed with `errno`.
  case io(path: String, operation: String, errno: Int32)
  /// `path` is not a colearn server file, or of another version.
  case notAStateFile(path: String)
  /// The snapshot is damaged: its checksum does not match, or a field is impossible (`reason`
  /// names it).
  case corruptSnapshot(path: String, reason: String = "checksum mismatch")
  /// The state on disk belongs to another model than the server was started with.
  case wrongDimension(path: String, onDisk: Int, expected: Int)
  /// The write-ahead log has a damaged record that may hold acknowledged uploads.
  case damagedLog(LogDamage)
  /// The state directory is neither empty nor a complete state.
  case inconsistentState(directory: String, problem: StateProblem)
  /// Another process holds the state directory's lock (its pid when it could be read).
  case locked(path: String, pid: Int32?)
  /// The server was started with other settings than the state was created with.
  case settingsChanged(path: String, changes: [SettingChange], changeable: Bool)
  /// The settings file cannot be read (a line that is not `key=value`).
  case badSettingsFile(path: String, line: Int)

  public var description: String {
    switch self {
    case .io(let path, let operation, let errno):
      return "cannot \(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    case .notAStateFile(let path):
      return "\(path) is not a colearn server state file (or of another version); "
        + "point the server at its own state directory"
    case .corruptSnapshot(let path, let reason):
      return "\(path) is damaged (\(reason)); restore the state directory from a backup"
    case .wrongDimension(let path, let onDisk, let expected):
      return "\(path) holds a model with |w| = \(onDisk), but the server runs one with "
        + "|w| = \(expected); start it with the same --model, or use a new state directory"
    case .damagedLog(let damage):
      return damage.description
    case .inconsistentState(let directory, let problem):
      return "the state directory \(directory) is incomplete: \(problem); the server does not "
        + "start from a partial state (a new federation needs an empty or new --state-dir)"
    case .locked(let path, let pid):
      return "the state directory is in use: \(path) is locked by "
        + (pid.map { "process \($0)" } ?? "another process")
        + "; stop that server first (two servers must never share a --state-dir)"
    case .settingsChanged(let path, let changes, let changeable):
      let list = changes.map(\.description).joined(separator: ", ")
      return changeable
        ? "the federation in \(path) was created with other settings: \(list); start the server "
          + "with the recorded settings, or pass --allow-settings-change to adopt the new ones"
        : "the federation in \(path) was created with other settings: \(list); these cannot "
          + "change (use a new --state-dir for another model)"
    case .badSettingsFile(let path, let line):
      return "\(path) line \(line) is not key=value; restore it from a backup, or rewrite it "
        + "with --allow-settings-change"
    }
  }
}

/// A damaged record in the write-ahead log, with what comes before and after it.
public struct LogDamage: Sendable, Equatable, CustomStringConvertible {
  /// The log file.
  public var path: String
  /// Where the damaged bytes start, and how many there are.
  public var offset: Int
  public var length: Int
  /// The sequence and event number of the last intact record before the damage.
  public var sequenceBefore: UInt64
  public var eventBefore: UInt64
  /// The first intact record after the damage: its sequence number (nil for a stat decay) and
  /// event number; nil when the damage reaches the end of the file.
  public var sequenceAfter: UInt64?
  public var eventAfter: UInt64?

  public init(
    path: String, offset: Int, length: Int, sequenceBefore: UInt64, eventBefore: UInt64,
    sequenceAfter: UInt64?, eventAfter: UInt64?
  ) {
    self.path = path
    self.offset = offset
    self.length = length
    self.sequenceBefore = sequenceBefore
    self.eventBefore = eventBefore
    self.sequenceAfter = sequenceAfter
    self.eventAfter = eventAfter
  }

  public var description: String {
    var text =
      "\(path) is damaged at byte offset \(offset) (\(length) bytes) after sequence "
      + "\(sequenceBefore) (event \(eventBefore)); "
    if let eventAfter {
      text +=
        "intact records follow from "
        + (sequenceAfter.map { "sequence \($0) (event \(eventAfter))" } ?? "event \(eventAfter)")
        + ", so acknowledged uploads would be lost by dropping the rest. "
    } else {
      text +=
        "the damage runs to the end of the file and is not a torn write (the record is "
        + "complete), so it may hold acknowledged uploads. "
    }
    return text
      + "Restore the state directory from a backup, or restart with --repair: it keeps every "
      + "intact record, moves the damaged log aside and logs the sequence numbers lost"
  }
}

/// What makes a non-empty state directory unusable.
public enum StateProblem: Sendable, Equatable, CustomStringConvertible {
  /// The log continues a snapshot (of `event`, `sequence`) that is not there.
  case snapshotMissing(event: UInt64, sequence: UInt64)
  /// A snapshot but no write-ahead log.
  case logMissing
  /// The log is shorter than its header (an emptied or truncated file), or its header is damaged.
  case logHeaderDamaged(length: Int)
  /// The log continues a later snapshot (event `logBase`) than the one there (event
  /// `snapshot`): snapshot.bin is an older copy.
  case snapshotBehindLog(logBase: UInt64, snapshot: UInt64)
  /// A log holding uploads but no settings file.
  case settingsMissing
  /// Files but no write-ahead log.
  case noLog(entries: [String])
  /// The recovered parameters (at `sequence`) hold `count` infinite or NaN values, the first
  /// at `firstIndex`: an upload applied by a build without the update bounds poisoned them.
  case nonFiniteParameters(count: Int, firstIndex: Int, sequence: UInt64)

  public var description: String {
    switch self {
    case .snapshotMissing(let event, let sequence):
      return "snapshot.bin is missing, but uploads.wal continues a snapshot of event \(event) "
        + "(sequence \(sequence)): restore snapshot.bin from a backup"
    case .logMissing:
      return "uploads.wal is missing next to snapshot.bin (uploads acknowledged after the "
        + "snapshot were in it): restore it from a backup"
    case .logHeaderDamaged(let length):
      return "uploads.wal is empty or its header is damaged (\(length) bytes): restore it from "
        + "a backup"
    case .snapshotBehindLog(let logBase, let snapshot):
      return "uploads.wal continues the snapshot of event \(logBase), but snapshot.bin ends at "
        + "event \(snapshot) (an older copy?): restore the matching snapshot.bin"
    case .settingsMissing:
      return "federation.settings is missing next to uploads.wal: restore it, or pass "
        + "--allow-settings-change to record the settings the server was started with"
    case .noLog(let entries):
      return "it holds \(entries.sorted().joined(separator: ", ")) but no uploads.wal"
    case .nonFiniteParameters(let count, let firstIndex, let sequence):
      return "after replaying it up to sequence \(sequence), \(count) parameters are infinite "
        + "or NaN (the first at index \(firstIndex)): an upload applied by an older build "
        + "without update bounds poisoned the model, and serving it would break every "
        + "participant; restore the directory from a backup taken before that upload"
    }
  }
}

/// One setting whose value differs between the state directory and the server's start.
public struct SettingChange: Sendable, Equatable, CustomStringConvertible {
  public var key: String
  /// The recorded value (nil: not recorded), and the new one (nil: not given).
  public var recorded: String?
  public var requested: String?

  public init(key: String, recorded: String?, requested: String?) {
    self.key = key
    self.recorded = recorded
    self.requested = requested
  }

  public var description: String {
    "\(key) \(recorded ?? "(none)") → \(requested ?? "(none)")"
  }
}
