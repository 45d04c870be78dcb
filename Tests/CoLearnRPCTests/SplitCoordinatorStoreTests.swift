import CoLearnNN
import CoLearnRPC
import CoLearnSplit
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Logging
import Testing

/// ``SplitCoordinatorStore`` (`split serve --state-dir`, issue 20 item 6) under
/// ``SplitFederation`` driven through its own API with the tiny split network: what was logged
/// comes back after a "crash" (the objects dropped without a snapshot), a coordinator resumed
/// mid-run ends bit for bit where an uninterrupted one does, a torn last record is dropped, and
/// any other damage or other settings are refused naming the file, offset or setting.
@Suite struct SplitCoordinatorStoreTests {
  static let architecture = SplitCoordinatorTests.architecture
  static let names = ["alice", "bob"]

  static var settings: SplitFederationSettings {
    SplitFederationSettings(
      model: SplitCoordinatorTests.model, participants: 2,
      featureSize: architecture.featureShape.count, classCount: 10, maxBatchSize: 8,
      learningRate: 0.1, learningRateDecay: 0.01,
      frontParameterCount: architecture.makeFront().parameterCount,
      backParameterCount: SplitFederationTests.initialBack().count, maxLeaseMilliseconds: 30_000)
  }

  static let recorded = ["model": "tiny-split", "lr": "0.1", "seed": "3"]

  /// A store on `directory` (created from the seed-3 back when new).
  static func store(
    _ directory: URL, settings recorded: [String: String] = recorded, compactionBytes: Int = 1 << 30
  ) throws -> SplitCoordinatorStore {
    try SplitCoordinatorStore(
      directory: directory.path,
      initial: SplitCoordinatorState(back: SplitFederationTests.initialBack(), participants: 2),
      settings: recorded, maxSealedBytes: settings.maxSealedUpdateBytes,
      compactionBytes: compactionBytes)
  }

  static func federation(store: SplitCoordinatorStore?) -> SplitFederation {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return SplitFederation(
      settings: settings, architecture: architecture,
      backParameters: SplitFederationTests.initialBack(), logger: logger, store: store)
  }

  /// Two participants taking turns; ids survive a restart (Join again answers the same one).
  struct Run {
    let federation: SplitFederation
    var ids: [String] = []

    init(_ federation: SplitFederation) throws {
      self.federation = federation
      for name in SplitCoordinatorStoreTests.names {
        var join = Colearn_V1_SplitJoinRequest()
        join.model = SplitCoordinatorTests.model.proto
        join.participantName = name
        ids.append(try federation.join(join, identity: name).participantID)
      }
    }

    /// Turn `turn` (0, 1, …): participant turn % 2 fetches, steps in epoch turn / 4 + 1 on
    /// batch number `turn` and publishes a sealed update of its own.
    func take(_ turn: Int) async throws {
      let who = turn % 2
      let (id, name) = (ids[who], SplitCoordinatorStoreTests.names[who])
      var lock = Colearn_V1_LockRequest()
      lock.participantID = id
      lock.leaseDurationMs = 30_000
      let lease = try await federation.lock(lock, identity: name).leaseID
      var fetch = Colearn_V1_FetchUpdatesRequest()
      fetch.participantID = id
      fetch.afterSequence = UInt64(max(0, turn - 2))
      let sequence = try federation.fetchUpdates(fetch, identity: name).sequenceNumber
      let featureSize = SplitCoordinatorStoreTests.architecture.featureShape.count
      var step = SplitFederationTests.step(
        id: id, lease: lease,
        values: (0..<(4 * featureSize)).map { Float(($0 * 7 + turn * 13) % 11) / 11 - 0.5 })
      step.frontSequence = sequence
      step.epoch = UInt32(turn / 4 + 1)
      step.labels = (0..<4).map { UInt32(($0 + turn) % 10) }
      _ = try federation.step(step, identity: name)
      var publish = Colearn_V1_PublishUpdateRequest()
      publish.participantID = id
      publish.leaseID = lease
      publish.sealed = Data((0..<100).map { UInt8(truncatingIfNeeded: $0 &* turn &+ who) })
      _ = try federation.publishUpdate(publish, identity: name)
    }

