import CoLearnDSSGD
import CoLearnTensor
import CoLearnTestSupport
import Foundation
import Testing

@Suite struct DurableParameterServerTests {
  let initial = ParameterServerState(parameters: [1, 2, 3, 4, 5], statDecay: 0.5)

  func directory() throws -> (URL, String) {
    let root = try makeTemporaryDirectory()
    return (root, root.appendingPathComponent("state").path)
  }

  /// Some uploads and decays, then the same server again from disk.
  @Test func reopeningRecoversEveryAcknowledgedUpload() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let expected: ParameterServerState
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      #expect(try server.upload(SparseVector(indices: [0, 3], values: [0.5, -1])) == 1)
      try server.decayStatistics()
      #expect(try server.upload(SparseVector(indices: [3], values: [0.25])) == 2)
      expected = server.state
    }
    let reopened = try DurableParameterServer(directory: path, initial: initial)
    #expect(reopened.state.parameters == expected.parameters)
    #expect(reopened.state.parameters == [1.5, 2, 3, 3.25, 5])
    #expect(reopened.state.stat == [0.5, 0, 0, 1.5, 0])
    #expect(reopened.state.uploadCount == 2)
    #expect(reopened.sequence == 2)
    #expect(try reopened.upload(SparseVector(indices: [1], values: [1])) == 3)
  }

  /// A record cut short by a crash (never acknowledged) is dropped; the ones before it stay,
  /// and new uploads follow them.
  @Test func aTornTailIsDropped() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(SparseVector(indices: [0], values: [1]))
      _ = try server.upload(SparseVector(indices: [1], values: [1]))
    }
    let log = URL(fileURLWithPath: path + "/uploads.wal")
    var bytes = try Data(contentsOf: log)
    bytes.removeLast(3)  // the last record loses its tail
    try bytes.write(to: log)
    do {
      let reopened = try DurableParameterServer(directory: path, initial: initial)
      #expect(reopened.state.parameters == [2, 2, 3, 4, 5])
      #expect(reopened.sequence == 1)
      // Said, not silent: where the torn record was and how long.
      #expect(reopened.recovery.droppedTailOffset != nil)
      #expect(reopened.recovery.lines.first?.contains("dropped a torn record") == true)
      #expect(try reopened.upload(SparseVector(indices: [4], values: [1])) == 2)
    }
    let again = try DurableParameterServer(directory: path, initial: initial)
    #expect(again.state.parameters == [2, 2, 3, 4, 6])
  }

  /// After a snapshot the log restarts; a crash between the snapshot and emptying the log does
  /// not apply anything twice.
  @Test func snapshotsAndTheLogNeverDoubleApply() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(SparseVector(indices: [0], values: [1]))
      try server.snapshot()
      _ = try server.upload(SparseVector(indices: [2], values: [1]))
    }
    do {
      // One server at a time holds the directory: each scope ends with the server's release.
      let afterSnapshot = try DurableParameterServer(directory: path, initial: initial)
      #expect(afterSnapshot.state.parameters == [2, 2, 4, 4, 5])
      #expect(afterSnapshot.sequence == 2)
      try afterSnapshot.snapshotWithoutEmptyingTheLogForTesting()
    }
    let crashed = try DurableParameterServer(directory: path, initial: initial)
    #expect(crashed.state.parameters == [2, 2, 4, 4, 5])
    #expect(crashed.state.stat == [1, 0, 1, 0, 0])
    #expect(crashed.sequence == 2)
  }

  @Test func damagedOrForeignStateIsRefusedWithTheFileName() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(SparseVector(indices: [0], values: [1]))
      try server.snapshot()
    }
    let other = ParameterServerState(parameters: [0, 0, 0], statDecay: 0.5)
    #expect(throws: DurabilityError.wrongDimension(path: path + "/snapshot.bin", onDisk: 5, expected: 3)) {
      try DurableParameterServer(directory: path, initial: other)
    }
    let snapshot = URL(fileURLWithPath: path + "/snapshot.bin")
    var bytes = try Data(contentsOf: snapshot)
    bytes[bytes.count - 10] ^= 0xFF
    try bytes.write(to: snapshot)
    #expect(throws: DurabilityError.corruptSnapshot(path: path + "/snapshot.bin")) {
      try DurableParameterServer(directory: path, initial: initial)
    }
    #expect(
      DurabilityError.corruptSnapshot(path: "s.bin").description.contains("s.bin is damaged"))
  }

  /// Fuzzing found (docs/FUZZING.md): a |w| field above Int.max trapped the server at start
  /// (before the checksum is checked), so did upload counts above Int.max behind a valid
  /// checksum; a NaN in w_global was served.
  @Test func impossibleSnapshotFieldsAreRefusedNotTrappedOn() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      _ = try server.upload(SparseVector(indices: [0], values: [1]))
      try server.snapshot()
    }
    let snapshotPath = path + "/snapshot.bin"
    let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: snapshotPath)))
    func refusal(_ bytes: [UInt8]) throws -> DurabilityError? {
      try Data(bytes).write(to: URL(fileURLWithPath: snapshotPath))
      do {
        _ = try DurableParameterServer(directory: path, initial: initial)
        return nil
      } catch {
        return error
      }
    }
    var hugeDimension = good  // |w| (u64 at byte 8) = 2⁶³
    putLittleEndian(1 << 63, into: &hugeDimension, at: 8, width: 8)
    #expect(
      try refusal(hugeDimension)
        == .corruptSnapshot(
          path: snapshotPath, reason: "|w| = 9223372036854775808 at byte 8 is out of range"))
    var hugeCount = good  // uploads (u64 at byte 20) = 2⁶⁴ − 1
    putLittleEndian(.max, into: &hugeCount, at: 20, width: 8)
    #expect(
      try refusal(withTrailingCRC32(hugeCount))
        == .corruptSnapshot(
          path: snapshotPath, reason: "an upload count (18446744073709551615, 1) is out of range"))
    // No participant records (an upload without an origin): w_global starts at byte 72.
    var nan = good
    putLittleEndian(UInt64(Float.nan.bitPattern), into: &nan, at: 72 + 4 * 2, width: 4)
    let error = try refusal(withTrailingCRC32(nan))
    #expect(
      error == .corruptSnapshot(path: snapshotPath, reason: "w_global[2] = nan is not finite"))
    #expect(error?.description.contains("snapshot.bin is damaged (w_global[2] = nan") == true)
    #expect(try refusal(good) == nil)
  }

  @Test func aMalformedUploadChangesNothingInMemoryOrOnDisk() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      #expect(throws: SparseVectorProblem.self) {
        try server.upload(SparseVector(indices: [0, 9], values: [1, 1]))
      }
      #expect(server.sequence == 0)
    }
    let reopened = try DurableParameterServer(directory: path, initial: initial)
    #expect(reopened.state.parameters == initial.parameters)
  }

  /// A retry of a participant's last round is answered from its record (also after a restart
  /// and a snapshot), a lower round is refused, and neither changes the state.
  @Test func roundsMakeUploadsIdempotentAcrossRestarts() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let alice1 = UploadOrigin(participant: "alice", round: 1)
    do {
      let server = try DurableParameterServer(directory: path, initial: initial)
      let first = try server.upload(SparseVector(indices: [0, 1], values: [1, 1]), origin: alice1)
      #expect(first.sequence == 1 && first.appliedEntries == 2 && !first.duplicate)
      let retry = try server.upload(SparseVector(indices: [0, 1], values: [1, 1]), origin: alice1)
      #expect(retry.sequence == 1 && retry.appliedEntries == 2 && retry.duplicate)
      _ = try server.upload(
        SparseVector(indices: [4], values: [1]), origin: UploadOrigin(participant: "bob", round: 7))
      #expect(server.state.parameters == [2, 3, 3, 4, 6])
    }
    do {
      let reopened = try DurableParameterServer(directory: path, initial: initial)
      #expect(reopened.participants["alice"]?.lastRound == 1)
      #expect(reopened.participants["bob"]?.lastSequence == 2)
      let again = try reopened.upload(
        SparseVector(indices: [0, 1], values: [1, 1]), origin: alice1)
      #expect(again.duplicate && again.sequence == 1)
      #expect(reopened.state.parameters == [2, 3, 3, 4, 6])
      try reopened.snapshot()
    }
    let afterSnapshot = try DurableParameterServer(directory: path, initial: initial)
    #expect(afterSnapshot.participants["alice"]?.uploads == 1)
    #expect(afterSnapshot.participants["bob"]?.parametersUploaded == 1)
    #expect(throws: UploadRefusal.staleRound(participant: "bob", round: 6, lastApplied: 7)) {
      try afterSnapshot.upload(
        SparseVector(indices: [2], values: [1]), origin: UploadOrigin(participant: "bob", round: 6))
    }
    let next = try afterSnapshot.upload(
      SparseVector(indices: [2], values: [1]), origin: UploadOrigin(participant: "alice", round: 2))
    #expect(next.sequence == 3 && !next.duplicate)
    #expect(afterSnapshot.state.parameters == [2, 3, 4, 4, 6])
  }

  /// With N uploads per round the server decays stat itself after every N-th upload, and a
  /// restart in the middle of a round keeps counting where it was.
  @Test func theServerDecaysAfterEveryRoundOfUploads() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    do {
      let server = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 2)
      _ = try server.upload(SparseVector(indices: [0], values: [1]))
      #expect(server.state.stat == [1, 0, 0, 0, 0])
      _ = try server.upload(SparseVector(indices: [1], values: [1]))
      #expect(server.state.stat == [0.5, 0.5, 0, 0, 0])
      #expect(server.roundsCompleted == 1)
      _ = try server.upload(SparseVector(indices: [2], values: [1]))
    }
    let reopened = try DurableParameterServer(directory: path, initial: initial, uploadsPerRound: 2)
    #expect(reopened.state.stat == [0.5, 0.5, 1, 0, 0])
    _ = try reopened.upload(SparseVector(indices: [3], values: [1]))
    #expect(reopened.state.stat == [0.25, 0.25, 0.5, 0.5, 0])
    #expect(reopened.roundsCompleted == 2)
  }

  /// Group commit: many concurrent staged uploads become durable through shared fsyncs, and
  /// every one that was waited for is there after reopening.
  @Test func groupCommitMakesEveryAwaitedUploadDurable() async throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let dimension = 64
    let start = ParameterServerState(
      parameters: [Float](repeating: 0, count: dimension), statDecay: 1)
    var server: DurableParameterServer? = try DurableParameterServer(directory: path, initial: start)
    let acknowledged = try await withThrowingTaskGroup(of: UInt64.self) { [server] group in
      let server = server!
      for participant in 0..<8 {
        group.addTask {
          var last: UInt64 = 0
          for round in 1...25 {
            let receipt = try server.stage(
              SparseVector(indices: [Int32(participant * 8 + round % 8)], values: [1]),
              origin: UploadOrigin(participant: "p\(participant)", round: UInt64(round)))
            try await server.waitUntilDurable(receipt.event)
            last = max(last, receipt.sequence)
          }
          return last
        }
      }
      return try await group.reduce(0) { max($0, $1) }
    }
    #expect(acknowledged == 200)
    server = nil  // releases the directory once the flusher has returned too
    // The flusher thread holds the server until it has resumed its last waiter and looked for
    // more work, which can be a moment after the last acknowledgement: wait for its release.
    var attempts = 0
    while true {
      do {
        _ = try DurableParameterServer(directory: path, initial: start)
        break
      } catch {
        guard case .locked = error, attempts < 500 else { throw error }
        attempts += 1
        usleep(10_000)
      }
    }
    let reopened = try DurableParameterServer(directory: path, initial: start)
    #expect(reopened.sequence == 200)
    #expect(reopened.state.parameters.reduce(0, +) == 200)
    for participant in 0..<8 { #expect(reopened.participants["p\(participant)"]?.lastRound == 25) }
  }
}
