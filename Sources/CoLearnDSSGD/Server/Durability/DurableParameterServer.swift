import CZlib
import CoLearnTensor
import CoLearnWire
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A parameter server whose state survives a crash (SPEC §10): every accepted upload and every
/// stat decay is appended to a write-ahead log and fsync'ed **before** the call returns (so before
/// any acknowledgement), and ``snapshot()`` writes w_global, stat and the counters atomically and
/// empties the log. Opening a state directory recovers snapshot + log; a record torn by a crash
/// in the middle of a write (it was never acknowledged) is dropped.
///
/// Files in the state directory:
/// - `snapshot.bin`: "CLSNAP01", |w| (u64), β (f32), uploads, updated parameters, sequence,
///   events (u64 each), w_global and stat (f32 × |w| each), CRC-32 of all before it (u32); all
///   little-endian.
/// - `uploads.wal`: "CLWAL001", then records [payload length u32][CRC-32 of payload u32][payload],
///   payload = kind (u8: 1 upload, 2 decay), event number (u64), and for uploads the sequence
///   number (u64), the participant (u32) and the SPEC §10 sparse-vector bytes.
///
/// Every record carries its event number, and the snapshot the number of events it contains, so
/// a crash between writing a snapshot and emptying the log never applies a record twice.
///
/// One fsync per upload here; a server under load batches them by calling ``upload(_:participant:)``
/// from one writer (the deployment's concern).
///
/// Threading: all methods may be called from any thread; they serialise on one lock.
public final class DurableParameterServer: ParameterServerClient {
  private struct Locked {
    var state: ParameterServerState
    var selector = MagnitudeSelector()
    var sequence: UInt64
    var events: UInt64
    var log: Int32
  }

  static let snapshotMagic = Array("CLSNAP01".utf8)
  static let logMagic = Array("CLWAL001".utf8)

  /// The state directory.
  public let directory: String
  /// |w|.
  public let dimension: Int
  private let locked: Mutex<Locked>

  private var snapshotPath: String { directory + "/snapshot.bin" }
  private var logPath: String { directory + "/uploads.wal" }

  /// Opens (and recovers) the state in `directory`, or starts it from `initial` when the
  /// directory holds none.
  ///
  /// - Throws: ``DurabilityError`` for I/O failures, foreign or damaged files, or state of a
  ///   model with another |w|.
  public init(directory: String, initial: ParameterServerState) throws(DurabilityError) {
    self.directory = directory
    dimension = initial.dimension
    if mkdir(directory, 0o700) < 0, errno != EEXIST {
      throw .io(path: directory, operation: "create the state directory", errno: errno)
    }
    var state = initial
    var sequence: UInt64 = 0
    var events: UInt64 = 0
    let snapshotPath = directory + "/snapshot.bin"
    if let bytes = try DurableFile.read(snapshotPath) {
      (state, sequence, events) = try Self.decodeSnapshot(
        bytes, path: snapshotPath, expectedDimension: initial.dimension)
    }
    let logPath = directory + "/uploads.wal"
    let (goodLength, recovered) = try Self.replay(
      logPath, into: &state, sequence: &sequence, events: &events)
    let fd = open(logPath, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
    try DurableFile.check(fd, "open", logPath)
    do throws(DurabilityError) {
      if recovered {
        // Drop a torn tail (never acknowledged), so new records follow the last good one.
        try DurableFile.check(ftruncate(fd, off_t(goodLength)), "truncate", logPath)
      } else {
        try DurableFile.check(ftruncate(fd, 0), "truncate", logPath)
        try DurableFile.writeAll(fd, Self.logMagic, path: logPath)
      }
      try DurableFile.check(lseek(fd, 0, SEEK_END), "seek", logPath)
      try DurableFile.check(fsync(fd), "fsync", logPath)
      try DurableFile.syncDirectory(directory)
    } catch {
      close(fd)
      throw error
    }
    locked = Mutex(Locked(state: state, sequence: sequence, events: events, log: fd))
  }

  deinit {
    locked.withLock { _ = close($0.log) }
  }

  /// A copy of the server's state.
  public var state: ParameterServerState { locked.withLock { $0.state } }

  /// The sequence number of the last accepted upload.
  public var sequence: UInt64 { locked.withLock { $0.sequence } }

  public func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>)
    throws -> TransferSize
  {
    precondition(parameters.count == dimension, "|w| is \(dimension), got \(parameters.count)")
    if fraction >= 1 {
      locked.withLock { $0.state.copyParameters(into: parameters) }
      return TransferSize(
        parameters: dimension, bytes: SparseCodec.denseEncodedByteCount(count: dimension))
    }
    let download = locked.withLock { $0.state.download(fraction: fraction, using: &$0.selector) }
    for (index, value) in zip(download.indices, download.values) {
      parameters[Int(index)] = value
    }
    return TransferSize(parameters: download.count, bytes: SparseCodec.encodedByteCount(download))
  }

