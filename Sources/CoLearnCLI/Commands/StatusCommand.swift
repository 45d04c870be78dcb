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
    abstract: "Show a running server's federation: round, participants, uploads, the turn.",
    discussion: """
      Reads the server's Status RPC (no Join: no slot is taken). For the global accuracy curve \
      see the server's run record (`colearn plot STATE-DIR/run`); for scraping, \
      `serve --metrics-listen`.
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
      ("rounds completed", "\(status.roundsCompleted)"),
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
  }
}
