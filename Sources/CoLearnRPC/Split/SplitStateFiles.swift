import CoLearnDSSGD

/// The files of a split coordinator's state directory as pure encode/decode pairs (no I/O; the
/// directory is ``SplitCoordinatorStore``'s). All integers little-endian, floats as their IEEE
/// bits.
///
/// `split.wal`: a header of 20 bytes — "CLSWAL01", the **base** event (u64: the snapshot the
/// log continues, 0 for a new federation) and a CRC-32 of the 16 bytes before it (u32) — then
/// records `[CRC-32 of the rest u32][payload length u32][payload]`, payload = kind (u8), event
/// number (u64, base + 1, base + 2, … without a gap) and the fields of the
/// ``SplitStateRecord``:
/// 1 join: id, identity, name (u16 length + UTF-8 each);
/// 2 step: participant (u32), epoch, samples, feature values, correct (u32 each), loss (f32),
/// ε, S (f64 each), step count (u64), the back (f32 × |back|);
/// 3 publish: participant (u32), sequence (u64), the sealed update (the rest);
/// 4 acknowledge: participant (u32), after, first kept (u64 each);
/// 5 finish, 6 downloaded: participant (u32).
///
/// `split-snapshot.bin`: "CLSPSN01", N (u32), |back| (u64), steps, events, first kept, last
/// sequence (u64 each); the members (u32 count; id, identity, name, acknowledged (u64), flags
/// (u8: 1 finished, 2 downloaded), steps, samples, feature values, labels, sealed updates,
/// sealed bytes (u64 each), ε and S values (u32 count + f64 each)); the relay (u32 count;
/// u32 length + bytes each); the ledger (per-epoch totals, each participant's epoch, the
/// finished, the completed epochs); the back (f32 × |back|); a CRC-32 of all before it (u32).
enum SplitStateFiles {
  static let logName = "split.wal"
  static let snapshotName = "split-snapshot.bin"
  static let settingsName = "split.settings"
  static let logMagic = Array("CLSWAL01".utf8)
  static let snapshotMagic = Array("CLSPSN01".utf8)
  static let logHeaderLength = 20
  static let recordHeaderLength = 8

  /// What bounds a record of this coordinator: the back's size and the largest sealed update.
  struct Limits: Sendable {
    var backCount: Int
    var maxSealedBytes: Int

    /// The exact payload length of a step record.
    var stepPayload: Int { 1 + 8 + 4 * 5 + 4 + 16 + 8 + 4 * backCount }

    /// Whether `length` can be the payload of a record of `kind`: a step's length is exact, the
    /// others are bounded, so a damaged length field is rarely mistaken for a torn write.
    func plausible(kind: UInt8, length: Int) -> Bool {
      switch kind {
      case 1: return length >= 15 && length <= 9 + 3 * (2 + 4096)
      case 2: return length == stepPayload
      case 3: return length > 21 && length <= 21 + maxSealedBytes
      case 4: return length == 29
      case 5, 6: return length == 13
      default: return false
      }
    }
  }

  // MARK: - Write-ahead log

  static func logHeader(base: UInt64) -> [UInt8] {
    var writer = ByteWriter(bytes: logMagic)
    writer.append(base)
    writer.append(UInt64(WriteAheadLog.crc(writer.bytes[...])), bytes: 4)
    return writer.bytes
  }

