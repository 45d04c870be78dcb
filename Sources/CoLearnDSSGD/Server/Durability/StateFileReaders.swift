import CZlib
import CoLearnTensor
import CoLearnWire

/// The state files' pure readers (`uploads.wal` and `snapshot.bin`), for the fuzz targets in
/// CoLearnFuzz: each check feeds the reader arbitrary bytes and verifies what it returned — a
/// value or a typed error, never a trap — against the format's invariants, and that what was read
/// encodes back to the same bytes. Package-visible only; not part of the library's API.
package enum StateFileReaders {
  /// What a reader returned that breaks the format's invariants.
  package struct Inconsistency: Error, CustomStringConvertible {
    package var description: String
  }

  // MARK: - Write-ahead log

  /// Reads `bytes` as the `uploads.wal` of a model of `dimension` parameters and checks the
  /// result: the header, the intact records, the damage and the tail partition the file in
  /// order; events and sequence numbers increase; every intact record encodes back to exactly
  /// its bytes; and a log holding only the intact records reads back without damage.
  ///
  /// - Returns: the number of intact records, or nil when the bytes are not a log (a typed
  ///   ``WriteAheadLog/HeaderProblem``).
  package static func checkLog(_ bytes: [UInt8], dimension: Int) throws(Inconsistency) -> Int? {
    func fail(_ what: String) -> Inconsistency {
      Inconsistency(description: "uploads.wal: " + what)
    }
    let contents: WriteAheadLog.Contents
    do {
      contents = try WriteAheadLog.decode(bytes, dimension: dimension)
    } catch {
      return nil
    }
    // The pieces, in file order: records and damage interleave, the tail ends the file.
    var pieces: [(offset: Int, length: Int)] = contents.records.map { entry in
      (entry.offset, WriteAheadLog.encode(entry.record).count)
    }
    pieces += contents.damage.map { ($0.offset, $0.length) }
    if let tail = contents.tail { pieces.append((tail.offset, tail.length)) }
    pieces.sort { $0.offset < $1.offset || ($0.offset == $1.offset && $0.length < $1.length) }
    var covered = WriteAheadLog.headerLength
    for piece in pieces {
      guard piece.offset == covered else {
        throw fail("a piece at offset \(piece.offset), expected \(covered)")
      }
      covered += piece.length
    }
    guard covered == bytes.count else { throw fail("pieces end at \(covered) of \(bytes.count)") }
    if let tail = contents.tail, tail.offset + tail.length != bytes.count {
      throw fail("the tail does not end the file")
    }
    var position = contents.base
    for (offset, record) in contents.records {
      let encoded = WriteAheadLog.encode(record)
      guard Array(bytes[offset..<(offset + encoded.count)]) == encoded else {
        throw fail("the record at \(offset) does not encode back to its bytes")
      }
      guard record.event > position.event else {
        throw fail("event \(record.event) at \(offset) after \(position.event)")
      }
      if let sequence = record.sequence {
        guard sequence > position.sequence else {
          throw fail("sequence \(sequence) at \(offset) after \(position.sequence)")
        }
        position.sequence = sequence
      }
      position.event = record.event
    }
    guard position == contents.end else {
      throw fail("end \(contents.end), records end \(position)")
    }
    // Without damage, the intact records alone (the tail dropped, as recovery does) read back
    // the same. (With damage they need not: the numbering's plausibility bound depends on the
    // bytes that follow a record.)
    guard contents.damage.isEmpty else { return contents.records.count }
    var clean = WriteAheadLog.header(base: contents.base)
    for (_, record) in contents.records { clean += WriteAheadLog.encode(record) }
    let reread: WriteAheadLog.Contents
    do {
      reread = try WriteAheadLog.decode(clean, dimension: dimension)
    } catch {
      throw fail("the intact records alone do not read back (\(error))")
    }
    guard reread.records.map(\.record) == contents.records.map(\.record), reread.tail == nil,
      reread.damage.isEmpty
    else { throw fail("the intact records alone read back differently") }
    return contents.records.count
  }

  /// A sound log of `dimension` parameters: `records` records after `base`, every fifth a
  /// decay, the uploads' updates drawn from `generator` (a fuzzer's seed).
  package static func sampleLog(
    dimension: Int, records: Int, base: (event: UInt64, sequence: UInt64) = (0, 0),
    using generator: inout SeededGenerator
  ) -> [UInt8] {
    var bytes = WriteAheadLog.header(
      base: WriteAheadLog.Position(event: base.event, sequence: base.sequence))
    var event = base.event
    var sequence = base.sequence
    for number in 0..<records {
      event += 1
      if number % 5 == 4 {
        bytes += WriteAheadLog.encode(.decay(event: event))
        continue
      }
      sequence += 1
      let update = sampleUpdate(dimension: dimension, using: &generator)
      bytes += WriteAheadLog.encode(
        .upload(
          event: event, sequence: sequence, round: number % 3 == 0 ? 0 : UInt64(number),
          name: number % 2 == 0 ? "alice" : "", update: SparseCodec.encode(update)))
    }
    return bytes
  }

  /// A sound log holding `updates` as uploads in order (tests: what a build without the
  /// update bounds could have written).
  package static func log(of updates: [SparseVector]) -> [UInt8] {
    var bytes = WriteAheadLog.header(base: WriteAheadLog.Position(event: 0, sequence: 0))
    for (offset, update) in updates.enumerated() {
      let number = UInt64(offset + 1)
      bytes += WriteAheadLog.encode(
        .upload(event: number, sequence: number, round: 0, name: "", update: SparseCodec.encode(update)))
    }
    return bytes
  }

  /// Recomputes every record's CRC where the record's length field fits the bytes (and the
  /// header's), so a fuzzer's mutations reach the payload decoding behind the checksums.
  package static func fixLogChecksums(_ bytes: inout [UInt8]) {
    guard bytes.count >= WriteAheadLog.headerLength else { return }
    let header = WriteAheadLog.crc(bytes[0..<(WriteAheadLog.headerLength - 4)])
    put(UInt64(header), into: &bytes, at: WriteAheadLog.headerLength - 4, count: 4)
    var offset = WriteAheadLog.headerLength
    while bytes.count - offset >= WriteAheadLog.recordHeaderLength {
      var reader = ByteReader(bytes: bytes, offset: offset)
      let length = Int(reader.next(4)!)
      let start = offset + WriteAheadLog.recordHeaderLength
      guard length <= bytes.count - start else { return }
      var checksum = WriteAheadLog.crc(bytes[offset..<(offset + 4)])
      checksum = bytes[start..<(start + length)].withUnsafeBufferPointer { buffer in
        UInt32(truncatingIfNeeded: crc32(uLong(checksum), buffer.baseAddress, uInt(buffer.count)))
      }
      put(UInt64(checksum), into: &bytes, at: offset + 4, count: 4)
      offset = start + length
    }
  }

  // MARK: - Snapshot

  /// Reads `bytes` as the `snapshot.bin` of a model of `dimension` parameters and checks the
  /// result: a state read is finite, of the dimension, and encodes to a snapshot that reads back
  /// to the same state.
  ///
  /// - Returns: the error the reader threw, or nil when it read a state.
  package static func checkSnapshot(_ bytes: [UInt8], dimension: Int) throws(Inconsistency)
    -> DurabilityError?
  {
    func fail(_ what: String) -> Inconsistency {
      Inconsistency(description: "snapshot.bin: " + what)
    }
    var locked = emptyState(dimension: dimension)
    do {
      try DurableParameterServer.decodeSnapshot(
        bytes, path: "snapshot.bin", expectedDimension: dimension, into: &locked)
    } catch {
      return error
    }
    guard locked.state.dimension == dimension, locked.state.stat.count == dimension else {
      throw fail("read a state of |w| = \(locked.state.dimension), expected \(dimension)")
    }
    guard locked.state.parameters.allSatisfy(\.isFinite), locked.state.stat.allSatisfy(\.isFinite)
    else { throw fail("read non-finite parameters or stat") }
    let encoded = DurableParameterServer.encodeSnapshot(locked, dimension: dimension)
    var again = emptyState(dimension: dimension)
    do {
      try DurableParameterServer.decodeSnapshot(
        encoded, path: "snapshot.bin", expectedDimension: dimension, into: &again)
    } catch {
      throw fail("the state read does not read back once written (\(error))")
    }
    guard same(locked, again) else { throw fail("the state read reads back differently") }
    return nil
  }

  /// A sound snapshot of `dimension` parameters with `participants` participant records.
  package static func sampleSnapshot(
    dimension: Int, participants: Int, using generator: inout SeededGenerator
  ) -> [UInt8] {
    var locked = emptyState(dimension: dimension)
    for _ in 0..<3 {
      locked.state.apply(validated: sampleUpdate(dimension: dimension, using: &generator))
    }
    locked.sequence = 3
    locked.events = 4
    locked.roundsCompleted = 1
    locked.uploadsInRound = 2
    for number in 0..<participants {
      var record = ParticipantRecord(name: "p\(number)")
      record.lastRound = UInt64(number + 1)
      record.lastSequence = UInt64(number)
      record.uploads = 2
      locked.participants[record.name] = record
    }
    return DurableParameterServer.encodeSnapshot(locked, dimension: dimension)
  }

  /// Recomputes the snapshot's trailing CRC, so mutations reach the fields behind it.
  package static func fixSnapshotChecksum(_ bytes: inout [UInt8]) {
    guard bytes.count >= 4 else { return }
    let checksum = WriteAheadLog.crc(bytes[0..<(bytes.count - 4)])
    put(UInt64(checksum), into: &bytes, at: bytes.count - 4, count: 4)
  }

  // MARK: - Helpers

  private static func emptyState(dimension: Int) -> DurableParameterServer.Locked {
    DurableParameterServer.Locked(
      state: ParameterServerState(
        parameters: [Float](repeating: 0, count: dimension), statDecay: 0.5),
      sequence: 0, events: 0, roundsCompleted: 0, uploadsInRound: 0, participants: [:],
      logBytes: 0)
  }

  private static func same(
    _ a: DurableParameterServer.Locked, _ b: DurableParameterServer.Locked
  ) -> Bool {
    a.state.parameters.map(\.bitPattern) == b.state.parameters.map(\.bitPattern)
      && a.state.stat.map(\.bitPattern) == b.state.stat.map(\.bitPattern)
      && a.state.statDecay.bitPattern == b.state.statDecay.bitPattern
      && a.state.uploadCount == b.state.uploadCount
      && a.state.updatedParameterCount == b.state.updatedParameterCount
      && a.sequence == b.sequence && a.events == b.events
      && a.roundsCompleted == b.roundsCompleted && a.uploadsInRound == b.uploadsInRound
      && a.participants == b.participants
  }

  private static func sampleUpdate(dimension: Int, using generator: inout SeededGenerator)
    -> SparseVector
  {
    let count = Int.random(in: 1...max(1, min(dimension, 6)), using: &generator)
    let indices = (0..<dimension).shuffled(using: &generator).prefix(count).sorted()
    return SparseVector(
      indices: indices.map { Int32($0) },
      values: indices.map { _ in Float.random(in: -1...1, using: &generator) })
  }

  private static func put(_ value: UInt64, into bytes: inout [UInt8], at offset: Int, count: Int) {
    for shift in 0..<count {
      bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift))
    }
  }
}
