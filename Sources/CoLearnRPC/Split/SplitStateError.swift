import CoLearnDSSGD

/// Why a split coordinator's state directory (`split serve --state-dir`) cannot be opened or
/// written. Each message names the file (and the byte offset of damage) and what to do.
public enum SplitStateError: Error, Equatable, CustomStringConvertible {
  /// A system call failed, or another process holds the directory (the DSSGD server's errors,
  /// whose messages name the path).
  case durability(DurabilityError)
  /// `path` is not a split coordinator's state file (another program's, or another version).
  case notAStateFile(path: String)
  /// `path` is damaged at byte `offset`: `reason` says how.
  case corrupt(path: String, offset: Int, reason: String)
  /// The directory is neither empty nor a complete split coordinator state.
  case incomplete(directory: String, problem: String)
  /// The coordinator was started with other settings than the state was created with.
  case settingsChanged(path: String, changes: [SettingChange])
  /// A change that does not follow the logged state was refused before anything was written
  /// (a bug in the coordinator, not damage on disk).
  case refusedChange(String)

  public var description: String {
    switch self {
    case .durability(let error):
      return error.description
    case .notAStateFile(let path):
      return "\(path) is not a colearn split coordinator state file (or of another version); "
        + "point split serve --state-dir at its own directory"
    case .corrupt(let path, let offset, let reason):
      return "\(path) is damaged at byte offset \(offset): \(reason); it is not a torn last "
        + "write, so acknowledged steps may be in or after it. Restore the state directory from "
        + "a backup, or start a new federation with a new --state-dir"
    case .incomplete(let directory, let problem):
      return "the state directory \(directory) is incomplete: \(problem); split serve does not "
        + "start from a partial state (a new federation needs an empty or new --state-dir)"
    case .settingsChanged(let path, let changes):
      return "the split federation in \(path) was created with other settings: "
        + changes.map(\.description).joined(separator: ", ")
        + "; these cannot change: restart split serve with the recorded settings, or use a new "
        + "--state-dir for a new federation"
    case .refusedChange(let problem):
      return "the coordinator refused to log a change that does not follow its state "
        + "(\(problem)); nothing was written: this is a bug in colearn, please report it"
    }
  }
}
