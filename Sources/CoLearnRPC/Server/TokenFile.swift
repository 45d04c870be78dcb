import Crypto
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The server's list of participant identities and their tokens, kept as **salted hashes only**:
/// one line per identity,
///
///     NAME SALT HASH STATE
///
/// with SALT 16 random bytes and HASH = SHA-256(SALT ‖ token), both in lowercase hex, and STATE
/// `active` or `revoked`; `#` starts a comment. Tokens are 256 random bits ("colearn_" and 64 hex
/// digits), so a fast hash suffices (nobody can guess them; a slow password hash protects only
/// guessable secrets). The plain token is shown once, when `colearn token add` issues it.
///
/// One token is one participant identity: the server records the identity with every upload.
/// A revoked line keeps the identity reserved and lets the server say "revoked" instead of
/// "unknown".
public struct TokenFile: Sendable, Equatable {
  public struct Entry: Sendable, Equatable {
    public var name: String
    public var salt: [UInt8]
    public var hash: [UInt8]
    public var revoked: Bool
  }

  public private(set) var entries: [Entry] = []

  public init() {}

  /// Parses the file's text.
  ///
  /// - Throws: ``TokenFileError/malformed(path:line:reason:)`` naming the line.
  public init(text: String, path: String) throws(TokenFileError) {
    var names = Set<String>()
    // "\r\n" is one Character: a file saved with CRLF line ends has lines too.
    let lines = text.split(
      omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
    for (number, rawLine) in lines.enumerated() {
      let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0]
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      if fields.isEmpty { continue }
      func bad(_ reason: String) -> TokenFileError {
        .malformed(path: path, line: number + 1, reason: reason)
      }
      if fields.count == 2, fields[1].hasPrefix("colearn_") {
        throw bad(
          "this line is a participant's token as `colearn token add` prints it (NAME TOKEN), but "
            + "the server's token file holds salted hashes, one `NAME SALT HASH active|revoked` "
            + "line per participant, never a token: give the token to the participant (their "
            + "--token-file) and let `colearn token add NAME --tokens FILE` write this file")
      }
      guard fields.count == 4 else {
        throw bad("expected `NAME SALT HASH active|revoked`, found \(fields.count) fields")
      }
      let name = String(fields[0])
      guard Self.isValidName(name) else { throw bad("bad name \"\(name.prefix(40))\"") }
      guard names.insert(name).inserted else { throw bad("\(name) appears twice") }
      guard let salt = Self.bytes(hex: fields[1]), salt.count == 16 else {
        throw bad("the salt must be 32 hex digits")
      }
      guard let hash = Self.bytes(hex: fields[2]), hash.count == 32 else {
        throw bad("the hash must be 64 hex digits (SHA-256)")
      }
      guard fields[3] == "active" || fields[3] == "revoked" else {
        throw bad("the state must be `active` or `revoked`, found \"\(fields[3].prefix(20))\"")
      }
      entries.append(Entry(name: name, salt: salt, hash: hash, revoked: fields[3] == "revoked"))
    }
  }

  /// Reads `path`; a missing file is an empty list when `missingIsEmpty`.
  public static func load(_ path: String, missingIsEmpty: Bool = false) throws(TokenFileError)
    -> TokenFile
  {
    guard let text = try readText(path) else {
      if missingIsEmpty { return TokenFile() }
      throw .missing(path: path)
    }
    return try TokenFile(text: text, path: path)
  }

