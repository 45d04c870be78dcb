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
      #expect(try server.upload(SparseVector(indices: [0, 3], values: [0.5, -1]), participant: 7) == 1)
      try server.decayStatistics()
      #expect(try server.upload(SparseVector(indices: [3], values: [0.25]), participant: 8) == 2)
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
    let reopened = try DurableParameterServer(directory: path, initial: initial)
    #expect(reopened.state.parameters == [2, 2, 3, 4, 5])
    #expect(reopened.sequence == 1)
    #expect(try reopened.upload(SparseVector(indices: [4], values: [1])) == 2)
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
    let afterSnapshot = try DurableParameterServer(directory: path, initial: initial)
    #expect(afterSnapshot.state.parameters == [2, 2, 4, 4, 5])
    #expect(afterSnapshot.sequence == 2)
    try afterSnapshot.snapshotWithoutEmptyingTheLogForTesting()
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

  @Test func aMalformedUploadChangesNothingInMemoryOrOnDisk() throws {
    let (root, path) = try directory()
    defer { try? FileManager.default.removeItem(at: root) }
    let server = try DurableParameterServer(directory: path, initial: initial)
    #expect(throws: SparseVectorProblem.self) {
      try server.upload(SparseVector(indices: [0, 9], values: [1, 1]))
    }
    #expect(server.sequence == 0)
    let reopened = try DurableParameterServer(directory: path, initial: initial)
    #expect(reopened.state.parameters == initial.parameters)
  }
}
