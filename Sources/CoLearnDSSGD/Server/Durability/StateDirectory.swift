#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The federation's settings as recorded with its state (`federation.settings`): the server
/// refuses to continue a state with other settings unless told to adopt them.
public struct StateSettings: Sendable, Equatable {
  /// Setting name → value, as text (e.g. "participants" → "30").
  public var values: [String: String]
  /// The names no flag may change (the model: its state is meaningless for another one).
  public var fixed: Set<String>

  public init(values: [String: String], fixed: Set<String> = []) {
    self.values = values
    self.fixed = fixed
  }

  /// The differences from `recorded` to these settings, by name.
  public func changes(from recorded: [String: String]) -> [SettingChange] {
    Set(values.keys).union(recorded.keys).sorted().compactMap { key in
      recorded[key] == values[key]
        ? nil : SettingChange(key: key, recorded: recorded[key], requested: values[key])
    }
  }
}

/// How to open a state directory.
public struct StateOpenOptions: Sendable {
  /// The settings to record with a new state and to compare with an existing one; nil to
  /// neither record nor compare (simulations and tests).
  public var settings: StateSettings?
  /// Adopt settings that differ from the recorded ones (except the fixed ones), logging what
  /// changed.
  public var allowSettingsChange: Bool
  /// Recover from a damaged write-ahead log: keep every intact record, move the damaged log
  /// aside, and report the sequence numbers lost.
  public var repair: Bool

  public init(
    settings: StateSettings? = nil, allowSettingsChange: Bool = false, repair: Bool = false
  ) {
    self.settings = settings
    self.allowSettingsChange = allowSettingsChange
    self.repair = repair
  }
}

/// What opening a state directory did besides replaying it: everything the operator should read
/// in the log (nothing is dropped, removed or changed without a line here).
public struct RecoveryReport: Sendable, Equatable {
  /// Lost in a repair: the sequence numbers `first...last` (last nil: every one from `first` on,
  /// when no intact upload follows the damage) and the number of stat decays among the lost
  /// events (nil: unknown).
  public struct Loss: Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var first: UInt64
    public var last: UInt64?
    public var decays: UInt64?

    public init(offset: Int, first: UInt64, last: UInt64?, decays: UInt64?) {
      self.offset = offset
      self.first = first
      self.last = last
      self.decays = decays
    }

    public var description: String {
      let sequences =
        last.map {
          $0 < first ? "no uploads" : first == $0 ? "sequence \(first)" : "sequences \(first)–\($0)"
        }
        ?? "every sequence from \(first) on (no intact upload follows the damage)"
      return "\(sequences) at byte offset \(offset)"
        + (decays.map { $0 > 0 ? " and \($0) stat decays" : "" } ?? "")
    }
  }

  /// A torn (or zero-filled) tail dropped from the log: its offset and length. Never
  /// acknowledged: an upload is acknowledged only once its whole record was written and fsync'ed.
  public var droppedTailOffset: Int?
  public var droppedTailLength = 0
  /// Temporary files of an interrupted atomic write, removed (their rename never happened, so
  /// the files they were to replace are the valid ones).
  public var removedTemporaries: [String] = []
  /// Settings adopted with `allowSettingsChange`, or recorded for the first time.
  public var settingsChanges: [SettingChange] = []
  /// A repair: where the damaged log was moved, and what was lost.
  public var damagedLogMovedTo: String?
  public var losses: [Loss] = []

  public init() {}

  /// One line per thing done, for the operator's log.
  public var lines: [String] {
    var lines: [String] = []
    if let offset = droppedTailOffset {
      lines.append(
        "dropped a torn record of \(droppedTailLength) bytes at offset \(offset) of uploads.wal (a write cut "
          + "short by a crash; never acknowledged)")
    }
    for name in removedTemporaries {
      lines.append("removed \(name), left by an interrupted write (its rename never happened)")
    }
    if !settingsChanges.isEmpty {
      lines.append(
        "settings changed: " + settingsChanges.map(\.description).joined(separator: ", "))
    }
    if let moved = damagedLogMovedTo {
      lines.append(
        "repaired uploads.wal: kept every intact record, moved the damaged log to \(moved); lost: "
          + (losses.isEmpty ? "nothing" : losses.map(\.description).joined(separator: "; ")))
    }
    return lines
  }
}