  /// The bytes of `record` (event `event`) as appended to the log, framing included.
  static func encode(_ record: SplitStateRecord, event: UInt64) -> [UInt8] {
    var writer = ByteWriter(bytes: [0, 0, 0, 0, 0, 0, 0, 0])
    func kind(_ value: UInt8) {
      writer.bytes.append(value)
      writer.append(event)
    }
    switch record {
    case .join(let id, let identity, let name):
      kind(1)
      for text in [id, identity, name] { writer.append(name: text) }
    case .step(let step):
      writer.bytes.reserveCapacity(8 + 4 * step.back.count + 64)
      kind(2)
      for value in [step.member, step.epoch, step.samples, step.featureValues, step.correct] {
        writer.append(UInt64(truncatingIfNeeded: value), bytes: 4)
      }
      writer.append(UInt64(step.loss.bitPattern), bytes: 4)
      writer.append(step.epsilon.bitPattern)
      writer.append(step.sensitivity.bitPattern)
      writer.append(UInt64(step.steps))
      writer.append(floats: step.back)
    case .publish(let member, let sequence, let sealed):
      kind(3)
      writer.append(UInt64(member), bytes: 4)
      writer.append(sequence)
      writer.bytes += sealed
    case .acknowledge(let member, let after, let firstKept):
      kind(4)
      writer.append(UInt64(member), bytes: 4)
      writer.append(after)
      writer.append(firstKept)
    case .finish(let member):
      kind(5)
      writer.append(UInt64(member), bytes: 4)
    case .downloaded(let member):
      kind(6)
      writer.append(UInt64(member), bytes: 4)
    }
    let length = writer.bytes.count - recordHeaderLength
    for shift in 0..<4 { writer.bytes[4 + shift] = UInt8(truncatingIfNeeded: length >> (8 * shift)) }
    let checksum = WriteAheadLog.crc(writer.bytes[4...])
    for shift in 0..<4 { writer.bytes[shift] = UInt8(truncatingIfNeeded: checksum >> (8 * shift)) }
    return writer.bytes
  }

  /// What ``decodeLog(_:path:limits:)`` found.
  struct Log: Equatable {
    var base: UInt64
    var records: [(offset: Int, event: UInt64, record: SplitStateRecord)]
    /// A torn last record (the file ends inside it, or in zero bytes that follow less than its
    /// header, or in at least 512 zero bytes running to the end of the file): where it
    /// starts; it is dropped.
    var tornOffset: Int?
    /// Where the intact records end.
    var end: Int

    static func == (a: Log, b: Log) -> Bool {
      a.base == b.base && a.tornOffset == b.tornOffset && a.end == b.end
        && a.records.map(\.offset) == b.records.map(\.offset)
        && a.records.map(\.event) == b.records.map(\.event)
        && a.records.map(\.record) == b.records.map(\.record)
    }
  }

  /// Reads a whole log: every record must be intact and numbered in order, except a torn last
  /// one (a write cut short by a crash, never acknowledged; a power loss can also leave zeros
  /// where its end should be).
  ///
  /// - Throws: ``SplitStateError/corrupt(path:offset:reason:)`` naming the first bad byte
  ///   offset otherwise.
  static func decodeLog(_ bytes: [UInt8], path: String, limits: Limits) throws(SplitStateError)
    -> Log
  {
    func corrupt(_ offset: Int, _ reason: String) -> SplitStateError {
      .corrupt(path: path, offset: offset, reason: reason)
    }
    guard bytes.count >= logHeaderLength, Array(bytes[0..<8]) == logMagic else {
      if bytes.count >= 8, Array(bytes[0..<8]) != logMagic {
        throw .notAStateFile(path: path)
      }
      throw corrupt(0, "the header is cut short (\(bytes.count) of \(logHeaderLength) bytes)")
    }
    var header = ByteReader(bytes: bytes, offset: 8)
    let base = header.next(8)!
    guard UInt32(header.next(4)!) == WriteAheadLog.crc(bytes[0..<16]) else {
      throw corrupt(0, "the header's checksum does not match")
    }
    var log = Log(base: base, records: [], tornOffset: nil, end: logHeaderLength)
    var offset = logHeaderLength
    var event = base
    // Where the trailing zero bytes start: what a power loss can leave after the last write.
    let zerosFrom = (bytes.lastIndex { $0 != 0 } ?? -1) + 1
    while offset < bytes.count {
      let rest = bytes.count - offset
      if rest < recordHeaderLength + 9 {
        log.tornOffset = offset
        break
      }
      var reader = ByteReader(bytes: bytes, offset: offset)
      let checksum = UInt32(reader.next(4)!)
      let length = Int(reader.next(4)!)
      let kind = bytes[offset + recordHeaderLength]
      guard limits.plausible(kind: kind, length: length) else {
        // Zeros from within the header to the end of the file: a write cut short and
        // zero-filled by a power loss (an intact record may end in zeros, but was read above).
        if zerosFrom - offset < recordHeaderLength + 9 {
          log.tornOffset = offset
          break
        }
        throw corrupt(offset, "a record of kind \(kind) with \(length) bytes cannot be")
      }
      var fields = ByteReader(
        bytes: bytes, offset: offset + recordHeaderLength + 1,
        end: min(bytes.count, offset + recordHeaderLength + length))
      let number = fields.next(8)
      if length > rest - recordHeaderLength {
        // The file ends inside the record: torn, unless its start says it is not the next one.
        guard number == nil || number == event + 1 else {
          throw corrupt(offset, "a record cut short numbered \(number!) after event \(event)")
        }
        log.tornOffset = offset
        break
      }
      guard checksum == WriteAheadLog.crc(bytes[(offset + 4)..<(offset + 8 + length)]) else {
        // The last record ending in a block of zeros (at least a sector's worth, to the end of
        // the file) was cut short by a power loss; zeros inside a record are otherwise data.
        if offset + recordHeaderLength + length - zerosFrom >= 512, number == event + 1 {
          log.tornOffset = offset
          break
        }
        throw corrupt(offset, "the record's checksum does not match")
      }
      guard number == event + 1 else {
        throw corrupt(offset, "record numbered \(number ?? 0) after event \(event)")
      }
      guard let record = decodeFields(kind: kind, &fields, limits: limits) else {
        throw corrupt(offset, "the fields of a record of kind \(kind) do not decode")
      }
      event += 1
      log.records.append((offset, event, record))
      offset += recordHeaderLength + length
      log.end = offset
    }
    return log
  }

