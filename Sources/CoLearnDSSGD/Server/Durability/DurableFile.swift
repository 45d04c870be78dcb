#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Thin POSIX file helpers: whole writes, fsync of files and directories, atomic replacement.
package enum DurableFile {
  /// Opens a write-ahead log for appending, cut to `length` (a dropped torn tail) when given,
  /// with the cut made durable (the file and its directory synced) before the first append.
  package static func openLog(_ path: String, length: Int?, directory: String)
    throws(DurabilityError) -> Int32
  {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    try check(fd, "open", path)
    do throws(DurabilityError) {
      if let length { try check(ftruncate(fd, off_t(length)), "truncate", path) }
      try check(lseek(fd, 0, SEEK_END), "seek", path)
      try check(fsync(fd), "fsync", path)
      try syncDirectory(directory)
    } catch {
      close(fd)
      throw error
    }
    return fd
  }

  package static func check(_ result: some BinaryInteger, _ operation: String, _ path: String) throws(
    DurabilityError
  ) {
    if result < 0 { throw .io(path: path, operation: operation, errno: errno) }
  }

  /// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
  package static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(DurabilityError) {
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
  package static func read(_ path: String) throws(DurabilityError) -> [UInt8]? {
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

  /// Replaces `path` by `bytes` atomically: a temporary file (`path`.tmp), fsync, rename, fsync
  /// of the directory. A crash leaves either the old file or the new one, never a mix (and maybe
  /// the temporary file, which the next start removes); a failure removes the temporary file.
  package static func replace(_ path: String, with bytes: [UInt8], directory: String) throws(
    DurabilityError
  ) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    try check(fd, "create", temporary)
    // A failure (a full disk) must not leave the temporary file behind to fill it.
    do throws(DurabilityError) {
      try writeAll(fd, bytes, path: temporary)
      try check(fsync(fd), "fsync", temporary)
    } catch {
      close(fd)
      unlink(temporary)
      throw error
    }
    close(fd)
    do throws(DurabilityError) {
      try check(rename(temporary, path), "rename", temporary)
    } catch {
      unlink(temporary)
      throw error
    }
    try syncDirectory(directory)
  }

  /// fsync of a directory, so that a created or renamed entry survives a crash.
  package static func syncDirectory(_ directory: String) throws(DurabilityError) {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    try check(fd, "open", directory)
    defer { close(fd) }
    try check(fsync(fd), "fsync", directory)
  }
}