  public func upload(_ update: SparseVector) throws -> UInt64 {
    try upload(update, participant: 0)
  }

  /// Validates `update`, makes it durable, applies it, and returns its sequence number. Nothing
  /// changes (in memory or on disk) when it is malformed.
  ///
  /// - Throws: ``SparseVectorProblem`` for a malformed update, ``DurabilityError`` when the log
  ///   cannot be written (then nothing was applied either).
  public func upload(_ update: SparseVector, participant: UInt32) throws -> UInt64 {
    if let problem = update.validate(dimension: dimension) { throw problem }
    let encoded = SparseCodec.encode(update)
    return try locked.withLock { locked throws -> UInt64 in
      let sequence = locked.sequence + 1
      var payload: [UInt8] = [1]
      Self.append(locked.events + 1, to: &payload)
      Self.append(sequence, to: &payload)
      Self.append(UInt64(participant), to: &payload, bytes: 4)
      payload += encoded
      try Self.appendRecord(payload, to: locked.log, path: logPath)
      try locked.state.apply(update)
      locked.sequence = sequence
      locked.events += 1
      return sequence
    }
  }

  /// stat := β·stat, made durable first.
  public func decayStatistics() throws(DurabilityError) {
    try locked.withLock { (locked) throws(DurabilityError) in
      var payload: [UInt8] = [2]
      Self.append(locked.events + 1, to: &payload)
      try Self.appendRecord(payload, to: locked.log, path: logPath)
      locked.state.decayStatistics()
      locked.events += 1
    }
  }

  /// Writes the whole state atomically and empties the log.
  public func snapshot() throws(DurabilityError) {
    try locked.withLock { (locked) throws(DurabilityError) in
      try writeSnapshot(locked)
      try DurableFile.check(ftruncate(locked.log, off_t(Self.logMagic.count)), "truncate", logPath)
      try DurableFile.check(lseek(locked.log, 0, SEEK_END), "seek", logPath)
      try DurableFile.check(fsync(locked.log), "fsync", logPath)
    }
  }

  /// Writes the snapshot but leaves the log as it is: what a crash right after the snapshot's
  /// rename leaves behind (for tests of recovery).
  public func snapshotWithoutEmptyingTheLogForTesting() throws(DurabilityError) {
    try locked.withLock { (locked) throws(DurabilityError) in try writeSnapshot(locked) }
  }

  public func beginTurn() throws {}
  public func endTurn() throws {}

  // MARK: - Encoding

  private func writeSnapshot(_ locked: Locked) throws(DurabilityError) {
    let state = locked.state
    var bytes = Self.snapshotMagic
    bytes.reserveCapacity(64 + 8 * dimension)
    Self.append(UInt64(dimension), to: &bytes)
    Self.append(UInt64(state.statDecay.bitPattern), to: &bytes, bytes: 4)
    Self.append(UInt64(state.uploadCount), to: &bytes)
    Self.append(UInt64(state.updatedParameterCount), to: &bytes)
    Self.append(locked.sequence, to: &bytes)
    Self.append(locked.events, to: &bytes)
    for value in state.parameters { Self.append(UInt64(value.bitPattern), to: &bytes, bytes: 4) }
    for value in state.stat { Self.append(UInt64(value.bitPattern), to: &bytes, bytes: 4) }
    Self.append(UInt64(Self.crc(bytes[...])), to: &bytes, bytes: 4)
    try DurableFile.replace(snapshotPath, with: bytes, directory: directory)
  }