  private static func decodeFields(kind: UInt8, _ reader: inout ByteReader, limits: Limits)
    -> SplitStateRecord?
  {
    func int(_ count: Int) -> Int? { reader.next(count).flatMap { Int(exactly: $0) } }
    switch kind {
    case 1:
      guard let id = reader.nextName(), let identity = reader.nextName(),
        let name = reader.nextName(), reader.offset == reader.end
      else { return nil }
      return .join(id: id, identity: identity, name: name)
    case 2:
      guard let member = int(4), let epoch = int(4), let samples = int(4),
        let featureValues = int(4), let correct = int(4), let loss = reader.next(4),
        let epsilon = reader.next(8), let sensitivity = reader.next(8), let steps = int(8),
        let back = reader.nextFloats(limits.backCount), reader.offset == reader.end
      else { return nil }
      return .step(
        SplitStateRecord.Step(
          member: member, epoch: epoch, samples: samples, featureValues: featureValues,
          loss: Float(bitPattern: UInt32(loss)), correct: correct,
          epsilon: Double(bitPattern: epsilon), sensitivity: Double(bitPattern: sensitivity),
          steps: steps, back: back))
    case 3:
      guard let member = int(4), let sequence = reader.next(8) else { return nil }
      let sealed = Array(reader.bytes[reader.offset..<reader.end])
      return .publish(member: member, sequence: sequence, sealed: sealed)
    case 4:
      guard let member = int(4), let after = reader.next(8), let kept = reader.next(8) else {
        return nil
      }
      return .acknowledge(member: member, after: after, firstKept: kept)
    case 5, 6:
      guard let member = int(4) else { return nil }
      return kind == 5 ? .finish(member: member) : .downloaded(member: member)
    default:
      return nil
    }
  }

  // MARK: - Snapshot

