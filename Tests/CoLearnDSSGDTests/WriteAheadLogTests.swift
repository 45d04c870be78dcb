import CoLearnDSSGD
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

/// The log reader on records whose checksum matches but whose contents the server never writes
/// (found by fuzzing, docs/FUZZING.md).
@Suite struct WriteAheadLogTests {
  let initial = ParameterServerState(parameters: [1, 2, 3, 4, 5], statDecay: 0.5)

  /// A participant name that is not UTF-8 was read with U+FFFD in place of the bad bytes: the
  /// server replayed the upload under another name than was written. Such a record is not one
  /// the server wrote: it is damage, refused like any other.
  @Test func aNameThatIsNotUTF8IsDamageNotAnotherName() throws {
    let root = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: root) }
    let path = root.appendingPathComponent("state").path
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      for name in ["alice", "bob"] {
        _ = try server.upload(
          SparseVector(indices: [1], values: [0.5]),
          origin: UploadOrigin(participant: name, round: 1))
      }
    }
    let logURL = URL(fileURLWithPath: path + "/uploads.wal")
    var log = [UInt8](try Data(contentsOf: logURL))
    // The first record: at 28, its u32 length and CRC, then kind, event, sequence, round, the
    // name's u16 length at 28 + 8 + 25, and the name.
    let first = 28
    let length = Int(log[first]) | Int(log[first + 1]) << 8
    #expect(log[(first + 35)...].starts(with: Array("alice".utf8)))
    log[first + 35] = 0xFF
    let checksum = crc32(log[first..<(first + 4)] + log[(first + 8)..<(first + 8 + length)])
    putLittleEndian(UInt64(checksum), into: &log, at: first + 4, width: 4)
    try Data(log).write(to: logURL)
    #expect(
      throws: DurabilityError.damagedLog(
        LogDamage(
          path: path + "/uploads.wal", offset: first, length: 8 + length, sequenceBefore: 0,
          eventBefore: 0, sequenceAfter: 2, eventAfter: 2))
    ) {
      try DurableParameterServer(directory: path, initial: initial)
    }
  }
}
