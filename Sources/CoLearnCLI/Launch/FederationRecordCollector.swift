import Foundation

/// `colearn launch slurm --collect`: the record of a federation run on Slurm, gathered from the
/// shared file system — the server's run record (`server/state/run/`), and per participant its
/// kit's `run/summary.json` and `acks.csv` — into `OUT/record/` and `OUT/federation-record.json`,
/// with which participants did not finish every round (their Slurm job ids and logs).
struct FederationRecordCollector {
  /// The job ids of a submission, as `OUT/jobs.json` records them.
  struct Jobs: Codable, Equatable {
    var server: String
    var participants: String
    var collect: String?
  }

  /// One participant's outcome.
  struct Participant: Codable, Equatable {
    var name: String
    /// The distinct rounds of its acknowledged uploads.
    var roundsAcknowledged: Int
    var federationFinished: Bool
    var finalAccuracy: Double?
    var jobId: String?
    var log: String?
  }

  struct Record: Codable, Equatable {
    var federation: String
    /// Rounds the server completed (its run record's summary), if it wrote one.
    var serverRounds: Int?
    var finalGlobalAccuracy: Double?
    var participants: [Participant]
    /// Whether every participant saw the federation finish with an acknowledged upload in
    /// every round the server completed.
    var complete: Bool
  }

  var federation: String
  var name: String
  var participants: [String]
  var output: String

  var jobsPath: String { output + "/jobs.json" }

  /// Reads everything and writes the record; never throws for a missing participant file (that
  /// participant is incomplete), only for files it cannot write.
  func collect() throws -> Record {
    let jobs = (FileManager.default.contents(atPath: jobsPath))
      .flatMap { try? JSONDecoder().decode(Jobs.self, from: $0) }
    let serverRun = federation + "/server/state/run"
    let serverSummary = Self.json(serverRun + "/summary.json")
    let serverRounds = (serverSummary?["rounds"] as? NSNumber)?.intValue
    var outcomes: [Participant] = []
    for (index, participant) in participants.enumerated() {
      let run = federation + "/kits/" + participant + "/run"
      let summary = Self.json(run + "/summary.json")
      let acks = (try? String(contentsOfFile: run + "/acks.csv", encoding: .utf8)) ?? ""
      let rounds = Set(acks.split(separator: "\n").dropFirst().compactMap { $0.split(separator: ",").first })
      outcomes.append(
        Participant(
          name: participant, roundsAcknowledged: rounds.count,
          federationFinished: Self.flag(summary?["federationFinished"]),
          finalAccuracy: (summary?["finalAccuracy"] as? NSNumber)?.doubleValue,
          jobId: jobs.map { "\($0.participants)_\(index)" },
          log: jobs.map { output + "/logs/participant-\($0.participants)_\(index).out" }))
    }
    let complete =
      serverRounds.map { rounds in
        rounds > 0 && outcomes.allSatisfy { $0.federationFinished && $0.roundsAcknowledged == rounds }
      } ?? false
    let record = Record(
      federation: name, serverRounds: serverRounds,
      finalGlobalAccuracy: (serverSummary?["finalGlobalAccuracy"] as? NSNumber)?.doubleValue,
      participants: outcomes, complete: complete)
    let copy = output + "/record"
    try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
    for file in ["summary.json", "metrics.csv", "config.json"] {
      if let data = FileManager.default.contents(atPath: serverRun + "/" + file) {
        try SlurmBatch.write(String(decoding: data, as: UTF8.self), to: copy + "/server-" + file, executable: false)
      }
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try SlurmBatch.write(
      String(decoding: try encoder.encode(record), as: UTF8.self) + "\n",
      to: output + "/federation-record.json", executable: false)
    return record
  }

  /// The lines printed for `record`.
  static func describe(_ record: Record) -> [String] {
    var lines = [
      "federation \(record.federation): server completed "
        + (record.serverRounds.map { "\($0) rounds" } ?? "no rounds (no server run record)")
        + (record.finalGlobalAccuracy.map { ", global accuracy " + format(100 * $0, 2) + "%" } ?? "")
    ]
    for participant in record.participants {
      var line =
        "  \(participant.name): \(participant.roundsAcknowledged) rounds acknowledged, "
        + (participant.federationFinished ? "finished" : "NOT finished")
        + (participant.finalAccuracy.map { ", accuracy " + format(100 * $0, 2) + "%" } ?? "")
      let expected = record.serverRounds ?? 0
      if !participant.federationFinished || participant.roundsAcknowledged != expected,
        let jobId = participant.jobId, let log = participant.log
      {
        line += " (Slurm job \(jobId), log \(log))"
      }
      lines.append(line)
    }
    return lines
  }

  /// A JSON boolean as JSONSerialization gives it (Bool, or NSNumber on some platforms).
  private static func flag(_ value: Any?) -> Bool {
    if let value = value as? Bool { return value }
    return (value as? NSNumber)?.boolValue ?? false
  }

  private static func json(_ path: String) -> [String: Any]? {
    FileManager.default.contents(atPath: path)
      .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
  }
}