  /// The file's text.
  public var text: String {
    var lines = [
      "# colearn participant tokens, written by `colearn token`: NAME SALT HASH STATE,",
      "# HASH = SHA-256(SALT || token) in hex. The tokens themselves are not stored here.",
    ]
    for entry in entries {
      lines.append(
        "\(entry.name) \(Self.hex(entry.salt)) \(Self.hex(entry.hash)) "
          + (entry.revoked ? "revoked" : "active"))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes the file atomically with mode 0600.
  public func write(to path: String) throws(TokenFileError) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { throw .io(path: temporary, errno: errno) }
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, $0.count) }
      if written < 0 {
        if errno == EINTR { continue }
        let failure = errno
        close(fd)
        throw .io(path: temporary, errno: failure)
      }
      offset += written
    }
    let synced = fsync(fd)
    close(fd)
    guard synced == 0 else { throw .io(path: temporary, errno: errno) }
    guard rename(temporary, path) == 0 else { throw .io(path: path, errno: errno) }
  }

  /// Issues a new token for `name` (replacing its old one, or re-activating a revoked name) and
  /// returns it; only its salted hash is kept.
  ///
  /// - Throws: ``TokenFileError/badName(_:)``.
  public mutating func issue(for name: String) throws(TokenFileError) -> String {
    guard Self.isValidName(name) else { throw .badName(name) }
    var random = SystemRandomNumberGenerator()
    let secret = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
    let token = "colearn_" + Self.hex(secret)
    let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
    let entry = Entry(name: name, salt: salt, hash: Self.digest(salt: salt, token: token), revoked: false)
    if let index = entries.firstIndex(where: { $0.name == name }) {
      entries[index] = entry
    } else {
      entries.append(entry)
    }
    return token
  }

  /// Marks `name` revoked; false if there is no such name.
  public mutating func revoke(_ name: String) -> Bool {
    guard let index = entries.firstIndex(where: { $0.name == name }) else { return false }
    entries[index].revoked = true
    return true
  }

  /// Whom `token` belongs to. O(entries) SHA-256 computations (``TokenAuthenticator`` caches).
  public func lookup(_ token: String) -> TokenLookup {
    for entry in entries where Self.constantTimeEqual(Self.digest(salt: entry.salt, token: token), entry.hash) {
      return entry.revoked ? .revoked(entry.name) : .identity(entry.name)
    }
    return .unknown
  }

  /// Identity names: 1 to 64 of letters, digits, `-`, `_`, `.`, `@`.
  public static func isValidName(_ name: String) -> Bool {
    !name.isEmpty && name.utf8.count <= 64
      && name.unicodeScalars.allSatisfy {
        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
          || "-_.@".unicodeScalars.contains($0)
      }
  }

  static func digest(salt: [UInt8], token: String) -> [UInt8] {
    var hasher = SHA256()
    hasher.update(data: salt)
    hasher.update(data: Array(token.utf8))
    return Array(hasher.finalize())
  }

  private static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
  }

  static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  private static func bytes(hex: Substring) -> [UInt8]? {
    let utf8 = Array(hex.utf8)
    guard utf8.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
      default: nil
      }
    }
    var out: [UInt8] = []
    for i in stride(from: 0, to: utf8.count, by: 2) {
      guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
      out.append(high << 4 | low)
    }
    return out
  }

  static func readText(_ path: String) throws(TokenFileError) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 {
      if errno == ENOENT { return nil }
      throw .io(path: path, errno: errno)
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 14)
    while true {
      let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
      if count < 0 {
        if errno == EINTR { continue }
        throw .io(path: path, errno: errno)
      }
      if count == 0 { break }
      bytes += chunk[0..<count]
      if bytes.count > 16 << 20 { throw .malformed(path: path, line: 0, reason: "larger than 16 MiB") }
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// Whom a presented token belongs to.
public enum TokenLookup: Sendable, Equatable {
  case identity(String)
  case revoked(String)
  case unknown
}

/// Why the token file could not be used. Each message names the file and what to do.
public enum TokenFileError: Error, Equatable, Sendable, CustomStringConvertible {
  case missing(path: String)
  case io(path: String, errno: Int32)
  case malformed(path: String, line: Int, reason: String)
  case badName(String)

  public var description: String {
    switch self {
    case .missing(let path):
      return "token file \(path) does not exist; create it with `colearn token add NAME --tokens \(path)`"
    case .io(let path, let errno):
      return "cannot access token file \(path): \(String(cString: strerror(errno)))"
    case .malformed(let path, let line, let reason):
      return "\(path):\(line): \(reason); fix or re-create it with `colearn token`"
    case .badName(let name):
      return "\"\(name.prefix(40))\" is not a valid participant name: use 1 to 64 letters, digits, "
        + "'-', '_', '.', '@'"
    }
  }
}

/// Checks presented tokens against the token file, re-reading it when it changes (revocation
/// takes effect within a second, without a restart), and caching verdicts by the token's
/// unsalted SHA-256 (kept in memory only) so a busy server hashes each token once.
public final class TokenAuthenticator: Sendable {
  private struct Cache {
    var file: TokenFile
    var modified: timespec
    var checked: ContinuousClock.Instant
    var verdicts: [[UInt8]: TokenLookup] = [:]
  }

  public let path: String
  private let cache: Mutex<Cache>
  private let clock = ContinuousClock()

  /// Loads `path`.
  ///
  /// - Throws: ``TokenFileError`` when the file is missing or malformed.
  public init(path: String) throws(TokenFileError) {
    self.path = path
    let file = try TokenFile.load(path)
    cache = Mutex(Cache(file: file, modified: Self.modificationTime(path), checked: ContinuousClock().now))
  }

  /// Whom `token` belongs to, with the file as of at most a second ago.
  public func authenticate(_ token: String) -> TokenLookup {
    let key = Array(SHA256.hash(data: Array(token.utf8)))
    return cache.withLock { cache in
      let now = clock.now
      if now - cache.checked >= .seconds(1) { reload(&cache, now: now) }
      if let verdict = cache.verdicts[key] { return verdict }
      let verdict = cache.file.lookup(token)
      if cache.verdicts.count > 100_000 { cache.verdicts = [:] }
      cache.verdicts[key] = verdict
      return verdict
    }
  }

  /// The names with an active token in the file as it is now (re-read first if it changed):
  /// what the federation checks its members against to free the slots of revoked ones.
  public func activeNames() -> Set<String> {
    cache.withLock { cache in
      reload(&cache, now: clock.now)
      return Set(cache.file.entries.lazy.filter { !$0.revoked }.map(\.name))
    }
  }

  /// Re-reads the file if it changed since it was last read.
  private func reload(_ cache: inout Cache, now: ContinuousClock.Instant) {
    cache.checked = now
    let modified = Self.modificationTime(path)
    if modified.tv_sec != cache.modified.tv_sec || modified.tv_nsec != cache.modified.tv_nsec,
      let file = try? TokenFile.load(path)
    {
      // A malformed or vanished file keeps the last good list (and the operator sees
      // `colearn token` errors when editing it).
      cache.file = file
      cache.modified = modified
      cache.verdicts = [:]
    }
  }

  private static func modificationTime(_ path: String) -> timespec {
    var info = stat()
    guard stat(path, &info) == 0 else { return timespec() }
    return info.st_mtim
  }
}
