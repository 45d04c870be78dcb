#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The operating system's cryptographically secure random generator: the only source of noise
/// for real (private) uploads (SPEC §8).
///
/// On Linux the bytes come from `getrandom(2)` (flags 0: it blocks only until the kernel pool is
/// initialised at boot, then never). The call is looked up at run time because the Swift `Glibc`
/// module does not export it; interrupted calls (EINTR) and short reads are retried. If the call
/// is unavailable or fails, the bytes are read from `/dev/urandom` instead, and if that fails too
/// the fill throws — it never traps and never falls back to a non-secure generator.
///
/// Threading: stateless; any thread may call it.
public enum SystemRandom {
  /// The device read when `getrandom(2)` cannot be used.
  public static let devicePath = "/dev/urandom"

  /// Fills `buffer` with secure random bytes.
  ///
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when neither `getrandom(2)` nor ``devicePath`` delivers.
  public static func fill(_ buffer: UnsafeMutableRawBufferPointer) throws(PrivacyError) {
    guard buffer.count > 0, let base = buffer.baseAddress else { return }
    let failure = fillUsingSystemCall(base, count: buffer.count)
    guard let failure else { return }
    try fill(buffer, fromDevice: devicePath, afterSystemCallError: failure)
  }

  /// Fills `buffer` by reading the device at `path` (normally ``devicePath``): the fallback of
  /// ``fill(_:)``, public so that its failure path can be tested.
  ///
  /// - Throws: ``PrivacyError/secureRandomUnavailable(getrandomErrno:devicePath:deviceErrno:)``
  ///   when the device cannot be opened or read to the end of `buffer`.
  public static func fill(
    _ buffer: UnsafeMutableRawBufferPointer, fromDevice path: String
  ) throws(PrivacyError) {
    try fill(buffer, fromDevice: path, afterSystemCallError: nil)
  }

  // MARK: - getrandom(2)

  /// Why the system call could not fill the buffer: an errno, or nil when the call is missing.
  private enum SystemCallFailure {
    case unavailable
    case failed(errno: Int32)

    var errnoValue: Int32? {
      if case .failed(let value) = self { return value }
      return nil
    }
  }

  #if canImport(Glibc)
    private typealias GetRandom = @convention(c) (UnsafeMutableRawPointer?, Int, UInt32) -> Int

    /// `getrandom` from the C library (glibc ≥ 2.25), or nil when it is missing.
    private static let getrandomFunction: GetRandom? = {
      guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "getrandom") else { return nil }
      return unsafeBitCast(symbol, to: GetRandom.self)
    }()
  #endif

  /// Fills `count` bytes at `base` with `getrandom(2)` (`getentropy` on Darwin).
  /// - Returns: nil on success, otherwise why it failed.
  private static func fillUsingSystemCall(
    _ base: UnsafeMutableRawPointer, count: Int
  ) -> SystemCallFailure? {
    #if canImport(Glibc)
      guard let getrandom = getrandomFunction else { return .unavailable }
      var filled = 0
      while filled < count {
        let result = getrandom(base + filled, count - filled, 0)
        if result > 0 {
          filled += result
        } else if result < 0 && errno == EINTR {
          continue
        } else {
          return .failed(errno: result < 0 ? errno : EIO)
        }
      }
      return nil
    #elseif canImport(Darwin)
      var filled = 0
      while filled < count {
        let chunk = min(256, count - filled)
        if getentropy(base + filled, chunk) != 0 { return .failed(errno: errno) }
        filled += chunk
      }
      return nil
    #else
      return .unavailable
    #endif
  }

  // MARK: - The device

  private static func fill(
    _ buffer: UnsafeMutableRawBufferPointer, fromDevice path: String,
    afterSystemCallError failure: SystemCallFailure?
  ) throws(PrivacyError) {
    func unavailable(_ deviceErrno: Int32) -> PrivacyError {
      .secureRandomUnavailable(
        getrandomErrno: failure?.errnoValue, devicePath: path, deviceErrno: deviceErrno)
    }
    guard buffer.count > 0, let base = buffer.baseAddress else { return }
    var descriptor: Int32 = -1
    repeat {
      descriptor = open(path, O_RDONLY | O_CLOEXEC)
    } while descriptor < 0 && errno == EINTR
    guard descriptor >= 0 else { throw unavailable(errno) }
    defer { _ = close(descriptor) }
    var filled = 0
    while filled < buffer.count {
      let result = read(descriptor, base + filled, buffer.count - filled)
      if result > 0 {
        filled += result
      } else if result < 0 && errno == EINTR {
        continue
      } else {
        // 0 means end of file: not a random device.
        throw unavailable(result < 0 ? errno : EIO)
      }
    }
  }
}
