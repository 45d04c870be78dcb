import CZlib
import CoLearnWire

/// The write-ahead log's format, as a pure encode/decode pair (no I/O), like the snapshot's.
///
/// `uploads.wal` (all integers little-endian):
/// - a header of 28 bytes: "CLWAL003", the **base** event and sequence number (u64 each: the
///   snapshot the log continues, 0 and 0 for a new federation), and a CRC-32 of the 24 bytes
///   before it (u32);
/// - then records `[payload length u32][CRC-32 of the length and the payload u32][payload]`,
///   payload = kind (u8: 1 upload, 2 decay), event number (u64), and for uploads the sequence
///   number (u64), the round (u64, 0 for none), the participant's name (u16 length + UTF-8) and
///   the SPEC §10 sparse-vector bytes.
///
/// Every event (upload or decay) has the next event number, every upload the next sequence
/// number, so the records of a sound log are numbered base + 1, base + 2, … without a gap.
///
/// **Reading a damaged log.** ``decode(_:dimension:)`` reads record by record. A record is
/// *intact* when its header is complete, its length plausible for the model, its CRC matches,
/// its payload decodes, and its numbers are in order after the last intact record (a later event,
/// a later sequence, and no more new sequences than new events). When the record at some offset
/// is not intact, the decoder **resynchronises**: it tries every later byte offset for an intact
/// record (a false match needs a 32-bit CRC to agree by chance, on top of the structure and the
/// numbering), and goes on from the first it finds. What lies between is a ``Damage``: its
/// offset and length, the numbers before it and those of the intact record after it. Nothing
/// intact after the bad bytes makes them the ``Tail``: *torn* when the file ends inside the
/// record (a write cut short by a crash: never acknowledged), *zero-filled* when every byte is
/// zero (what some file systems leave after a power loss), and *damaged* otherwise (a complete
/// record whose bytes changed).
package enum WriteAheadLog {
  static let magic = Array("CLWAL003".utf8)
  static let headerLength = 28
  static let recordHeaderLength = 8

  /// One record of the log.
  enum Record: Equatable {
    /// An applied upload: its event and sequence number, the participant's round (0 for none),
    /// its name ("" for none) and the update as SPEC §10 bytes.
    case upload(event: UInt64, sequence: UInt64, round: UInt64, name: String, update: [UInt8])
    /// A decay of `stat`.
    case decay(event: UInt64)

    var event: UInt64 {
      switch self {
      case .upload(let event, _, _, _, _), .decay(let event): return event
      }
    }

    var sequence: UInt64? {
      if case .upload(_, let sequence, _, _, _) = self { return sequence }
      return nil
    }
  }

  /// Where the numbering of a log stands: after the last event and upload.
  struct Position: Equatable, Sendable {
    var event: UInt64
    var sequence: UInt64
  }

  /// Bad bytes followed by intact records.
  struct Damage: Equatable, Sendable {
    /// Where the bad bytes start, and how many there are.
    var offset: Int
    var length: Int
    /// The numbers of the last intact record before them (or the base).
    var before: Position
    /// The first intact record after them: its offset, event, and sequence (nil for a decay).
    var nextOffset: Int
    var nextEvent: UInt64
    var nextSequence: UInt64?
  }

  /// Bad bytes at the end of the file, with no intact record after them.
  struct Tail: Equatable, Sendable {
    enum Kind: Equatable, Sendable { case torn, zeroFilled, damaged }
    var kind: Kind
    var offset: Int
    var length: Int
    /// The numbers of the last intact record before them (or the base).
    var before: Position
  }

  /// What ``decode(_:dimension:)`` found.
  struct Contents: Equatable {
    /// The snapshot the log continues.
    var base: Position
    /// Every intact record, in order, with its offset.
    var records: [(offset: Int, record: Record)]
    /// Bad bytes with intact records after them, in file order.
    var damage: [Damage]
    /// Bad bytes at the end, if any.
    var tail: Tail?

    /// The numbers of the last intact record (the base when there is none).
    var end: Position

    static func == (a: Contents, b: Contents) -> Bool {
      a.base == b.base && a.damage == b.damage && a.tail == b.tail && a.end == b.end
        && a.records.map(\.offset) == b.records.map(\.offset)
        && a.records.map(\.record) == b.records.map(\.record)
    }
  }

  /// Why the bytes are not a write-ahead log at all.
  enum HeaderProblem: Error, Equatable {
    /// Fewer bytes than a header.
    case short(length: Int)
    /// Another magic (a foreign file or another version).
    case foreign
    /// The header's checksum does not match.
    case damaged
  }

  // MARK: - Encoding

  /// The header of a log continuing `base`.
  static func header(base: Position) -> [UInt8] {
    var writer = ByteWriter(bytes: magic)
    writer.append(base.event)
    writer.append(base.sequence)
    writer.append(UInt64(crc(writer.bytes[...])), bytes: 4)
    return writer.bytes
  }

  /// The bytes of `record` as appended to the log, framing included.
  static func encode(_ record: Record) -> [UInt8] {
    var writer = ByteWriter()
    writer.append(0)  // the frame: length and CRC, filled in below
    switch record {
    case .upload(let event, let sequence, let round, let name, let update):
      writer.bytes.reserveCapacity(update.count + 48 + name.utf8.count)
      writer.bytes.append(1)
      writer.append(event)
      writer.append(sequence)
      writer.append(round)
      writer.append(name: name)
      writer.bytes.append(contentsOf: update)
    case .decay(let event):
      writer.bytes.append(2)
      writer.append(event)
    }
    let length = writer.bytes.count - recordHeaderLength
    for shift in 0..<4 { writer.bytes[shift] = UInt8(truncatingIfNeeded: length >> (8 * shift)) }
    let checksum = recordChecksum(writer.bytes, at: 0, length: length)
    for shift in 0..<4 {
      writer.bytes[4 + shift] = UInt8(truncatingIfNeeded: checksum >> (8 * shift))
    }
    return writer.bytes
  }

  // MARK: - Decoding

  /// The largest payload a record of a model with `dimension` parameters can have: the fixed
  /// fields, a 255-byte name, and a sparse vector of every position (≤ 10 + 9·|w| bytes).
  static func maximumPayload(dimension: Int) -> Int { 292 + 9 * dimension }

  /// Reads a whole log (see the type's documentation for damage and resynchronisation).
  static func decode(_ bytes: [UInt8], dimension: Int) throws(HeaderProblem) -> Contents {
    guard bytes.count >= headerLength else {
      if bytes.count >= magic.count, Array(bytes[0..<magic.count]) != magic { throw .foreign }
      throw .short(length: bytes.count)
    }
    guard Array(bytes[0..<magic.count]) == magic else { throw .foreign }
    var header = ByteReader(bytes: bytes, offset: magic.count)
    let base = Position(event: header.next(8)!, sequence: header.next(8)!)
    guard UInt32(header.next(4)!) == crc(bytes[0..<(headerLength - 4)]) else { throw .damaged }

    var contents = Contents(base: base, records: [], damage: [], tail: nil, end: base)
    // The event of the last upload (the base's sequence was reached at its event or before):
    // an upload's sequence can be ahead of it by at most the events in between.
    var uploadEvent = base.event
    func intact(at offset: Int) -> (Record, Int)? {
      intactRecord(
        in: bytes, at: offset, after: contents.end, uploadEvent: uploadEvent, dimension: dimension)
    }
    func accept(_ record: Record, at offset: Int) {
      contents.records.append((offset, record))
      if let sequence = record.sequence {
        contents.end = Position(event: record.event, sequence: sequence)
        uploadEvent = record.event
      } else {
        contents.end.event = record.event
      }
    }
    var offset = headerLength
    while offset < bytes.count {
      if let (record, next) = intact(at: offset) {
        if record.event != contents.end.event + 1 {
          // Intact but with a gap in the numbering: records are missing in between.
          contents.damage.append(
            Damage(
              offset: offset, length: 0, before: contents.end, nextOffset: offset,
              nextEvent: record.event, nextSequence: record.sequence))
        }
        accept(record, at: offset)
        offset = next
        continue
      }
      // Resynchronise: the first later offset holding an intact record in order.
      var candidate = offset + 1
      var found: (offset: Int, record: Record, end: Int)?
      while candidate + recordHeaderLength < bytes.count {
        if let (record, end) = intact(at: candidate) {
          found = (candidate, record, end)
          break
        }
        candidate += 1
      }
      guard let found else {
        contents.tail = Tail(
          kind: tailKind(bytes, at: offset, dimension: dimension), offset: offset,
          length: bytes.count - offset, before: contents.end)
        break
      }
      contents.damage.append(
        Damage(
          offset: offset, length: found.offset - offset, before: contents.end,
          nextOffset: found.offset, nextEvent: found.record.event,
          nextSequence: found.record.sequence))
      accept(found.record, at: found.offset)
      offset = found.end
    }
    return contents
  }

  /// The record at `offset` if it is intact and in order after `last` (whose sequence number
  /// was reached at `uploadEvent`), and where the next record starts.
  private static func intactRecord(
    in bytes: [UInt8], at offset: Int, after last: Position, uploadEvent: UInt64, dimension: Int
  ) -> (Record, Int)? {
    guard bytes.count - offset >= recordHeaderLength else { return nil }
    var header = ByteReader(bytes: bytes, offset: offset)
    let length = Int(header.next(4)!)
    let checksum = UInt32(header.next(4)!)
    let start = offset + recordHeaderLength
    guard length >= 9, length <= maximumPayload(dimension: dimension),
      length <= bytes.count - start, bytes[start] == 1 || bytes[start] == 2
    else { return nil }
    var reader = ByteReader(bytes: bytes, offset: start + 1, end: start + length)
    let event = reader.next(8)!
    // Cheap checks first (a resynchronising scan tries every offset): the event must follow the
    // last one, by no more than the records the rest of the file could hold (≥ 17 bytes each).
    guard event > last.event, event - last.event <= UInt64(bytes.count - offset) / 17 + 1,
      recordChecksum(bytes, at: offset, length: length) == checksum
    else { return nil }
    switch bytes[start] {
    case 1:
      guard let sequence = reader.next(8), let round = reader.next(8),
        let name = reader.nextName(),
        sequence > last.sequence, sequence - last.sequence <= event - uploadEvent
      else { return nil }
      let update = Array(bytes[reader.offset..<(start + length)])
      guard let vector = try? SparseCodec.decode(update, dimension: dimension),
        vector.validate(dimension: dimension) == nil
      else { return nil }
      return (
        .upload(event: event, sequence: sequence, round: round, name: name, update: update),
        start + length
      )
    case 2:
      guard length == 9 else { return nil }
      return (.decay(event: event), start + length)
    default:
      return nil
    }
  }

  /// Bad bytes with nothing intact after them: torn when the file ends inside the record they
  /// start, zero-filled when all are zero, damaged otherwise.
  ///
  /// A write cut short leaves a prefix of the record, whose length field (written first) is
  /// plausible: a length beyond any record of the model means damage, not a torn write.
  private static func tailKind(_ bytes: [UInt8], at offset: Int, dimension: Int) -> Tail.Kind {
    if bytes[offset...].allSatisfy({ $0 == 0 }) { return .zeroFilled }
    guard bytes.count - offset >= 4 else { return .torn }
    var header = ByteReader(bytes: bytes, offset: offset)
    let length = Int(header.next(4)!)
    let plausible = length >= 9 && length <= maximumPayload(dimension: dimension)
    let rest = bytes.count - offset - recordHeaderLength
    guard plausible, length > rest else { return .damaged }
    // A complete last record whose length field changed: its checksum (which covers the length)
    // matches the true length, that of the rest of the file.
    if rest >= 9 {
      var header = ByteReader(bytes: bytes, offset: offset + 4)
      let checksum = UInt32(header.next(4)!)
      var candidate = Array(bytes[offset...])
      for shift in 0..<4 { candidate[shift] = UInt8(truncatingIfNeeded: rest >> (8 * shift)) }
      if recordChecksum(candidate, at: 0, length: rest) == checksum { return .damaged }
    }
    return .torn
  }

  /// CRC-32 of a record's length field and payload.
  private static func recordChecksum(_ bytes: [UInt8], at offset: Int, length: Int) -> UInt32 {
    let lengthCRC = crc(bytes[offset..<(offset + 4)])
    let start = offset + recordHeaderLength
    return bytes[start..<(start + length)].withUnsafeBufferPointer { buffer in
      UInt32(
        truncatingIfNeeded: crc32(uLong(lengthCRC), buffer.baseAddress, uInt(buffer.count)))
    }
  }

  package static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.withUnsafeBufferPointer { buffer in
      UInt32(truncatingIfNeeded: crc32(0, buffer.baseAddress, uInt(buffer.count)))
    }
  }
}
