import CoLearnTestSupport
import Foundation
import Testing

/// `colearn split serve --state-dir` (issue 20 item 6) with the real binary on 127.0.0.1 and two
/// `colearn split participate` processes on small shards of MNIST: the coordinator is killed
/// (SIGKILL) mid-run and restarted on the same state directory and port, and the participants
/// finish the run through it.
@Suite(.serialized, .enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
struct SplitServeStateTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  /// The observation: a restarted `split serve` lost the back, its step count, the members and
  /// the relay, so the participants of a running federation could not continue. Now the
  /// restarted coordinator resumes at least every step it had answered (its log lines of them),
  /// the participants carry on with their tokens and ids, both end with the same front, the
  /// coordinator's step count is what it answered last, the run record has both epochs with
  /// every durable step, and a restart with another --lr is refused naming it.
  ///
  /// Not compared bit for bit with an uninterrupted run: the turn the kill interrupts is lost
  /// (its Step or PublishUpdate carries the old lease, which the new coordinator refuses with
  /// ABORTED, and the participant skips that batch), so the two runs train on different batches.
  /// SplitCoordinatorStoreTests shows the bit-for-bit resume with the same steps.
  @Test func aKilledCoordinatorResumesFromItsStateDirectory() throws {
    let directory = try makeTemporaryDirectory("colearn-split-state")
    defer { try? FileManager.default.removeItem(at: directory) }
    let names = ["edge-a", "edge-b"]
    let tokens = directory.appendingPathComponent("tokens").path
    let issued = try runProcess(
      binary(),
      ["token", "add"] + names + [
        "--tokens", tokens, "--write-to", directory.appendingPathComponent("tokens.d").path,
      ])
    #expect(issued.status == 0, "\(issued.combined)")
    let key = directory.appendingPathComponent("federation.key").path
    #expect(try runProcess(binary(), ["split", "keygen", "--out", key]).status == 0)
    let state = directory.appendingPathComponent("state").path
    let port = freeLoopbackPort()
    let serve = [
      "split", "serve", "--listen", "127.0.0.1:\(port)", "--tokens", tokens, "--insecure",
      "--participants", "2", "--batch-size", "32", "--lr", "0.1", "--threads", "1",
      "--epochs", "2", "--state-dir", state, "--log-level", "debug",
      "--out", directory.appendingPathComponent("coordinator-run").path,
    ]
    let first = try BackgroundProcess(binary(), serve)
    #expect(first.waitFor("listening on") != nil, "\(first.combined)")
    let participants = try names.enumerated().map { index, name in
      try BackgroundProcess(
        binary(),
        [
          "split", "participate", "--server", "127.0.0.1:\(port)", "--insecure", "--name", name,
          "--token-file", directory.appendingPathComponent("tokens.d/\(name).token").path,
          "--key", key, "--shard", "\(index)/2", "--shard-size", "320", "--train-limit", "6000",
          "--test-limit", "200", "--batch-size", "32", "--threads", "1", "--retry-seconds", "60",
          "--out", directory.appendingPathComponent("out-\(name)").path,
        ])
    }
    // 2 × 10 steps per epoch: kill the coordinator once it has answered 12 steps.
    #expect(
      first.waitFor("msg=step [^\\n]*step=12\\b", inErrors: true, timeout: 120) != nil,
      "\(first.combined)")
    first.send(SIGKILL)
    first.wait()
    let answered = first.standardError.split(separator: "\n")
      .filter { $0.contains("msg=step ") }
      .compactMap { line in
        line.split(separator: " ").first { $0.hasPrefix("step=") }.flatMap { Int($0.dropFirst(5)) }
      }.max() ?? 0
    #expect(answered >= 12 && answered < 40, "\(first.standardError)")
    // What a power loss can leave after the last write: zero bytes. Dropped, and said so.
    let log = URL(fileURLWithPath: state).appendingPathComponent("split.wal")
    let intact = try Data(contentsOf: log).count
    let handle = try FileHandle(forWritingTo: log)
    handle.seekToEndOfFile()
    handle.write(Data(count: 4096))
    try handle.close()

    let second = try BackgroundProcess(binary(), serve)
    #expect(second.waitFor("listening on") != nil, "\(second.combined)")
    // (Behind a record the kill itself cut short, if it cut one: then that record's offset.)
    let dropped = try #require(
      second.standardError.firstMatch(
        of: try Regex(
          "msg=\"state directory\" action=\"dropped a torn record of ([0-9]+) bytes at offset "
            + "([0-9]+) of split.wal")), "\(second.combined)")
    let (length, offset) = (Int(dropped.output[1].substring!)!, Int(dropped.output[2].substring!)!)
    #expect(length >= 4096 && offset + length == intact + 4096, "\(length) at \(offset)")
    let recovered = try #require(
      second.waitFor("msg=\"recovered state\"[^\\n]* steps=([0-9]+)", inErrors: true)
        .flatMap(Int.init), "\(second.combined)")
    // Every answered step is durable; at most the step in flight at the kill is more.
    #expect(recovered >= answered && recovered <= answered + 1, "\(answered) → \(recovered)")

    var summaries: [[String: Any]] = []
    for (name, participant) in zip(names, participants) {
      #expect(participant.wait(timeout: 180) == 0, "\(name): \(participant.combined)")
      let data = try Data(
        contentsOf: directory.appendingPathComponent("out-\(name)/summary.json"))
      summaries.append(try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]))
    }
    #expect(second.wait(timeout: 60) == 0, "\(second.combined)")
    let finalLog = second.standardError
    #expect(finalLog.contains("every participant has finished: stopping"), "\(finalLog)")
    let total = try #require(
      second.waitFor("msg=stopped steps=([0-9]+)", inErrors: true, timeout: 1).flatMap(Int.init),
      "\(finalLog)")
    // Both fronts took every relayed update: the relay survived the restart.
    #expect(Set(summaries.map { $0["frontHash"] as? String ?? "" }).count == 1, "\(summaries)")
    #expect(Set(summaries.map { $0["updatesApplied"] as? Int ?? -1 }).count == 1)
    // The step count continued from the durable one: every turn's step is counted once, the
    // lost turn's at most once.
    let sent = summaries.map { $0["steps"] as? Int ?? 0 }.reduce(0, +)
    let skipped = summaries.map { $0["skippedBatches"] as? Int ?? 0 }.reduce(0, +)
    // The turn in flight at the kill is skipped (unless the kill fell between two turns).
    #expect(sent == 40 && skipped <= 1, "\(summaries)")
    #expect(total >= sent - skipped && total <= sent, "\(total), \(summaries)")
    #expect(summaries.allSatisfy { $0["backSteps"] as? Int == total }, "\(summaries)")
    // The run record: both epochs, whose steps add up to the back's.
    let rows = try String(
      contentsOfFile: directory.appendingPathComponent("coordinator-run/metrics.csv").path,
      encoding: .utf8
    ).split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
    #expect(rows.map(\.first) == ["1", "2"], "\(rows)")
    #expect(rows.map { Int($0[2]) ?? 0 }.reduce(0, +) == total, "\(rows)")

    // The state is the federation's: another learning rate is refused, naming it.
    let refused = try BackgroundProcess(
      binary(), serve.map { $0 == "0.1" ? "0.2" : $0 })
    #expect(refused.wait(timeout: 60) != 0, "\(refused.combined)")
    #expect(refused.standardError.contains("lr 0.1 → 0.2"), "\(refused.combined)")
  }
}