/// The state directory's files, its lock and its settings file (POSIX, no Foundation).
package enum StateDirectory {
  static let lockName = "lock"
  static let settingsName = "federation.settings"
  static let snapshotName = "snapshot.bin"
  static let logName = "uploads.wal"
  /// Damaged logs a repair moved aside: `uploads.wal.damaged-TIME`.
  static let damagedInfix = ".damaged-"

  /// Takes the exclusive lock of `directory` (flock on its lock file, which holds the owner's
  /// pid) and returns the descriptor that holds it; closing it releases the lock, and so does
  /// the end of the process, however it ends.
  package static func lock(_ directory: String) throws(DurabilityError) -> Int32 {
    let path = directory + "/" + lockName
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
    try DurableFile.check(fd, "open", path)
    if flock(fd, LOCK_EX | LOCK_NB) < 0 {
      let failure = errno
      close(fd)
      guard failure == EWOULDBLOCK else {
        throw .io(path: path, operation: "lock", errno: failure)
      }
      let text = (try? DurableFile.read(path)).map { String(decoding: $0, as: UTF8.self) } ?? ""
      throw .locked(path: path, pid: Int32(text.filter { $0.isNumber }))
    }
    let pid = Array("\(getpid())\n".utf8)
    do throws(DurabilityError) {
      try DurableFile.check(ftruncate(fd, 0), "truncate", path)
      let written = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress!, $0.count, 0) }
      try DurableFile.check(written, "write", path)
    } catch {
      close(fd)
      throw error
    }
    return fd
  }

  /// The names in `directory` other than ".", "..", the lock and damaged logs set aside.
  package static func entries(_ directory: String) throws(DurabilityError) -> [String] {
    guard let handle = opendir(directory) else {
      throw .io(path: directory, operation: "list", errno: errno)
    }
    defer { closedir(handle) }
    var names: [String] = []
    while let entry = readdir(handle) {
      let name = withUnsafePointer(to: &entry.pointee.d_name) {
        String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
      }
      if name == "." || name == ".." || name == lockName || name.contains(damagedInfix) {
        continue
      }
      names.append(name)
    }
    return names.sorted()
  }

  /// Removes `path` (and syncs the directory).
  package static func remove(_ path: String, directory: String) throws(DurabilityError) {
    try DurableFile.check(unlink(path), "remove", path)
    try DurableFile.syncDirectory(directory)
  }

  // MARK: - Settings file

  /// The settings file's bytes: a comment line, then `key=value` lines sorted by key.
  package static func encodeSettings(
    _ values: [String: String],
    comment: String =
      "colearn federation settings, written by colearn serve; a restart with other "
      + "settings is refused unless --allow-settings-change"
  ) -> [UInt8] {
    var text = "# \(comment)\n"
    for key in values.keys.sorted() { text += "\(key)=\(values[key]!)\n" }
    return Array(text.utf8)
  }

  /// Reads a settings file (comment and blank lines skipped).
  package static func decodeSettings(_ bytes: [UInt8], path: String) throws(DurabilityError) -> [String:
    String]
  {
    var values: [String: String] = [:]
    let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
    for (number, line) in lines.enumerated() {
      if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
      guard let equals = line.firstIndex(of: UInt8(ascii: "=")), equals > line.startIndex else {
        throw .badSettingsFile(path: path, line: number + 1)
      }
      values[String(decoding: line[..<equals], as: UTF8.self)] =
        String(decoding: line[(equals + 1)...], as: UTF8.self)
    }
    return values
  }
}