  static func encodeSnapshot(_ state: SplitCoordinatorState) -> [UInt8] {
    var writer = ByteWriter(bytes: snapshotMagic)
    writer.bytes.reserveCapacity(
      4 * state.back.count + state.relay.reduce(0) { $0 + $1.count + 4 } + 4096)
    writer.append(UInt64(state.participants), bytes: 4)
    writer.append(UInt64(state.back.count))
    for value in [UInt64(state.steps), state.events, state.firstKept, state.lastSequence] {
      writer.append(value)
    }
    writer.append(UInt64(state.members.count), bytes: 4)
    for member in state.members {
      for text in [member.id, member.identity, member.name] { writer.append(name: text) }
      writer.append(member.acknowledged)
      writer.bytes.append((member.finished ? 1 : 0) | (member.downloadedBack ? 2 : 0))
      let receipt = member.receipt
      for value in [
        receipt.steps, receipt.samples, receipt.featureValues, receipt.labels,
        receipt.sealedUpdates, receipt.sealedBytes,
      ] {
        writer.append(UInt64(value))
      }
      for values in [receipt.epsilons, receipt.sensitivities] {
        writer.append(UInt64(values.count), bytes: 4)
        for value in values.sorted() { writer.append(value.bitPattern) }
      }
    }
    writer.append(UInt64(state.relay.count), bytes: 4)
    for sealed in state.relay {
      writer.append(UInt64(sealed.count), bytes: 4)
      writer.bytes += sealed
    }
    let tally = state.tally
    writer.append(UInt64(tally.totals.count), bytes: 4)
    for (epoch, totals) in tally.totals.sorted(by: { $0.key < $1.key }) {
      writer.append(UInt64(epoch), bytes: 4)
      writer.append(UInt64(totals.participants.count), bytes: 4)
      for id in totals.participants.sorted() { writer.append(name: id) }
      for value in [totals.steps, totals.samples, totals.correct] { writer.append(UInt64(value)) }
      writer.append(totals.lossSum.bitPattern)
    }
    writer.append(UInt64(tally.epochOf.count), bytes: 4)
    for (id, epoch) in tally.epochOf.sorted(by: { $0.key < $1.key }) {
      writer.append(name: id)
      writer.append(UInt64(epoch), bytes: 4)
    }
    writer.append(UInt64(tally.finished.count), bytes: 4)
    for id in tally.finished.sorted() { writer.append(name: id) }
    writer.append(UInt64(tally.completed.count), bytes: 4)
    for summary in tally.completed {
      for value in [summary.epoch, summary.participants, summary.steps, summary.samples] {
        writer.append(UInt64(value))
      }
      writer.append(summary.meanLoss.bitPattern)
      writer.append(summary.accuracy.bitPattern)
    }
    writer.append(floats: state.back)
    writer.append(UInt64(WriteAheadLog.crc(writer.bytes[...])), bytes: 4)
    return writer.bytes
  }

  /// Reads a snapshot of a coordinator of `participants` with a back of `limits.backCount`.
  ///
  /// - Throws: ``SplitStateError`` naming the file and the offset of the first bad field.
  static func decodeSnapshot(
    _ bytes: [UInt8], path: String, participants: Int, limits: Limits
  ) throws(SplitStateError) -> SplitCoordinatorState {
    guard bytes.count >= 8, Array(bytes[0..<8]) == snapshotMagic else {
      throw .notAStateFile(path: path)
    }
    var trailer = ByteReader(bytes: bytes, offset: max(0, bytes.count - 4))
    guard bytes.count >= 12,
      trailer.nextUInt32() == WriteAheadLog.crc(bytes[0..<(bytes.count - 4)])
    else {
      throw .corrupt(
        path: path, offset: max(0, bytes.count - 4), reason: "the checksum does not match")
    }
    var reader = ByteReader(bytes: bytes, offset: 8, end: bytes.count - 4)
    var state = SplitCoordinatorState(back: [], participants: participants)
    if let problem = readSnapshot(&reader, into: &state, participants: participants, limits: limits) {
      throw .corrupt(path: path, offset: reader.offset, reason: problem)
    }
    return state
  }

