import GRPCCore

/// Why the parameter server refused a call: a gRPC status code from the list in colearn.proto and
/// a message that says what was wrong and what to do. A refused call changed nothing.
public struct FederationError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The status code the call ends with.
  public var code: RPCError.Code
  /// The human-readable reason.
  public var message: String

  public init(_ code: RPCError.Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code): \(message)" }

  /// The error the gRPC layer answers with.
  public var rpcError: RPCError { RPCError(code: code, message: message) }

  static func notJoined(_ participantID: String) -> FederationError {
    FederationError(
      .notFound,
      participantID.isEmpty
        ? "the request has no participant_id; call Join first and send the id it returns"
        : "unknown participant id \"\(participantID.prefix(64))\" (never joined, left, or the "
          + "server restarted); call Join again")
  }
}
