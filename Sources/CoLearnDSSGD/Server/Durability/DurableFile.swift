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
  /// The snapshot is damaged (its checksum does not match).
  case corruptSnapshot(path: String)
  /// The state on disk belongs to another model than the server was started with.
  case wrongDimension(path: String, onDisk: Int, expected: Int)

  public var description: String {
    switch self {
    case .io(let path, let operation, let errno):
      return "cannot \(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    case .notAStateFile(let path):
      return "\(path) is not a colearn server state file (or of another version); "
        + "point the server at its own state directory"
    case .corruptSnapshot(let path):
      return "\(path) is damaged (checksum mismatch); restore it from a backup, or move it away "
        + "to recover from the write-ahead log alone"
    case .wrongDimension(let path, let onDisk, let expected):
      return "\(path) holds a model with |w| = \(onDisk), but the server runs one with "
        + "|w| = \(expected); start it with the same --model, or use a new state directory"
    }
  }
}

/// Thin POSIX file helpers: whole writes, fsync of files and directories, atomic replacement.
enum DurableFile {
  static func check(_ result: some BinaryInteger, _ operation: String, _ path: String) throws(
    DurabilityError
  ) {
    if result < 0 { throw .io(path: path, operation: operation, errno: errno) }
  }

  /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
  static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(DurabilityError) {
    let failure: Int32? = bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset < raw.count {
        let written = write(fd, raw.baseAddress! + offset, raw.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          return errno
        }
        offset += written
      }
      return nil
    }
    if let failure { throw .io(path: path, operation: "write", errno: failure) }
  }

  /// The whole file, or nil if it does not exist.
  static func read(_ path: String) throws(DurabilityError) -> [UInt8]? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw .io(path: path, operation: "open", errno: errno)
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, operation: "read", errno: errno)
      }
      if count == 0 { return bytes }
      bytes += chunk[0..<count]
    }
  }

  /// Replaces `path` by `bytes` atomically: a temporary file, fsync, rename, fsync of the
  /// directory. A crash leaves either the old file or the new one, never a mix.
  static func replace(_ path: String, with bytes: [UInt8], directory: String) throws(
    DurabilityError
  ) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    try check(fd, "create", temporary)
    do throws(DurabilityError) {
      try writeAll(fd, bytes, path: temporary)
      try check(fsync(fd), "fsync", temporary)
    } catch {
      close(fd)
      throw error
    }
    close(fd)
    try check(rename(temporary, path), "rename", temporary)
    try syncDirectory(directory)
  }

  /// fsync of a directory, so that a created or renamed entry survives a crash.
  static func syncDirectory(_ directory: String) throws(DurabilityError) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try check(fd, "open", directory)
    defer { close(fd) }
    try check(fsync(fd), "fsync", directory)
  }
}
