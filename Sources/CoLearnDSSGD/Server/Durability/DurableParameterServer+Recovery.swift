import CoLearnWire

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Opening a state directory: consistency checks, settings, replay, torn tails and repair; and
/// the snapshot's pure encode/decode pair.
extension DurableParameterServer {
  struct Opened {
    var locked: Locked
    var log: Int32
    var report: RecoveryReport
  }

  /// Checks and replays the state in `directory` (whose lock the caller holds), or creates a new
  /// one in an empty directory; returns it with the log open for appending.
  static func recover(directory: String, initial: ParameterServerState, options: StateOpenOptions)
    throws(DurabilityError) -> Opened
  {
    let snapshotPath = directory + "/" + StateDirectory.snapshotName
    let logPath = directory + "/" + StateDirectory.logName
    let settingsPath = directory + "/" + StateDirectory.settingsName
    var report = RecoveryReport()
    var locked = Locked(
      state: initial, sequence: 0, events: 0, roundsCompleted: 0, uploadsInRound: 0,
      participants: [:], logBytes: WriteAheadLog.headerLength)
    let entries = try StateDirectory.entries(directory)
    let temporaries = entries.filter { $0.hasSuffix(".tmp") }

    guard entries.contains(StateDirectory.logName) else {
      if entries.contains(StateDirectory.snapshotName) {
        throw .inconsistentState(directory: directory, problem: .logMissing)
      }
      // Only the log's own temporary file may be there: its creation was interrupted.
      guard entries.allSatisfy({ $0 == StateDirectory.logName + ".tmp" }) else {
        throw .inconsistentState(directory: directory, problem: .noLog(entries: entries))
      }
      for name in temporaries {
        try StateDirectory.remove(directory + "/" + name, directory: directory)
        report.removedTemporaries.append(name)
      }
      // A new federation: the log first, then its settings (a crash in between leaves a log
      // without records and without settings, which the next start completes).
      try DurableFile.replace(
        logPath, with: WriteAheadLog.header(base: WriteAheadLog.Position(event: 0, sequence: 0)),
        directory: directory)
      if let settings = options.settings {
        try DurableFile.replace(
          settingsPath, with: StateDirectory.encodeSettings(settings.values), directory: directory)
      }
      return Opened(
        locked: locked, log: try DurableFile.openLog(logPath, length: nil, directory: directory),
        report: report)
    }
    let hasSnapshot = entries.contains(StateDirectory.snapshotName)
    let bytes = try DurableFile.read(logPath) ?? []
    // The settings first: another model makes the files unreadable as this one's.
    let newSettings = try settingsToRecord(
      options, path: settingsPath, directory: directory,
      isNew: !hasSnapshot && bytes.count == WriteAheadLog.headerLength, report: &report)
    if let bytes = try DurableFile.read(snapshotPath) {
      try decodeSnapshot(
        bytes, path: snapshotPath, expectedDimension: initial.dimension, into: &locked)
    }
    let contents: WriteAheadLog.Contents
    do {
      contents = try WriteAheadLog.decode(bytes, dimension: initial.dimension)
    } catch {
      if error == .foreign { throw .notAStateFile(path: logPath) }
      throw .inconsistentState(
        directory: directory, problem: .logHeaderDamaged(length: bytes.count))
    }
    if !hasSnapshot, contents.base.event > 0 {
      throw .inconsistentState(
        directory: directory,
        problem: .snapshotMissing(event: contents.base.event, sequence: contents.base.sequence))
    }
    if contents.base.event > locked.events {
      throw .inconsistentState(
        directory: directory,
        problem: .snapshotBehindLog(logBase: contents.base.event, snapshot: locked.events))
    }

    // Damage whose lost events the snapshot does not hold may have held acknowledged uploads.
    let snapshotEvents = locked.events
    let damage = contents.damage.filter { $0.nextEvent > snapshotEvents + 1 }
    let damagedTail = contents.tail.flatMap { $0.kind == .damaged ? $0 : nil }
    if !options.repair {
      if let first = damage.first {
        throw .damagedLog(
          LogDamage(
            path: logPath, offset: first.offset, length: first.length,
            sequenceBefore: first.before.sequence, eventBefore: first.before.event,
            sequenceAfter: first.nextSequence, eventAfter: first.nextEvent))
      }
      if let tail = damagedTail {
        throw .damagedLog(
          LogDamage(
            path: logPath, offset: tail.offset, length: tail.length,
            sequenceBefore: tail.before.sequence, eventBefore: tail.before.event,
            sequenceAfter: nil, eventAfter: nil))
      }
    }

    // The state checks out: from here on, everything done is reported (and logged by the caller).
    for name in temporaries {
      try StateDirectory.remove(directory + "/" + name, directory: directory)
      report.removedTemporaries.append(name)
    }
    for (_, record) in contents.records where record.event > locked.events {
      try apply(record, to: &locked, path: logPath)
    }
    // A build before the update bounds (issue 19 item 3) could apply an upload that made a
    // parameter infinite; such a state would serve Inf to every participant forever.
    let parameters = locked.state.parameters
    if let first = parameters.firstIndex(where: { !$0.isFinite }) {
      throw .inconsistentState(
        directory: directory,
        problem: .nonFiniteParameters(
          count: parameters.lazy.filter { !$0.isFinite }.count, firstIndex: first,
          sequence: locked.sequence))
    }
    // After a restart everything recovered is durable: retries wait for nothing.
    for name in locked.participants.keys { locked.participants[name]?.lastEvent = 0 }
    if let values = newSettings {
      try DurableFile.replace(
        settingsPath, with: StateDirectory.encodeSettings(values), directory: directory)
    }
    let end = WriteAheadLog.Position(event: locked.events, sequence: locked.sequence)

    if options.repair, !damage.isEmpty || damagedTail != nil {
      report.losses = losses(damage, damagedTail, in: contents)
      // Keep the damaged file under another name, then put the recovered state in a snapshot
      // and start the log afresh after it. A crash before the last step leaves the damaged
      // log in place: the next start refuses it again and --repair repeats the same repair.
      report.damagedLogMovedTo = try moveAside(logPath, directory: directory)
      try DurableFile.replace(
        snapshotPath, with: encodeSnapshot(locked, dimension: initial.dimension),
        directory: directory)
      try DurableFile.replace(
        logPath, with: WriteAheadLog.header(base: end), directory: directory)
      return Opened(
        locked: locked, log: try DurableFile.openLog(logPath, length: nil, directory: directory),
        report: report)
    }

    if let tail = contents.tail, tail.kind != .damaged {
      report.droppedTailOffset = tail.offset
      report.droppedTailLength = tail.length
    }
    if contents.end.event <= snapshotEvents, contents.base != end {
      // The snapshot holds everything in the log (a crash between writing a snapshot and
      // emptying the log): start the log afresh after it.
      try DurableFile.replace(
        logPath, with: WriteAheadLog.header(base: end), directory: directory)
      return Opened(
        locked: locked, log: try DurableFile.openLog(logPath, length: nil, directory: directory),
        report: report)
    }
    let length = contents.tail?.offset ?? bytes.count
    locked.logBytes = length
    return Opened(
      locked: locked, log: try DurableFile.openLog(logPath, length: length, directory: directory),
      report: report)
  }

