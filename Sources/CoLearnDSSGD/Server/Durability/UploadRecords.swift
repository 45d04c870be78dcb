/// Who sent an upload, for the deployed server: the participant's identity (the name its token
/// was issued to) and its round number, the upload's idempotency key.
public struct UploadOrigin: Sendable, Hashable {
  /// The participant's identity; at most 255 bytes of UTF-8.
  public var participant: String
  /// The participant's round (1, 2, …), strictly increasing across its uploads; nil for no
  /// deduplication.
  public var round: UInt64?

  public init(participant: String, round: UInt64?) {
    self.participant = participant
    self.round = round
  }
}

/// What the server answers an accepted upload with.
public struct UploadReceipt: Sendable, Hashable {
  /// The server's sequence number of the upload (1 for the first ever applied).
  public var sequence: UInt64
  /// The (index, value) pairs applied.
  public var appliedEntries: Int
  /// True when the upload repeated an already applied round and was not applied again.
  public var duplicate: Bool
  /// The write-ahead-log event that makes the upload durable: pass it to
  /// ``DurableParameterServer/waitUntilDurable(_:)`` before acknowledging.
  public var event: UInt64

  public init(sequence: UInt64, appliedEntries: Int, duplicate: Bool, event: UInt64) {
    self.sequence = sequence
    self.appliedEntries = appliedEntries
    self.duplicate = duplicate
    self.event = event
  }
}

/// What the server remembers of one participant identity, across restarts.
public struct ParticipantRecord: Sendable, Hashable {
  /// The identity.
  public var name: String
  /// The round of its last applied upload (0: none, or only uploads without a round).
  public var lastRound: UInt64 = 0
  /// The sequence number and applied entries of that upload (for answering a retry).
  public var lastSequence: UInt64 = 0
  public var lastAppliedEntries: UInt64 = 0
  /// The log event of that upload (0 after a restart: everything recovered is durable).
  var lastEvent: UInt64 = 0
  /// Uploads applied, and the (index, value) pairs they carried.
  public var uploads: UInt64 = 0
  public var parametersUploaded: UInt64 = 0

  public init(name: String) { self.name = name }
}

/// Why the server refused a well-formed upload.
public enum UploadRefusal: Error, Equatable, CustomStringConvertible {
  /// The round is lower than one already applied for this participant.
  case staleRound(participant: String, round: UInt64, lastApplied: UInt64)
  /// The identity is empty or longer than 255 bytes.
  case badParticipantName(String)

  public var description: String {
    switch self {
    case .staleRound(let participant, let round, let lastApplied):
      return "upload round \(round) of \(participant) is lower than its last applied round "
        + "\(lastApplied); rounds must increase (re-join to learn the last applied round)"
    case .badParticipantName(let name):
      return "participant identity \"\(name.prefix(40))\" must be 1 to 255 bytes of UTF-8"
    }
  }
}

/// Little-endian encoding helpers for the state files.
package struct ByteWriter {
  package var bytes: [UInt8] = []

  package init(bytes: [UInt8] = []) { self.bytes = bytes }

  package mutating func append(_ value: UInt64, bytes count: Int = 8) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0.prefix(count)) }
  }

  package mutating func append(name: String) {
    let utf8 = Array(name.utf8)
    append(UInt64(utf8.count), bytes: 2)
    bytes += utf8
  }
}

/// Bounds-checked little-endian reads: nil once the bytes run out.
package struct ByteReader {
  package let bytes: [UInt8]
  package var offset: Int
  package let end: Int

  package init(bytes: [UInt8], offset: Int, end: Int? = nil) {
    self.bytes = bytes
    self.offset = offset
    self.end = end ?? bytes.count
  }

  package mutating func next(_ count: Int) -> UInt64? {
    guard count <= end - offset else { return nil }
    var value: UInt64 = 0
    for i in 0..<count { value |= UInt64(bytes[offset + i]) << (8 * i) }
    offset += count
    return value
  }

  /// A name (u16 length + UTF-8); nil when the bytes run out or are not UTF-8 (the writer only
  /// writes Swift strings: repairing them would read another name than was written).
  package mutating func nextName() -> String? {
    guard let length = next(2).map(Int.init), length <= end - offset,
      let name = String(validating: bytes[offset..<(offset + length)], as: UTF8.self)
    else { return nil }
    offset += length
    return name
  }
}
