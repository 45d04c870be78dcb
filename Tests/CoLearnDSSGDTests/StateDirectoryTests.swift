import CoLearnDSSGD
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

#if canImport(Glibc)
  import Glibc
#endif

/// What opening a state directory refuses, repairs and says (issue 19 items 1, 2, 9, 10): a
/// damaged log, an incomplete directory, a second server, changed settings.
@Suite struct StateDirectoryTests {
  let initial = ParameterServerState(parameters: [1, 2, 3, 4, 5], statDecay: 0.5)

  func directory() throws -> (URL, String) {
    let root = try makeTemporaryDirectory()
    return (root, root.appendingPathComponent("state").path)
  }

  /// The i-th upload of `populate` (1-based): index (i − 1) mod 5, value i.
  func upload(_ i: Int) -> SparseVector {
    SparseVector(indices: [Int32((i - 1) % 5)], values: [Float(i)])
  }

  /// 10 acknowledged uploads and 2 decays (a round is 5 uploads): records 1–5 are uploads 1–5,
  /// record 6 a decay, 7–11 uploads 6–10, 12 a decay.
  func populate(_ path: String) throws {
    let server = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
    for i in 1...10 { #expect(try server.upload(upload(i)) == UInt64(i)) }
    #expect(server.roundsCompleted == 2)
  }

  /// The state the server would hold after the uploads in `applied` (and the two decays).
  func expectedState(applying applied: [Int]) -> ParameterServerState {
    var state = initial
    for i in 1...10 {
      if applied.contains(i) { try! state.apply(upload(i)) }
      if i == 5 || i == 10 { state.decayStatistics() }
    }
    return state
  }

  /// The byte offsets of the log's records (the header is 28 bytes; each record is its u32
  /// length, its u32 CRC and the payload).
  func recordOffsets(_ log: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = 28
    while offset + 8 <= log.count {
      offsets.append(offset)
      let length = (0..<4).reduce(0) { $0 | Int(log[offset + $1]) << (8 * $1) }
      offset += 8 + length
    }
    return offsets
  }

  func logURL(_ path: String) -> URL { URL(fileURLWithPath: path + "/uploads.wal") }

  // MARK: - Item 1: a damaged log

  /// The observation: one flipped bit in a record in the middle of the log made the server keep
  /// the records before it, truncate the file there and serve. Now it refuses to start, names the
  /// file, the offset and the sequence numbers around the damage, and leaves the file as it was.
  /// Issue 19 item 3, for state written before the bounds existed: two accepted uploads of
  /// 3.0e38 at one index made w_global = +Inf, persisted across restarts, and every honest
  /// participant failed at its first download. Replaying such a log is refused, naming the
  /// index and what to do (a snapshot holding Inf is refused by the snapshot reader).
  @Test func aPoisonedStateIsRefusedAtRestart() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    let huge = SparseVector(indices: [3], values: [3.0e38])
    try Data(StateFileReaders.log(of: [huge, huge]))
      .write(to: URL(fileURLWithPath: path + "/uploads.wal"))
    do {
      _ = try DurableParameterServer(directory: path, initial: initial)
      Issue.record("a poisoned state was served")
    } catch {
      #expect(
        error.description.contains(
          "after replaying it up to sequence 2, 1 parameters are infinite or NaN (the first at "
            + "index 3)"), "\(error)")
      #expect(error.description.contains("restore the directory from a backup"))
    }
  }

  @Test func aFlippedBitMidLogStopsTheServerWithOffsetAndSequences() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    try populate(path)
    var bytes = [UInt8](try Data(contentsOf: logURL(path)))
    let offsets = recordOffsets(bytes)
    #expect(offsets.count == 12)
    bytes[offsets[3] + 20] ^= 0x04  // inside upload 4's payload
    try Data(bytes).write(to: logURL(path))

    let expected = DurabilityError.damagedLog(
      LogDamage(
        path: path + "/uploads.wal", offset: offsets[3], length: offsets[4] - offsets[3],
        sequenceBefore: 3, eventBefore: 3, sequenceAfter: 5, eventAfter: 5))
    #expect(throws: expected) {
      try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
    }
    let message = expected.description
    for part in [
      path + "/uploads.wal", "offset \(offsets[3])", "after sequence 3", "from sequence 5",
      "--repair",
    ] {
      #expect(message.contains(part), "\(message)")
    }
    // Nothing was truncated.
    #expect([UInt8](try Data(contentsOf: logURL(path))) == bytes)
  }

  /// A damaged length field breaks the framing of everything after it: the decoder still
  /// finds the next intact record by resynchronising.
  @Test func aDamagedLengthIsFoundAndTheNextRecordResynchronised() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    try populate(path)
    var bytes = [UInt8](try Data(contentsOf: logURL(path)))
    let offsets = recordOffsets(bytes)
    bytes[offsets[6]] ^= 0x10  // the length of upload 6 (after the first decay, event 6)
    try Data(bytes).write(to: logURL(path))
    #expect(
      throws: DurabilityError.damagedLog(
        LogDamage(
          path: path + "/uploads.wal", offset: offsets[6], length: offsets[7] - offsets[6],
          sequenceBefore: 5, eventBefore: 6, sequenceAfter: 7, eventAfter: 8))
    ) {
      try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
    }
  }

  /// --repair keeps every intact record after the damage, moves the damaged log aside, reports
  /// the sequence numbers lost, and the repaired state opens normally afterwards.
  @Test func repairKeepsTheIntactRecordsAfterTheDamage() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    try populate(path)
    var bytes = [UInt8](try Data(contentsOf: logURL(path)))
    let offsets = recordOffsets(bytes)
    bytes[offsets[3] + 20] ^= 0x04
    try Data(bytes).write(to: logURL(path))

    do {
      let repaired = try DurableParameterServer(
        directory: path, initial: initial, uploadsPerRound: 5,
        options: StateOpenOptions(repair: true))
      let expected = expectedState(applying: [1, 2, 3, 5, 6, 7, 8, 9, 10])
      #expect(repaired.state.parameters == expected.parameters)
      #expect(repaired.state.stat == expected.stat)
      #expect(repaired.sequence == 10)
      #expect(repaired.roundsCompleted == 2)
      #expect(
        repaired.recovery.losses
          == [RecoveryReport.Loss(offset: offsets[3], first: 4, last: 4, decays: 0)])
      let moved = try #require(repaired.recovery.damagedLogMovedTo)
      #expect([UInt8](try Data(contentsOf: URL(fileURLWithPath: moved))) == bytes)
      #expect(repaired.recovery.lines.last?.contains("sequence 4 at byte offset") == true)
      #expect(try repaired.upload(SparseVector(indices: [4], values: [100])) == 11)
    }
    let reopened = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
    #expect(reopened.sequence == 11)
    #expect(reopened.recovery == RecoveryReport())
  }

  /// Damage to the upload just before a decay: the decay is the first intact record after it,
  /// and the uploads after that decay are intact too (the lost upload's sequence number is
  /// accounted for in the gap of events).
  @Test func repairAcrossADecayKeepsTheUploadsAfterIt() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    try populate(path)
    var bytes = [UInt8](try Data(contentsOf: logURL(path)))
    let offsets = recordOffsets(bytes)
    bytes[offsets[4] + 20] ^= 0x01  // upload 5; record 6 is the decay (event 6)
    try Data(bytes).write(to: logURL(path))
    #expect(
      throws: DurabilityError.damagedLog(
        LogDamage(
          path: path + "/uploads.wal", offset: offsets[4], length: offsets[5] - offsets[4],
          sequenceBefore: 4, eventBefore: 4, sequenceAfter: nil, eventAfter: 6))
    ) {
      try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
    }
    let repaired = try DurableParameterServer(
      directory: path, initial: initial, uploadsPerRound: 5,
      options: StateOpenOptions(repair: true))
    let expected = expectedState(applying: [1, 2, 3, 4, 6, 7, 8, 9, 10])
    #expect(repaired.state.parameters == expected.parameters)
    #expect(repaired.state.stat == expected.stat)
    #expect(repaired.sequence == 10)
    #expect(
      repaired.recovery.losses
        == [RecoveryReport.Loss(offset: offsets[4], first: 5, last: 5, decays: 0)])
  }

  /// Whichever upload record is overwritten with garbage (frame included), the repair keeps
  /// every other record and names exactly that upload's sequence number.
  @Test func repairLosesExactlyTheOverwrittenUpload() throws {
    let uploadRecords = [0, 1, 2, 3, 4, 6, 7, 8, 9, 10]  // 5 and 11 are the decays
    for (index, record) in uploadRecords.enumerated() {
      let (root, path) = try directory()
      defer { try? FileManager.default.removeItem(at: root) }
      try populate(path)
      var bytes = [UInt8](try Data(contentsOf: logURL(path)))
      let offsets = recordOffsets(bytes)
      for i in offsets[record]..<offsets[record + 1] {
        bytes[i] = UInt8(truncatingIfNeeded: i * 37)
      }
      try Data(bytes).write(to: logURL(path))
      let repaired = try DurableParameterServer(
        directory: path, initial: initial, uploadsPerRound: 5,
        options: StateOpenOptions(repair: true))
      let lost = index + 1
      let expected = expectedState(applying: (1...10).filter { $0 != lost })
      #expect(repaired.state.parameters == expected.parameters, "upload \(lost)")
      #expect(repaired.state.stat == expected.stat, "upload \(lost)")
      // Upload 10 has no intact upload after it (only the last decay): its number is known
      // to be lost, not how many followed it, and the sequence continues from 9.
      let last: UInt64? = lost == 10 ? nil : UInt64(lost)
      #expect(repaired.sequence == (lost == 10 ? 9 : 10), "upload \(lost)")
      #expect(
        repaired.recovery.losses.map { [$0.first, $0.last] } == [[UInt64(lost), last]],
        "upload \(lost)")
    }
  }

  /// A complete last record whose bytes changed is not a torn write: refused too (it may be an
  /// acknowledged upload), with no record after it.
  @Test func aDamagedLastRecordIsNotMistakenForATornTail() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      for i in 1...3 { _ = try server.upload(upload(i)) }
    }
    var bytes = [UInt8](try Data(contentsOf: logURL(path)))
    let offsets = recordOffsets(bytes)
    bytes[bytes.count - 2] ^= 0x01
    try Data(bytes).write(to: logURL(path))
    #expect(
      throws: DurabilityError.damagedLog(
        LogDamage(
          path: path + "/uploads.wal", offset: offsets[2], length: bytes.count - offsets[2],
          sequenceBefore: 2, eventBefore: 2, sequenceAfter: nil, eventAfter: nil))
    ) {
      try DurableParameterServer(directory: path, initial: initial)
    }
    let repaired = try DurableParameterServer(
      directory: path, initial: initial, options: StateOpenOptions(repair: true))
    #expect(repaired.sequence == 2)
    #expect(
      repaired.recovery.losses
        == [RecoveryReport.Loss(offset: offsets[2], first: 3, last: nil, decays: nil)])
  }

  /// Uploads 1–4 with a decay after every 2: records u1 u2 d u3 u4 d; and the sequence number
  /// reached after each record.
  func smallLog(_ path: String) throws -> (bytes: [UInt8], sequences: [UInt64]) {
    do {
      let server = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 2)
      for i in 1...4 { _ = try server.upload(upload(i)) }
    }
    return ([UInt8](try Data(contentsOf: logURL(path))), [1, 2, 2, 3, 4, 4])
  }

  /// No single flipped bit anywhere in the log (header, frame, payload, first or last record) is
  /// recovered from silently: every one is refused, and the file stays as it was.
  @Test func everySingleBitFlipIsRefusedAndTheFileLeftAsItWas() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let (original, _) = try smallLog(path)
    for position in 0..<original.count {
      var flipped = original
      flipped[position] ^= UInt8(1 << (position % 8))
      try Data(flipped).write(to: logURL(path))
      do {
        let server = try DurableParameterServer(
          directory: path, initial: initial, uploadsPerRound: 2)
        Issue.record("a flip at byte \(position) was accepted: sequence \(server.sequence)")
      } catch {
        #expect(!error.description.isEmpty)
      }
      #expect([UInt8](try Data(contentsOf: logURL(path))) == flipped, "byte \(position)")
    }
  }

  /// A crash can cut the log anywhere after its header: every cut opens, with exactly the
  /// complete records before it.
  @Test func everyTornTailIsDroppedAndTheCompleteRecordsKept() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let (original, sequences) = try smallLog(path)
    let ends = recordOffsets(original).dropFirst() + [original.count]
    for length in 28...original.count {
      try Data(original[0..<length]).write(to: logURL(path))
      let complete = ends.filter { $0 <= length }.count
      let server = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 2)
      #expect(server.sequence == (complete == 0 ? 0 : sequences[complete - 1]), "cut at \(length)")
      #expect(server.roundsCompleted == UInt64(complete / 3), "cut at \(length)")
      let torn = !ends.contains(length) && length > 28
      #expect((server.recovery.droppedTailOffset != nil) == torn, "cut at \(length)")
    }
  }

  /// Zeros after the last record (a file system's fill after a power loss) hold no record.
  @Test func aZeroFilledTailIsDroppedAndSaid() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      for i in 1...2 { _ = try server.upload(upload(i)) }
    }
    let clean = try Data(contentsOf: logURL(path))
    try (clean + Data(count: 4096)).write(to: logURL(path))
    let reopened = try DurableParameterServer(directory: path, initial: initial)
    #expect(reopened.sequence == 2)
    #expect(reopened.recovery.droppedTailOffset == clean.count)
    #expect(reopened.recovery.droppedTailLength == 4096)
    #expect(try Data(contentsOf: logURL(path)) == clean)
  }

  // MARK: - Item 2: missing or extra files

  /// The observation: with snapshot.bin deleted, the later log records were replayed onto the
  /// initial weights. Now the log names the snapshot it continues, and its absence is refused.
  @Test func aMissingSnapshotIsRefused() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
      for i in 1...6 { _ = try server.upload(upload(i)) }
      try server.snapshot()
      for i in 7...10 { _ = try server.upload(upload(i)) }
    }
    try FileManager.default.removeItem(atPath: path + "/snapshot.bin")
    #expect(
      throws: DurabilityError.inconsistentState(
        directory: path, problem: .snapshotMissing(event: 7, sequence: 6))
    ) {
      try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 5)
    }
  }

  /// An older copy of snapshot.bin (a restore) does not fit the log that continues a later one.
  @Test func aSnapshotOlderThanTheLogIsRefused() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let snapshot = URL(fileURLWithPath: path + "/snapshot.bin")
    let old: Data
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(upload(1))
      try server.snapshot()
      old = try Data(contentsOf: snapshot)
      _ = try server.upload(upload(2))
      try server.snapshot()
    }
    try old.write(to: snapshot)
    #expect(
      throws: DurabilityError.inconsistentState(
        directory: path, problem: .snapshotBehindLog(logBase: 2, snapshot: 1))
    ) {
      try DurableParameterServer(directory: path, initial: initial)
    }
  }

  /// The observation: a deleted or empty log next to an existing snapshot started a fresh
  /// federation at sequence 0. Now both are refused with what is missing.
  @Test func aMissingOrEmptiedLogIsRefused() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(upload(1))
      try server.snapshot()
    }
    let log = try Data(contentsOf: logURL(path))
    try FileManager.default.removeItem(at: logURL(path))
    #expect(throws: DurabilityError.inconsistentState(directory: path, problem: .logMissing)) {
      try DurableParameterServer(directory: path, initial: initial)
    }
    try Data().write(to: logURL(path))
    #expect(
      throws: DurabilityError.inconsistentState(
        directory: path, problem: .logHeaderDamaged(length: 0))
    ) {
      try DurableParameterServer(directory: path, initial: initial)
    }
    try log.write(to: logURL(path))
    #expect(try DurableParameterServer(directory: path, initial: initial).sequence == 1)
  }

  /// A directory with files but no log is not a fresh federation.
  @Test func aNonEmptyDirectoryWithoutALogIsRefused() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try Data(count: 1 << 20).write(to: URL(fileURLWithPath: path + "/snapshot.bin.tmp"))
    try Data("x".utf8).write(to: URL(fileURLWithPath: path + "/notes.txt"))
    let problem = StateProblem.noLog(entries: ["notes.txt", "snapshot.bin.tmp"])
    #expect(throws: DurabilityError.inconsistentState(directory: path, problem: problem)) {
      try DurableParameterServer(directory: path, initial: initial)
    }
    #expect(problem.description.contains("notes.txt, snapshot.bin.tmp but no uploads.wal"))
  }

  /// A leftover snapshot.bin.tmp next to a complete state (its rename never happened) is
  /// removed and reported; a failed snapshot removes its own temporary file.
  @Test func temporaryFilesOfAFailedSnapshotDoNotStay() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let temporary = path + "/snapshot.bin.tmp"
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(upload(1))
      // A directory in the snapshot's place makes the rename fail after the temporary file
      // was written in full (like a full disk failing the write).
      try FileManager.default.createDirectory(
        atPath: path + "/snapshot.bin/x", withIntermediateDirectories: true)
      #expect(throws: DurabilityError.self) { try server.snapshot() }
      #expect(!FileManager.default.fileExists(atPath: temporary))
      try FileManager.default.removeItem(atPath: path + "/snapshot.bin")
    }
    try Data(count: 1 << 20).write(to: URL(fileURLWithPath: temporary))
    let reopened = try DurableParameterServer(directory: path, initial: initial)
    #expect(reopened.sequence == 1)
    #expect(reopened.recovery.removedTemporaries == ["snapshot.bin.tmp"])
    #expect(!FileManager.default.fileExists(atPath: temporary))
  }

  // MARK: - Item 9: one server per directory

  /// The observation: two servers on one state directory both started. Now the second is
  /// refused with the pid of the holder; the directory is free again once the first is gone.
  @Test func aSecondServerIsRefusedWithTheHoldersPid() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let first = try DurableParameterServer(directory: path, initial: initial)
      let refusal = DurabilityError.locked(path: path + "/lock", pid: getpid())
      #expect(throws: refusal) { try DurableParameterServer(directory: path, initial: initial) }
      #expect(refusal.description.contains("locked by process \(getpid())"))
      _ = try first.upload(upload(1))
    }
    #expect(try DurableParameterServer(directory: path, initial: initial).sequence == 1)
  }

  // MARK: - Item 10: settings

  func settings(participants: Int, model: String = "mnist-mlp") -> StateOpenOptions {
    StateOpenOptions(
      settings: StateSettings(
        values: ["model": model, "participants": "\(participants)", "protocol": "async"],
        fixed: ["model"]))
  }

  /// The observation: a restart with another --participants was accepted silently. Now it is
  /// refused naming the change, adopted (and reported) only when allowed; the model never.
  @Test func changedSettingsAreRefusedUnlessAllowed() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(
        directory: path, initial: initial, options: settings(participants: 3))
      _ = try server.upload(upload(1))
    }
    let change = SettingChange(key: "participants", recorded: "3", requested: "4")
    let refusal = DurabilityError.settingsChanged(
      path: path + "/federation.settings", changes: [change], changeable: true)
    #expect(throws: refusal) {
      try DurableParameterServer(
        directory: path, initial: initial, options: settings(participants: 4))
    }
    #expect(refusal.description.contains("participants 3 → 4"))
    #expect(refusal.description.contains("--allow-settings-change"))
    var allowed = settings(participants: 4)
    allowed.allowSettingsChange = true
    do {
      let server = try DurableParameterServer(directory: path, initial: initial, options: allowed)
      #expect(server.recovery.settingsChanges == [change])
      #expect(server.recovery.lines.contains("settings changed: participants 3 → 4"))
      #expect(server.sequence == 1)
    }
    // The new settings are the recorded ones now.
    #expect(
      try DurableParameterServer(
        directory: path, initial: initial, options: settings(participants: 4)
      )
      .recovery == RecoveryReport())
    var otherModel = settings(participants: 4, model: "svhn-mlp")
    otherModel.allowSettingsChange = true
    #expect(
      throws: DurabilityError.settingsChanged(
        path: path + "/federation.settings",
        changes: [SettingChange(key: "model", recorded: "mnist-mlp", requested: "svhn-mlp")],
        changeable: false)
    ) {
      try DurableParameterServer(directory: path, initial: initial, options: otherModel)
    }
    try FileManager.default.removeItem(atPath: path + "/federation.settings")
    #expect(throws: DurabilityError.inconsistentState(directory: path, problem: .settingsMissing)) {
      try DurableParameterServer(
        directory: path, initial: initial, options: settings(participants: 4))
    }
  }
}