  /// The settings to write once the state checks out, or nil to leave the file as it is.
  ///
  /// - Throws: when the settings differ from the recorded ones (or none are recorded for a state
  ///   that has uploads) and `options` does not allow a change.
  private static func settingsToRecord(
    _ options: StateOpenOptions, path: String, directory: String, isNew: Bool,
    report: inout RecoveryReport
  ) throws(DurabilityError) -> [String: String]? {
    guard let settings = options.settings else { return nil }
    let recorded = try DurableFile.read(path).map { bytes throws(DurabilityError) in
      try StateDirectory.decodeSettings(bytes, path: path)
    }
    if recorded == nil, !isNew, !options.allowSettingsChange {
      throw .inconsistentState(directory: directory, problem: .settingsMissing)
    }
    let changes = settings.changes(from: recorded ?? [:])
    guard !changes.isEmpty else { return nil }
    if recorded != nil {
      let fixed = changes.filter { settings.fixed.contains($0.key) }
      if !fixed.isEmpty { throw .settingsChanged(path: path, changes: fixed, changeable: false) }
      guard options.allowSettingsChange else {
        throw .settingsChanged(path: path, changes: changes, changeable: true)
      }
    }
    report.settingsChanges = changes
    return settings.values
  }

  /// What a repair loses: per damage, the sequence numbers between the intact records around it
  /// (up to the next upload kept), and the stat decays among the lost events.
  private static func losses(
    _ damage: [WriteAheadLog.Damage], _ tail: WriteAheadLog.Tail?,
    in contents: WriteAheadLog.Contents
  ) -> [RecoveryReport.Loss] {
    var losses: [RecoveryReport.Loss] = damage.map { damage in
      let first = damage.before.sequence + 1
      guard
        let next = contents.records.first(where: {
          $0.offset >= damage.nextOffset && $0.record.sequence != nil
        })?.record.sequence
      else {
        return RecoveryReport.Loss(offset: damage.offset, first: first, last: nil, decays: nil)
      }
      // Every lost upload lies in the gap of events before the next intact record (records kept
      // between it and the next upload are decays): the rest of the gap were decays.
      let lostUploads = next - first
      let lostEvents = damage.nextEvent - damage.before.event - 1
      return RecoveryReport.Loss(
        offset: damage.offset, first: first, last: next - 1,
        decays: lostEvents >= lostUploads ? lostEvents - lostUploads : nil)
    }
    if let tail {
      losses.append(
        RecoveryReport.Loss(
          offset: tail.offset, first: tail.before.sequence + 1, last: nil, decays: nil))
    }
    return losses
  }

