#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file reads and atomic writes with typed errors, used by every reader in this target
/// (and by the saved-model files of CoLearnModelIO).
///
/// Plain POSIX calls: one `read` loop into a pre-sized array, no intermediate `Data`, so a
/// 47 MB IDX file costs one allocation and one copy from the page cache.
public enum FileIO {
  /// Whether a regular file (or a symbolic link to one) exists at `path`.
  static func fileExists(atPath path: String) -> Bool {
    var info = stat()
    guard stat(path, &info) == 0 else { return false }
    return (info.st_mode & S_IFMT) == S_IFREG
  }

  /// The whole content of the file at `path`.
  ///
  /// - Parameters:
  ///   - path: The file.
  ///   - dataset: Named in the message when the file is missing.
  /// - Returns: The bytes.
  /// - Throws: ``DataError/missingFile(path:dataset:)`` or ``DataError/ioFailure(path:reason:)``.
  public static func readFile(atPath path: String, dataset: DatasetName? = nil) throws(DataError)
    -> [UInt8]
  {
    let descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
      let code = errno
      if code == ENOENT { throw .missingFile(path: path, dataset: dataset) }
      throw .ioFailure(path: path, reason: systemMessage(code))
    }
    defer { close(descriptor) }
    var info = stat()
    guard fstat(descriptor, &info) == 0 else {
      throw .ioFailure(path: path, reason: systemMessage(errno))
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      throw .ioFailure(path: path, reason: "not a regular file")
    }
    let size = Int(info.st_size)
    var failure: Int32 = 0
    let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
      initialized = 0
      guard let base = buffer.baseAddress else { return }
      while initialized < size {
        let got = read(descriptor, base + initialized, size - initialized)
        if got < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        if got == 0 { return }
        initialized += got
      }
    }
    if failure != 0 { throw .ioFailure(path: path, reason: systemMessage(failure)) }
    guard bytes.count == size else {
      throw .ioFailure(path: path, reason: "file shrank while being read")
    }
    return bytes
  }

  /// Writes `bytes` to `path` atomically: into a temporary file in the same directory, flushed
  /// with `fsync`, then renamed over `path`, so a reader never sees a half-written file.
  /// `mode` is the new file's permissions, set when it is created (0o600 for a secret, which is
  /// then never readable by others, not even for a moment).
  ///
  /// - Throws: ``DataError/ioFailure(path:reason:)``.
  public static func writeAtomically(
    _ bytes: [UInt8], toPath path: String, mode: mode_t = 0o644
  ) throws(DataError) {
    let temporary = path + ".partial-\(getpid())"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode)
    guard descriptor >= 0 else { throw .ioFailure(path: temporary, reason: systemMessage(errno)) }
    var written = 0
    var failure: Int32 = 0
    bytes.withUnsafeBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      while written < buffer.count {
        let result = write(descriptor, base + written, buffer.count - written)
        if result < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        written += result
      }
    }
    if failure == 0, fsync(descriptor) != 0 { failure = errno }
    close(descriptor)
    if failure == 0, rename(temporary, path) != 0 { failure = errno }
    if failure != 0 {
      unlink(temporary)
      throw .ioFailure(path: path, reason: systemMessage(failure))
    }
  }

  /// Creates `path` and its missing parents (like `mkdir -p`).
  ///
  /// - Throws: ``DataError/ioFailure(path:reason:)``.
  static func createDirectory(atPath path: String) throws(DataError) {
    var info = stat()
    if stat(path, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw .ioFailure(path: path, reason: "exists and is not a directory")
      }
      return
    }
    let parent = parentDirectory(of: path)
    if !parent.isEmpty, parent != path { try createDirectory(atPath: parent) }
    if mkdir(path, 0o755) != 0, errno != EEXIST {
      throw .ioFailure(path: path, reason: systemMessage(errno))
    }
  }

  /// The path of `name` in `directory`: the file itself if it exists, otherwise `name.gz`
  /// (which may not exist either; reading it then reports it missing).
  static func preferredPath(_ name: String, in directory: String) -> String {
    let raw = join(directory, name)
    return fileExists(atPath: raw) ? raw : raw + ".gz"
  }

  /// `a/b` joined with `c` as `a/b/c`.
  static func join(_ directory: String, _ name: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  /// The directory part of `path` (`"a/b"` for `"a/b/c"`, `""` for `"c"`).
  static func parentDirectory(of path: String) -> String {
    var trimmed = Substring(path)
    while trimmed.count > 1, trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "" }
    if slash == trimmed.startIndex { return "/" }
    return String(trimmed[..<slash])
  }

  /// The operating system's message for `code`.
  static func systemMessage(_ code: Int32) -> String {
    guard let message = strerror(code) else { return "error \(code)" }
    return String(cString: message)
  }
}