  private static func decodeSnapshot(_ bytes: [UInt8], path: String, expectedDimension: Int)
    throws(DurabilityError) -> (ParameterServerState, UInt64, UInt64)
  {
    guard bytes.count >= 8 + 44 + 4, Array(bytes[0..<8]) == snapshotMagic else {
      throw .notAStateFile(path: path)
    }
    var reader = ByteReader(bytes: bytes, offset: 8)
    let dimension = Int(reader.next(8))
    guard dimension == expectedDimension else {
      throw .wrongDimension(path: path, onDisk: dimension, expected: expectedDimension)
    }
    guard bytes.count == 8 + 44 + 8 * dimension + 4 else { throw .corruptSnapshot(path: path) }
    var trailer = ByteReader(bytes: bytes, offset: bytes.count - 4)
    let stored = UInt32(trailer.next(4))
    guard stored == crc(bytes[0..<(bytes.count - 4)]) else { throw .corruptSnapshot(path: path) }
    let decay = Float(bitPattern: UInt32(reader.next(4)))
    let uploads = Int(reader.next(8))
    let updated = Int(reader.next(8))
    let sequence = reader.next(8)
    let events = reader.next(8)
    let parameters = (0..<dimension).map { _ in Float(bitPattern: UInt32(reader.next(4))) }
    let stat = (0..<dimension).map { _ in Float(bitPattern: UInt32(reader.next(4))) }
    guard decay > 0, decay <= 1 else { throw .corruptSnapshot(path: path) }
    let state = ParameterServerState(
      parameters: parameters, stat: stat, statDecay: decay, uploadCount: uploads,
      updatedParameterCount: updated)
    return (state, sequence, events)
  }

  /// Applies the log's complete records after the snapshot's events.
  /// - Returns: the length of the good prefix, and whether the file existed with a valid header.
  private static func replay(
    _ path: String, into state: inout ParameterServerState, sequence: inout UInt64,
    events: inout UInt64
  ) throws(DurabilityError) -> (Int, Bool) {
    guard let bytes = try DurableFile.read(path), bytes.count >= logMagic.count else {
      return (0, false)
    }
    guard Array(bytes[0..<logMagic.count]) == logMagic else { throw .notAStateFile(path: path) }
    var offset = logMagic.count
    while offset + 8 <= bytes.count {
      var header = ByteReader(bytes: bytes, offset: offset)
      let length = Int(header.next(4))
      let checksum = UInt32(header.next(4))
      let start = offset + 8
      guard length >= 9, start + length <= bytes.count,
        crc(bytes[start..<(start + length)]) == checksum
      else { break }  // a torn or damaged tail: never acknowledged
      var reader = ByteReader(bytes: bytes, offset: start + 1)
      let event = reader.next(8)
      if event > events {
        switch bytes[start] {
        case 1:
          let recordSequence = reader.next(8)
          _ = reader.next(4)
          let body = Array(bytes[reader.offset..<(start + length)])
          guard let update = try? SparseCodec.decode(body, dimension: state.dimension),
            (try? state.apply(update)) != nil
          else { throw .notAStateFile(path: path) }
          sequence = recordSequence
        case 2:
          state.decayStatistics()
        default:
          throw .notAStateFile(path: path)
        }
        events = event
      }
      offset = start + length
    }
    return (offset, true)
  }

  private static func appendRecord(_ payload: [UInt8], to fd: Int32, path: String) throws(
    DurabilityError
  ) {
    var record: [UInt8] = []
    record.reserveCapacity(payload.count + 8)
    append(UInt64(payload.count), to: &record, bytes: 4)
    append(UInt64(crc(payload[...])), to: &record, bytes: 4)
    record += payload
    try DurableFile.writeAll(fd, record, path: path)
    try DurableFile.check(fdatasync(fd), "fsync", path)
  }

  private static func append(_ value: UInt64, to bytes: inout [UInt8], bytes count: Int = 8) {
    for shift in 0..<count { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * shift))) }
  }

  private static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.withUnsafeBufferPointer { buffer in
      UInt32(truncatingIfNeeded: crc32(0, buffer.baseAddress, uInt(buffer.count)))
    }
  }
}

/// Little-endian reads from a byte array (bounds checked by the caller's length checks).
private struct ByteReader {
  let bytes: [UInt8]
  var offset: Int

  mutating func next(_ count: Int) -> UInt64 {
    var value: UInt64 = 0
    for i in 0..<count { value |= UInt64(bytes[offset + i]) << (8 * i) }
    offset += count
    return value
  }
}