    func finish(_ who: Int) throws {
      var request = Colearn_V1_FinishRequest()
      request.participantID = ids[who]
      try federation.finish(request, identity: SplitCoordinatorStoreTests.names[who])
    }
  }

  static func back(_ federation: SplitFederation, id: String, identity: String) throws -> [Float] {
    var request = Colearn_V1_DownloadBackRequest()
    request.participantID = id
    let data = try federation.downloadBack(request, identity: identity).parameters
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
  }

  static func logURL(_ directory: URL) -> URL { directory.appendingPathComponent("split.wal") }

  /// Round trip: joins, eight turns over two epochs, a finish and a download are all back after
  /// the store is dropped without a snapshot, and again after a snapshot (the log then empty).
  @Test func everyLoggedChangeComesBackAfterACrashAndAfterASnapshot() async throws {
    let directory = try makeTemporaryDirectory("colearn-split-store")
    defer { try? FileManager.default.removeItem(at: directory) }
    var state: SplitCoordinatorState
    do {
      let store = try Self.store(directory)
      let run = try Run(Self.federation(store: store))
      for turn in 0..<8 { try await run.take(turn) }
      try run.finish(0)
      _ = try Self.back(run.federation, id: run.ids[0], identity: "alice")
      state = store.state
      #expect(state.steps == 8 && state.lastSequence == 8 && state.members.count == 2)
      #expect(state.members[0].finished && state.members[0].downloadedBack)
      #expect(state.members[1].receipt.steps == 4 && state.members[1].receipt.sealedBytes == 400)
      // Epoch 1 is complete (both stepped in epoch 2); epoch 2 waits for bob.
      #expect(state.completedEpochs.map(\.epoch) == [1] && state.completedEpochs[0].steps == 4)
      #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("split-snapshot.bin").path))
    }
    do {
      let reopened = try Self.store(directory)
      #expect(reopened.recovered.isIdentical(to: state))
      #expect(reopened.recoveryLines.isEmpty)
      try reopened.snapshot()
      #expect(reopened.logBytes == 20)
    }
    let again = try Self.store(directory)
    #expect(again.recovered.isIdentical(to: state))
    #expect(try Data(contentsOf: Self.logURL(directory)).count == 20)
  }

  /// A coordinator "killed" after 5 of 10 turns and resumed on its state directory ends with the
  /// back, step count, relay and epoch ledger of one that was never interrupted, bit for bit
  /// (the log holds the back after every step, so no step is recomputed); also when the log
  /// was compacted into snapshots on the way.
  @Test(arguments: [1 << 30, 200])
  func aResumedCoordinatorEndsBitForBitWhereAnUninterruptedOneDoes(compaction: Int) async throws
  {
    let uninterrupted = try Run(Self.federation(store: nil))
    for turn in 0..<10 { try await uninterrupted.take(turn) }
    try uninterrupted.finish(0)
    try uninterrupted.finish(1)

    let directory = try makeTemporaryDirectory("colearn-split-resume")
    defer { try? FileManager.default.removeItem(at: directory) }
    do {
      let first = try Run(Self.federation(store: Self.store(directory, compactionBytes: compaction)))
      for turn in 0..<5 { try await first.take(turn) }
    }
    let store = try Self.store(directory, compactionBytes: compaction)
    #expect(store.recovered.steps == 5 && store.recovered.lastSequence == 5)
    // Joining again with the same tokens answers the same ids.
    let resumed = try Run(Self.federation(store: store))
    for turn in 5..<10 { try await resumed.take(turn) }
    try resumed.finish(0)
    try resumed.finish(1)
    if compaction < 1 << 30 {
      #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("split-snapshot.bin").path))
    }

    let expected = try Self.back(uninterrupted.federation, id: uninterrupted.ids[0], identity: "alice")
    let actual = try Self.back(resumed.federation, id: resumed.ids[0], identity: "alice")
    #expect(SplitFederationTests.sameBits(actual, expected))
    #expect(resumed.federation.status().steps == 10)
    #expect(resumed.federation.status().sequenceNumber == 10)
    let ledger = store.state.completedEpochs
    #expect(ledger.map(\.epoch) == [1, 2, 3] && ledger.map(\.steps) == [4, 4, 2], "\(ledger)")
    #expect(resumed.federation.receipts == uninterrupted.federation.receipts)
  }

