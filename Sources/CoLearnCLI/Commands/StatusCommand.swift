import ArgumentParser
import CoLearnDSSGD
import CoLearnRPC
import Foundation
import GRPCCore

/// `colearn status`: an operator's view of a running `colearn serve` through its Status RPC —
/// without joining, so it takes no participant's slot. Any active token of the server's token
/// file authenticates it (issue one for the operator: `colearn token add operator`).
struct StatusCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "status",
    abstract: "Show a running server's federation: round, participants, their reports, accuracy.",
    discussion: """
      Reads the server's Status RPC (no Join: no slot is taken): the federation's settings and \
      counters, one row per participant (joined, last upload, uploads, last round, and the \
      accuracy and ε it reported — self-reported figures, not checked by the server), and the \
      global model's latest evaluations (`serve --eval-data`). The whole run record is in \
      STATE-DIR/run (`colearn plot STATE-DIR/run`); for scraping, `serve --metrics-listen`.
      """)

  @OptionGroup var connection: ServerConnectionOptions

  func run() throws {
    let address = try connection.address()
    let rpc = try RPCConnection(
      RPCEndpoint(host: address.host, port: address.port, tls: connection.tls, token: try connection.token()))
    defer { rpc.close() }
    var options = CallOptions.defaults
    options.timeout = .seconds(10)
    let status: Colearn_V1_StatusResponse
    do {
      status = try rpc.call("Status", options: options, retryFor: .seconds(10)) { grpc, metadata, options in
        try await Colearn_V1_ParameterServer.Client(wrapping: grpc).status(
          Colearn_V1_StatusRequest(), metadata: metadata, options: options)
      }
    } catch {
      throw CLIError("cannot read the status of \(connection.server): \(error)")
    }
    let settings = status.configuration
    var table = Table(headers: ["federation", "now"])
    let rows: [(String, String)] = [
      ("model", "\(settings.model.architecture) (|w| = \(settings.model.parameterCount))"),
      ("protocol", ExchangeOrder(proto: settings.exchangeProtocol)?.rawValue ?? "unknown"),
      ("participants joined", "\(status.participantsJoined) of \(settings.participants)"),
      (
        "rounds completed",
        "\(status.roundsCompleted)"
          + (status.roundsPlanned > 0 ? " of \(status.roundsPlanned)" : " (no end set)")
          + (status.started ? "" : " — waiting for participants to start")
      ),
      ("uploads applied", "\(status.sequenceNumber)"),
      ("duplicate / refused uploads", "\(status.duplicateUploads) / \(status.refusedUploads)"),
      ("downloads", "\(status.downloads)"),
      ("turn held by", status.leaseHolder.isEmpty ? "nobody" : status.leaseHolder),
      ("θu / θd", "\(settings.uploadFraction) / \(settings.downloadFraction)"),
      ("uptime", "\(status.uptimeSeconds) s"),
    ]
    for (name, value) in rows { table.add([name, value]) }
    print("colearn status: \(connection.server)")
    print(table.render())
    if !status.participants.isEmpty {
      print("")
      print(Self.participantTable(status.participants, now: Date()).render())
    }
    if !status.globalEvaluations.isEmpty {
      print("")
      print(Self.evaluationTable(status.globalEvaluations).render())
    }
  }

  /// One row per participant the server has seen: its own figures are self-reported.
  static func participantTable(_ participants: [Colearn_V1_ParticipantStatus], now: Date) -> Table {
    var table = Table(headers: [
      "participant", "joined", "last upload", "uploads", "last round", "reported accuracy",
      "ε spent (reported)",
    ])
    for participant in participants {
      let report = participant.hasReport ? participant.report : nil
      table.add([
        participant.name,
        participant.joined ? ago(participant.joinedUnixMs, now: now) : "left",
        participant.lastUploadUnixMs > 0 ? ago(participant.lastUploadUnixMs, now: now) : "never",
        "\(participant.uploads)", "\(participant.lastRound)",
        report.map { "\(format(100 * $0.testAccuracy, 2))% (round \($0.round))" } ?? "—",
        report.map { report in
          report.hasEpsilon
            ? "ε = \(format(report.epsilon, 3)), δ = \(report.delta) (\(report.privacyUnit))"
            : "no DP: no formal guarantee"
        } ?? "—",
      ])
    }
    return table
  }

  /// The global model's accuracy curve: the last 20 evaluations.
  static func evaluationTable(_ evaluations: [Colearn_V1_GlobalEvaluation]) -> Table {
    var table = Table(headers: ["round", "global accuracy", "global loss"])
    for evaluation in evaluations.suffix(20) {
      table.add([
        "\(evaluation.round)", format(100 * evaluation.accuracy, 2) + "%",
        format(evaluation.loss, 4),
      ])
    }
    return table
  }

  private static func ago(_ unixMilliseconds: Int64, now: Date) -> String {
    let seconds = max(0, Int(now.timeIntervalSince1970 - Double(unixMilliseconds) / 1000))
    if seconds < 120 { return "\(seconds) s ago" }
    if seconds < 7200 { return "\(seconds / 60) min ago" }
    return "\(seconds / 3600) h ago"
  }
}
