import CoLearnTestSupport
import Foundation
import Testing

/// `colearn serve` and its state directory (issue 19 items 9 and 10): one server per
/// directory, and the federation's settings kept with its state. No data set needed.
@Suite(.serialized) struct ServeStateTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  /// A token file with one participant, and the arguments of a plaintext server on any port.
  func serveArguments(in directory: URL) throws -> [String] {
    let tokens = directory.appendingPathComponent("tokens").path
    let issued = try runProcess(
      binary(),
      [
        "token", "add", "solo", "--tokens", tokens,
        "--write-to", directory.appendingPathComponent("tokens.d").path,
      ])
    #expect(issued.status == 0, "\(issued.combined)")
    return [
      "serve", "--listen", "127.0.0.1:0", "--tokens", tokens, "--insecure",
      "--state-dir", directory.appendingPathComponent("state").path,
    ]
  }

  /// The observation: two servers on one state directory both started and wrote into it. Now
  /// the second stops at once and names the process holding the directory.
  @Test func aSecondServerOnTheStateDirectoryIsRefusedWithTheHoldersPid() throws {
    let directory = try makeTemporaryDirectory("colearn-serve-lock")
    defer { try? FileManager.default.removeItem(at: directory) }
    let arguments = try serveArguments(in: directory)
    let first = try BackgroundProcess(binary(), arguments)
    #expect(first.waitFor("listening on") != nil, "\(first.combined)")
    let second = try BackgroundProcess(binary(), arguments)
    #expect(second.wait(timeout: 60) != 0, "\(second.combined)")
    #expect(
      second.standardError.contains("locked by process \(first.process.processIdentifier)"),
      "\(second.combined)")
    #expect(!second.standardOutput.contains("listening on"))
    first.send(SIGTERM)
    #expect(first.wait(timeout: 30) == 0, "\(first.combined)")
    // Once the first is gone, the directory is free again.
    let third = try BackgroundProcess(binary(), arguments)
    #expect(third.waitFor("listening on") != nil, "\(third.combined)")
    third.send(SIGTERM)
    #expect(third.wait(timeout: 30) == 0, "\(third.combined)")
  }

  /// The observation: a restart with another --participants, --upload-fraction and --protocol
  /// was accepted silently. Now it is refused naming every change; --allow-settings-change
  /// adopts them and logs what changed.
  @Test func changedSettingsAreRefusedUnlessAllowedAndThenLogged() throws {
    let directory = try makeTemporaryDirectory("colearn-serve-settings")
    defer { try? FileManager.default.removeItem(at: directory) }
    let arguments = try serveArguments(in: directory)
    let original = ["--participants", "3", "--upload-fraction", "0.1", "--protocol", "async"]
    let first = try BackgroundProcess(binary(), arguments + original)
    #expect(first.waitFor("listening on") != nil, "\(first.combined)")
    first.send(SIGTERM)
    #expect(first.wait(timeout: 30) == 0, "\(first.combined)")

    let changed = ["--participants", "4", "--upload-fraction", "0.2", "--protocol", "round-robin"]
    let refused = try BackgroundProcess(binary(), arguments + changed)
    #expect(refused.wait(timeout: 60) != 0, "\(refused.combined)")
    for part in [
      "participants 3 → 4", "upload-fraction 0.1 → 0.2", "protocol async → round-robin",
      "--allow-settings-change",
    ] {
      #expect(refused.standardError.contains(part), "\(refused.combined)")
    }

    let allowed = try BackgroundProcess(
      binary(), arguments + changed + ["--allow-settings-change"])
    #expect(allowed.waitFor("listening on") != nil, "\(allowed.combined)")
    allowed.send(SIGTERM)
    #expect(allowed.wait(timeout: 30) == 0, "\(allowed.combined)")
    #expect(
      allowed.standardError.contains("settings changed: participants 3 → 4"), "\(allowed.combined)")

    // The adopted settings are the recorded ones now; the model can never change.
    let again = try BackgroundProcess(binary(), arguments + changed)
    #expect(again.waitFor("listening on") != nil, "\(again.combined)")
    again.send(SIGTERM)
    #expect(again.wait(timeout: 30) == 0, "\(again.combined)")
    let otherModel = try BackgroundProcess(
      binary(), arguments + changed + ["--model", "mnist-cnn", "--allow-settings-change"])
    #expect(otherModel.wait(timeout: 60) != 0, "\(otherModel.combined)")
    #expect(
      otherModel.standardError.contains("model mnist-mlp → mnist-cnn"), "\(otherModel.combined)")
  }

  /// Issue 19 item 1 end to end: uploads (from `colearn loadgen`), kill -9, one flipped byte in
  /// the middle of uploads.wal. The server no longer truncates and serves: it stops naming the
  /// offset and the sequence numbers; `--repair` keeps the intact records, moves the damaged
  /// log aside and logs what was lost.
  @Test func aDamagedLogStopsServeAndRepairRecovers() throws {
    let directory = try makeTemporaryDirectory("colearn-serve-repair")
    defer { try? FileManager.default.removeItem(at: directory) }
    let tokens = directory.appendingPathComponent("tokens").path
    let tokensDirectory = directory.appendingPathComponent("tokens.d").path
    let issued = try runProcess(
      binary(),
      ["token", "add", "client-0", "client-1", "--tokens", tokens, "--write-to", tokensDirectory])
    #expect(issued.status == 0, "\(issued.combined)")
    let state = directory.appendingPathComponent("state")
    let arguments = [
      "serve", "--listen", "127.0.0.1:0", "--tokens", tokens, "--insecure",
      "--state-dir", state.path, "--participants", "2", "--protocol", "async",
    ]
    let first = try BackgroundProcess(binary(), arguments)
    let port = try #require(
      first.waitFor("listening on 127\\.0\\.0\\.1:([0-9]+)").flatMap(Int.init), "\(first.combined)")
    let load = try runProcess(
      binary(),
      [
        "loadgen", "--server", "127.0.0.1:\(port)", "--tokens-dir", tokensDirectory,
        "--clients", "2", "--seconds", "1", "--download-fraction", "0", "--insecure",
      ])
    #expect(load.status == 0, "\(load.combined)")
    first.send(SIGKILL)
    first.wait()

    let log = state.appendingPathComponent("uploads.wal")
    var bytes = [UInt8](try Data(contentsOf: log))
    try #require(bytes.count > 100_000, "too few uploads: \(bytes.count) bytes")
    // A byte inside the payload of an upload record (length > 9) in the middle of the log.
    var offsets: [(offset: Int, length: Int)] = []
    var offset = 28  // the header
    while offset + 8 <= bytes.count {
      let length = (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
      offsets.append((offset, length))
      offset += 8 + length
    }
    let target = try #require(offsets[(offsets.count / 2)...].first { $0.length > 9 })
    bytes[target.offset + 8 + target.length / 2] ^= 0x20
    try Data(bytes).write(to: log)

    let refused = try BackgroundProcess(binary(), arguments)
    #expect(refused.wait(timeout: 60) != 0, "\(refused.combined)")
    #expect(
      refused.standardError.contains("uploads.wal is damaged at byte offset"), "\(refused.combined)"
    )
    #expect(refused.standardError.contains("at byte offset \(target.offset)"))
    #expect(refused.standardError.contains("intact records follow from"))
    #expect(refused.standardError.contains("--repair"))
    #expect([UInt8](try Data(contentsOf: log)) == bytes, "the log was changed")

    let repaired = try BackgroundProcess(binary(), arguments + ["--repair"])
    #expect(repaired.waitFor("listening on") != nil, "\(repaired.combined)")
    repaired.send(SIGTERM)
    #expect(repaired.wait(timeout: 30) == 0, "\(repaired.combined)")
    #expect(repaired.standardError.contains("repaired uploads.wal"), "\(repaired.combined)")
    #expect(
      repaired.standardError.contains(
        try Regex("lost: sequence [0-9]+ at byte offset \(target.offset)\"")),
      "\(repaired.combined)")
    let aside = try FileManager.default.contentsOfDirectory(atPath: state.path)
      .filter { $0.hasPrefix("uploads.wal.damaged-") }
    #expect(aside.count == 1, "\(aside)")
  }
}