  /// A record cut short by a crash (never acknowledged) is dropped with a report line naming its
  /// offset and length, and the log is cut back to the last intact record.
  @Test func aTornLastRecordIsDroppedAndReported() async throws {
    let directory = try makeTemporaryDirectory("colearn-split-torn")
    defer { try? FileManager.default.removeItem(at: directory) }
    var state: SplitCoordinatorState
    var intact = 0
    do {
      let store = try Self.store(directory)
      let run = try Run(Self.federation(store: store))
      let firstStep = store.logBytes  // turn 0 begins with its step record
      for turn in 0..<3 { try await run.take(turn) }
      state = store.state
      intact = store.logBytes
      // The first 1,000 bytes of the next step record (event numbers are 8 bytes after its
      // kind): its length field promises far more.
      var torn = [UInt8](try Data(contentsOf: Self.logURL(directory)))[firstStep..<(firstStep + 1_000)]
      for shift in 0..<8 {
        torn[firstStep + 9 + shift] = UInt8(truncatingIfNeeded: (state.events + 1) >> (8 * shift))
      }
      let handle = try FileHandle(forWritingTo: Self.logURL(directory))
      handle.seekToEndOfFile()
      handle.write(Data(torn))
      try handle.close()
    }
    let reopened = try Self.store(directory)
    #expect(reopened.recovered.isIdentical(to: state))
    #expect(
      reopened.recoveryLines == [
        "dropped a torn record of 1000 bytes at offset \(intact) of split.wal (a write cut short "
          + "by a crash; never acknowledged)"
      ], "\(reopened.recoveryLines)")
    #expect(try Data(contentsOf: Self.logURL(directory)).count == intact)
  }

  /// What a power loss can leave: a record's first bytes and then a block of zeros, or a whole
  /// record whose end reads as zeros. Both are torn (dropped); zeros inside an earlier record
  /// are damage (refused).
  @Test func zerosAfterTheLastWriteAreTornButInsideTheLogAreDamage() async throws {
    let directory = try makeTemporaryDirectory("colearn-split-zeros")
    defer { try? FileManager.default.removeItem(at: directory) }
    var state: SplitCoordinatorState
    var offsets: [Int] = []
    do {
      let store = try Self.store(directory)
      let run = try Run(Self.federation(store: store))
      for turn in 0..<3 {
        offsets.append(store.logBytes)
        try await run.take(turn)
      }
      offsets.append(store.logBytes)
      state = store.state
    }
    let intact = [UInt8](try Data(contentsOf: Self.logURL(directory)))
    // Turn 0's step record (its payload length 4 bytes in), renumbered as the next event.
    let stepLength = 8 + (0..<4).reduce(0) { $0 | Int(intact[offsets[0] + 4 + $1]) << (8 * $1) }
    var next = Array(intact[offsets[0]..<(offsets[0] + stepLength)])
    for shift in 0..<8 {
      next[9 + shift] = UInt8(truncatingIfNeeded: (state.events + 1) >> (8 * shift))
    }
    let tails: [[UInt8]] = [
      Array(next.prefix(5)) + [UInt8](repeating: 0, count: 4096),
      Array(next.prefix(stepLength - 1_000)) + [UInt8](repeating: 0, count: 1_000),
    ]
    for tail in tails {
      try Data(intact + tail).write(to: Self.logURL(directory))
      let reopened = try Self.store(directory)
      #expect(reopened.recovered.isIdentical(to: state))
      #expect(
        reopened.recoveryLines.first?.hasPrefix(
          "dropped a torn record of \(tail.count) bytes at offset \(intact.count) ") == true,
        "\(reopened.recoveryLines)")
    }
    // 1,000 zeros inside turn 1's step record, which intact records follow.
    var damaged = intact
    for index in (offsets[2] - 1_000)..<offsets[2] { damaged[index] = 0 }
    try Data(damaged).write(to: Self.logURL(directory))
    let error = #expect(throws: SplitStateError.self) { try Self.store(directory) }
    #expect(
      error?.description.contains("damaged at byte offset \(offsets[1])") == true,
      "\(String(describing: error))")
  }

  /// One flipped byte inside an intact record in the middle of the log: opening is refused
  /// naming split.wal and the record's offset, and the file is left as it was.
  @Test func aDamagedRecordInTheMiddleIsRefusedNamingTheOffset() async throws {
    let directory = try makeTemporaryDirectory("colearn-split-corrupt")
    defer { try? FileManager.default.removeItem(at: directory) }
    var offsets: [Int] = []
    do {
      let store = try Self.store(directory)
      let run = try Run(Self.federation(store: store))
      offsets.append(store.logBytes)
      for turn in 0..<4 {
        try await run.take(turn)
        offsets.append(store.logBytes)
      }
    }
    var bytes = [UInt8](try Data(contentsOf: Self.logURL(directory)))
    // Turn 2's records: its step record starts where turn 1's end.
    let target = offsets[2]
    bytes[target + 100] ^= 0x10
    try Data(bytes).write(to: Self.logURL(directory))
    let error = #expect(throws: SplitStateError.self) { try Self.store(directory) }
    let path = Self.logURL(directory).path
    #expect(error == .corrupt(path: path, offset: target, reason: "the record's checksum does not match"))
    #expect(error?.description.contains("\(path) is damaged at byte offset \(target)") == true)
    #expect([UInt8](try Data(contentsOf: Self.logURL(directory))) == bytes, "the log was changed")

    // A damaged snapshot is refused naming it too.
    bytes[target + 100] ^= 0x10
    try Data(bytes).write(to: Self.logURL(directory))
    try Self.store(directory).snapshot()
    let snapshot = directory.appendingPathComponent("split-snapshot.bin")
    var image = [UInt8](try Data(contentsOf: snapshot))
    image[image.count / 2] ^= 0x01
    try Data(image).write(to: snapshot)
    let damaged = #expect(throws: SplitStateError.self) { try Self.store(directory) }
    #expect(
      damaged?.description.contains("\(snapshot.path) is damaged at byte offset") == true,
      "\(String(describing: damaged))")
  }

  /// Other settings are refused naming each change; the state is left untouched.
  @Test func otherSettingsAreRefusedNamingTheField() async throws {
    let directory = try makeTemporaryDirectory("colearn-split-settings")
    defer { try? FileManager.default.removeItem(at: directory) }
    do {
      let run = try Run(Self.federation(store: Self.store(directory)))
      try await run.take(0)
    }
    var changed = Self.recorded
    changed["lr"] = "0.2"
    changed["seed"] = nil
    let error = #expect(throws: SplitStateError.self) {
      try Self.store(directory, settings: changed)
    }
    #expect(
      error?.description.contains("created with other settings: lr 0.1 → 0.2, seed 3 → (none)")
        == true, "\(String(describing: error))")
    #expect(try Self.store(directory).recovered.steps == 1)

    // A settings file with a line that is not key=value is damage, named by its offset.
    let settings = directory.appendingPathComponent("split.settings")
    let text = try String(contentsOf: settings, encoding: .utf8)
    try (text + "truncat").write(to: settings, atomically: true, encoding: .utf8)
    let damaged = #expect(throws: SplitStateError.self) { try Self.store(directory) }
    #expect(
      damaged == .corrupt(path: settings.path, offset: text.utf8.count, reason: "line 5 is not key=value"),
      "\(String(describing: damaged))")
  }

  /// A directory another server wrote is not taken for a split state.
  @Test func aForeignDirectoryIsRefused() throws {
    let directory = try makeTemporaryDirectory("colearn-split-foreign")
    defer { try? FileManager.default.removeItem(at: directory) }
    try Data("x".utf8).write(to: directory.appendingPathComponent("uploads.wal"))
    let error = #expect(throws: SplitStateError.self) { try Self.store(directory) }
    #expect(error?.description.contains("uploads.wal, which split serve does not write") == true)
  }
}