  /// Links the damaged log under a new name, `uploads.wal.damaged-UNIXTIME` (a hard link, so
  /// that no moment is without a log); the caller then replaces `path`.
  private static func moveAside(_ path: String, directory: String) throws(DurabilityError)
    -> String
  {
    let stamp = time(nil)
    for attempt in 0..<100 {
      let aside =
        path + StateDirectory.damagedInfix + "\(stamp)" + (attempt > 0 ? "-\(attempt)" : "")
      if link(path, aside) == 0 {
        try DurableFile.syncDirectory(directory)
        return aside
      }
      if errno != EEXIST { throw .io(path: aside, operation: "link", errno: errno) }
    }
    throw .io(
      path: path + StateDirectory.damagedInfix + "\(stamp)", operation: "link", errno: EEXIST)
  }


  /// Applies one intact log record.
  private static func apply(_ record: WriteAheadLog.Record, to locked: inout Locked, path: String)
    throws(DurabilityError)
  {
    switch record {
    case .upload(let event, let sequence, let round, let name, let bytes):
      guard let update = try? SparseCodec.decode(bytes, dimension: locked.state.dimension) else {
        throw .notAStateFile(path: path)  // checked by the decoder already
      }
      apply(update, sequence: sequence, round: round, name: name, event: event, to: &locked)
    case .decay(let event):
      applyDecay(event: event, to: &locked)
    }
  }

  // MARK: - Snapshot codec

