import Foundation

/// A child process running while a test goes on (a server, a participant): its output is
/// collected as it arrives, a line can be awaited, and it can be signalled and waited for. The
/// process is killed when the object goes away, so a failing test never leaves it behind.
public final class BackgroundProcess: @unchecked Sendable {
  public let process = Process()
  private let lock = NSLock()
  /// Raw bytes, decoded only when read: a pipe can deliver a multi-byte character split across
  /// two reads (a writer that writes a byte at a time always does), and decoding each read
  /// alone would turn it into replacement characters.
  private var output = Data()
  private var errors = Data()

  /// Starts `executable` with `arguments`.
  public init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // A thread per pipe, reading until end of file. Not `readabilityHandler`: its dispatch read
    // source, torn down with the pipe while a read is pending, crashes libdispatch on Linux
    // (`_dispatch_event_loop_drain`, swift-corelibs-foundation's own stress tests reproduce it)
    // and took a whole test run down with it.
    readers = [
      Self.drain(out.fileHandleForReading) { [weak self] data in
        guard let self else { return }
        self.lock.lock()
        self.output.append(data)
        self.lock.unlock()
      } onEnd: { [weak self] in self?.readerEnded() },
      Self.drain(err.fileHandleForReading) { [weak self] data in
        guard let self else { return }
        self.lock.lock()
        self.errors.append(data)
        self.lock.unlock()
      } onEnd: { [weak self] in self?.readerEnded() },
    ]
  }

  private var readers: [Thread] = []
  private var endedReaders = 0

  private func readerEnded() {
    lock.lock()
    endedReaders += 1
    lock.unlock()
  }

  /// Starts a thread that reads `handle` with blocking reads until end of file, passing each
  /// chunk to `append`, then calls `onEnd`. The thread keeps the handle open until then.
  private static func drain(
    _ handle: FileHandle, append: @escaping @Sendable (Data) -> Void,
    onEnd: @escaping @Sendable () -> Void
  ) -> Thread {
    let thread = Thread {
      let descriptor = handle.fileDescriptor
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 {
          append(Data(buffer[0..<count]))
        } else if count < 0, errno == EINTR {
          continue
        } else {
          break
        }
      }
      onEnd()
      withExtendedLifetime(handle) {}
    }
    thread.start()
    return thread
  }

  deinit {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
  }

  /// Standard output so far.
  public var standardOutput: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: output, as: UTF8.self)
  }

  /// Standard error so far.
  public var standardError: String {
    lock.lock()
    defer { lock.unlock() }
    return String(decoding: errors, as: UTF8.self)
  }

  /// Waits until standard output (or error) contains a match of `pattern` and returns the
  /// first capture group (or the whole match), or nil after `timeout` seconds or when the
  /// process exits first.
  public func waitFor(
    _ pattern: String, inErrors: Bool = false, timeout: Double = 60
  ) -> String? {
    let regex = try! NSRegularExpression(pattern: pattern)
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
      let text = inErrors ? standardError : standardOutput
      if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
        let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
        return String(text[Range(range, in: text)!])
      }
      if !process.isRunning {
        // One last look: the output may have arrived with the exit.
        usleep(100_000)
        let text = inErrors ? standardError : standardOutput
        if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
          let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
          return String(text[Range(range, in: text)!])
        }
        return nil
      }
      usleep(20_000)
    }
    return nil
  }

  /// Sends `signal` (e.g. SIGTERM, SIGKILL).
  public func send(_ signal: Int32) {
    kill(process.processIdentifier, signal)
  }

  /// Waits for the exit (killing the process after `timeout` seconds) and returns its status.
  @discardableResult
  public func wait(timeout: Double = 120) -> Int32 {
    let deadline = Date().addingTimeInterval(timeout)
    while process.isRunning, Date() < deadline { usleep(20_000) }
    if process.isRunning {
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
    }
    process.waitUntilExit()
    // Let the readers reach the end of both pipes (a grandchild holding a pipe open can delay
    // that: at most 2 s).
    let drained = Date().addingTimeInterval(2)
    while Date() < drained {
      lock.lock()
      let ended = endedReaders
      lock.unlock()
      if ended >= 2 { break }
      usleep(5_000)
    }
    return process.terminationStatus
  }

  /// Both streams, for failure messages.
  public var combined: String { standardOutput + standardError }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for a server that must come back on the
/// same port after a restart).
public func freeLoopbackPort() -> Int {
  let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
  defer { close(fd) }
  var address = sockaddr_in()
  address.sin_family = sa_family_t(AF_INET)
  address.sin_addr.s_addr = inet_addr("127.0.0.1")
  address.sin_port = 0
  var length = socklen_t(MemoryLayout<sockaddr_in>.size)
  _ = withUnsafePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
  }
  _ = withUnsafeMutablePointer(to: &address) {
    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
  }
  return Int(UInt16(bigEndian: address.sin_port))
}

/// Test certificates made with `openssl`: a CA, and a server certificate it signed for
/// 127.0.0.1 and localhost. Returns the paths (ca.pem, server.pem, server-key.pem).
public func makeTestCertificates(in directory: URL) throws -> (ca: String, certificate: String, key: String) {
  let openssl = URL(fileURLWithPath: "/usr/bin/openssl")
  let path = { (name: String) in directory.appendingPathComponent(name).path }
  let steps: [[String]] = [
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
     "-keyout", path("ca-key.pem"), "-out", path("ca.pem"), "-days", "2", "-subj", "/CN=colearn test CA"],
    ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
     "-keyout", path("server-key.pem"), "-out", path("server.csr"), "-subj", "/CN=localhost"],
  ]
  for step in steps {
    let result = try runProcess(openssl, step)
    guard result.status == 0 else { throw CertificateError.openssl(result.combined) }
  }
  try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(
    toFile: path("san.ext"), atomically: true, encoding: .utf8)
  let sign = try runProcess(
    openssl,
    ["x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca-key.pem"),
     "-CAcreateserial", "-out", path("server.pem"), "-days", "2", "-extfile", path("san.ext")])
  guard sign.status == 0 else { throw CertificateError.openssl(sign.combined) }
  return (path("ca.pem"), path("server.pem"), path("server-key.pem"))
}

public enum CertificateError: Error { case openssl(String) }