  /// Fills `state` from the reader; returns what is wrong at the reader's offset, if anything.
  private static func readSnapshot(
    _ reader: inout ByteReader, into state: inout SplitCoordinatorState, participants: Int,
    limits: Limits
  ) -> String? {
    let cut = "the file ends inside a field"
    func int(_ count: Int) -> Int? { reader.next(count).flatMap { Int(exactly: $0) } }
    guard let n = int(4), let backCount = int(8) else { return cut }
    guard n == participants, backCount == limits.backCount else {
      return "a federation of \(n) participants with a back of \(backCount) parameters, not "
        + "\(participants) and \(limits.backCount)"
    }
    guard let steps = int(8), let events = reader.next(8), let firstKept = reader.next(8),
      let lastSequence = reader.next(8), let memberCount = int(4)
    else { return cut }
    guard memberCount <= n, firstKept >= 1, firstKept <= lastSequence + 1 else {
      return "\(memberCount) members, relay \(firstKept)…\(lastSequence)"
    }
    state.steps = steps
    state.events = events
    state.firstKept = firstKept
    state.lastSequence = lastSequence
    for _ in 0..<memberCount {
      guard let id = reader.nextName(), let identity = reader.nextName(),
        let name = reader.nextName(), let acknowledged = reader.next(8), let flags = reader.next(1)
      else { return cut }
      var member = SplitCoordinatorState.Member(id: id, identity: identity, name: name)
      member.acknowledged = acknowledged
      member.finished = flags & 1 != 0
      member.downloadedBack = flags & 2 != 0
      guard let steps = int(8), let samples = int(8), let values = int(8), let labels = int(8),
        let sealedUpdates = int(8), let sealedBytes = int(8)
      else { return cut }
      member.receipt.steps = steps
      member.receipt.samples = samples
      member.receipt.featureValues = values
      member.receipt.labels = labels
      member.receipt.sealedUpdates = sealedUpdates
      member.receipt.sealedBytes = sealedBytes
      for set in [\SplitReceipt.epsilons, \SplitReceipt.sensitivities] {
        guard let count = int(4), count <= reader.end - reader.offset else { return cut }
        for _ in 0..<count {
          guard let bits = reader.next(8) else { return cut }
          member.receipt[keyPath: set].insert(Double(bitPattern: bits))
        }
      }
      state.members.append(member)
    }
    guard let relayCount = int(4), UInt64(relayCount) == lastSequence + 1 - firstKept else {
      return "the relay does not hold updates \(firstKept)…\(lastSequence)"
    }
    for _ in 0..<relayCount {
      guard let length = int(4), length <= reader.end - reader.offset else { return cut }
      state.relay.append(Array(reader.bytes[reader.offset..<(reader.offset + length)]))
      reader.offset += length
    }
    guard let totalsCount = int(4) else { return cut }
    for _ in 0..<totalsCount {
      guard let epoch = int(4), let count = int(4), count <= n else { return cut }
      var totals = SplitEpochTally.Totals()
      for _ in 0..<count {
        guard let id = reader.nextName() else { return cut }
        totals.participants.insert(id)
      }
      guard let steps = int(8), let samples = int(8), let correct = int(8),
        let loss = reader.next(8)
      else { return cut }
      (totals.steps, totals.samples, totals.correct) = (steps, samples, correct)
      totals.lossSum = Double(bitPattern: loss)
      state.tally.totals[epoch] = totals
    }
    guard let epochCount = int(4), epochCount <= n else { return cut }
    for _ in 0..<epochCount {
      guard let id = reader.nextName(), let epoch = int(4) else { return cut }
      state.tally.epochOf[id] = epoch
    }
    guard let finishedCount = int(4), finishedCount <= n else { return cut }
    for _ in 0..<finishedCount {
      guard let id = reader.nextName() else { return cut }
      state.tally.finished.insert(id)
    }
    guard let completedCount = int(4), completedCount <= reader.end - reader.offset else {
      return cut
    }
    for _ in 0..<completedCount {
      guard let epoch = int(8), let participants = int(8), let steps = int(8),
        let samples = int(8), let loss = reader.next(8), let accuracy = reader.next(8)
      else { return cut }
      state.tally.completed.append(
        SplitEpochSummary(
          epoch: epoch, participants: participants, steps: steps, samples: samples,
          meanLoss: Double(bitPattern: loss), accuracy: Double(bitPattern: accuracy)))
    }
    guard let back = reader.nextFloats(backCount), reader.offset == reader.end else {
      return "the back does not take the rest of the file"
    }
    if let bad = back.firstIndex(where: { !$0.isFinite }) {
      return "back parameter \(bad) is \(back[bad])"
    }
    state.back = back
    return nil
  }
}

extension ByteWriter {
  /// `values` as their IEEE bits, little-endian (every platform colearn builds for).
  mutating func append(floats values: [Float]) {
    values.withUnsafeBytes { bytes += $0 }
  }
}

extension ByteReader {
  /// `count` floats, or nil when fewer bytes remain.
  mutating func nextFloats(_ count: Int) -> [Float]? {
    guard count >= 0, 4 * count <= end - offset else { return nil }
    var values = [Float](repeating: 0, count: count)
    let start = offset
    values.withUnsafeMutableBytes { target in
      bytes.withUnsafeBytes { source in
        target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + 4 * count)]))
      }
    }
    offset += 4 * count
    return values
  }

  mutating func nextUInt32() -> UInt32? { next(4).map(UInt32.init) }
}