  /// The bytes of `snapshot.bin` for `locked` (format in the type's documentation).
  static func encodeSnapshot(_ locked: Locked, dimension: Int) -> [UInt8] {
    let state = locked.state
    var writer = ByteWriter(bytes: snapshotMagic)
    writer.bytes.reserveCapacity(128 + 8 * dimension + 64 * locked.participants.count)
    writer.append(UInt64(dimension))
    writer.append(UInt64(state.statDecay.bitPattern), bytes: 4)
    for value in [
      UInt64(state.uploadCount), UInt64(state.updatedParameterCount), locked.sequence,
      locked.events, locked.roundsCompleted, locked.uploadsInRound,
    ] {
      writer.append(value)
    }
    writer.append(UInt64(locked.participants.count), bytes: 4)
    for record in locked.participants.values.sorted(by: { $0.name < $1.name }) {
      writer.append(name: record.name)
      for value in [
        record.lastRound, record.lastSequence, record.lastAppliedEntries, record.uploads,
        record.parametersUploaded,
      ] {
        writer.append(value)
      }
    }
    for value in state.parameters { writer.append(UInt64(value.bitPattern), bytes: 4) }
    for value in state.stat { writer.append(UInt64(value.bitPattern), bytes: 4) }
    writer.append(UInt64(WriteAheadLog.crc(writer.bytes[...])), bytes: 4)
    return writer.bytes
  }
  static func decodeSnapshot(
    _ bytes: [UInt8], path: String, expectedDimension: Int, into locked: inout Locked
  ) throws(DurabilityError) {
    guard bytes.count >= 8 + 8 + 4, Array(bytes[0..<8]) == snapshotMagic else {
      throw .notAStateFile(path: path)
    }
    func corrupt(_ reason: String) -> DurabilityError { .corruptSnapshot(path: path, reason: reason) }
    var reader = ByteReader(bytes: bytes, offset: 8, end: bytes.count - 4)
    // Every number is checked before it becomes an Int: a damaged or hostile file must not trap
    // the server.
    let dimensionField = reader.next(8)!
    guard let dimension = Int(exactly: dimensionField) else {
      throw corrupt("|w| = \(dimensionField) at byte 8 is out of range")
    }
    guard dimension == expectedDimension else {
      throw .wrongDimension(path: path, onDisk: dimension, expected: expectedDimension)
    }
    var trailer = ByteReader(bytes: bytes, offset: bytes.count - 4)
    guard trailer.next(4).map(UInt32.init) == WriteAheadLog.crc(bytes[0..<(bytes.count - 4)]) else {
      throw corrupt("checksum mismatch")
    }
    guard let decayBits = reader.next(4), let uploads = reader.next(8),
      let updated = reader.next(8), let sequence = reader.next(8), let events = reader.next(8),
      let rounds = reader.next(8), let inRound = reader.next(8),
      let participantCount = reader.next(4)
    else { throw corrupt("the file ends inside its counters") }
    guard let uploadCount = Int(exactly: uploads), let updatedCount = Int(exactly: updated) else {
      throw corrupt("an upload count (\(uploads), \(updated)) is out of range")
    }
    var participants: [String: ParticipantRecord] = [:]
    for number in 0..<participantCount {
      guard let name = reader.nextName(), let lastRound = reader.next(8),
        let lastSequence = reader.next(8), let lastApplied = reader.next(8),
        let uploadCount = reader.next(8), let uploaded = reader.next(8)
      else {
        throw corrupt("participant record \(number + 1) is cut short or its name is not UTF-8")
      }
      var record = ParticipantRecord(name: name)
      record.lastRound = lastRound
      record.lastSequence = lastSequence
      record.lastAppliedEntries = lastApplied
      record.uploads = uploadCount
      record.parametersUploaded = uploaded
      participants[name] = record
    }
    guard reader.end - reader.offset == 8 * dimension else {
      throw corrupt(
        "w_global and stat take \(reader.end - reader.offset) bytes, expected \(8 * dimension)")
    }
    let parameters = (0..<dimension).map { _ in Float(bitPattern: UInt32(reader.next(4)!)) }
    let stat = (0..<dimension).map { _ in Float(bitPattern: UInt32(reader.next(4)!)) }
    let decay = Float(bitPattern: UInt32(decayBits))
    guard decay > 0, decay <= 1 else { throw corrupt("stat decay β = \(decay) is outside (0, 1]") }
    // The server never holds a non-finite parameter (it refuses uploads that would make one) nor
    // a negative count: a snapshot that does was not written by it.
    if let index = parameters.firstIndex(where: { !$0.isFinite }) {
      throw corrupt("w_global[\(index)] = \(parameters[index]) is not finite")
    }
    if let index = stat.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
      throw corrupt("stat[\(index)] = \(stat[index]) is not a finite count")
    }
    locked.state = ParameterServerState(
      parameters: parameters, stat: stat, statDecay: decay, uploadCount: uploadCount,
      updatedParameterCount: updatedCount)
    locked.sequence = sequence
    locked.events = events
    locked.roundsCompleted = rounds
    locked.uploadsInRound = inRound
    locked.participants = participants
  }

}
