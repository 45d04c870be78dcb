import GRPCCore
import Logging

/// The server side of a HoldTurn call (colearn.proto's `ParameterServer.HoldTurn` and
/// split.proto's `SplitCoordinator.HoldTurn`), shared by ``Federation`` and
/// ``SplitFederation``: the turn's lease lives exactly as long as the call.
///
/// The call's first message is a LockRequest; the server waits for the turn as Lock does,
/// sends the LockResponse, and then keeps the call open until the first of
/// - the caller half-closes its side: the turn is over, the lease is released (as by Unlock);
/// - the call breaks: the caller cancelled it, its deadline passed, the stream was reset or the
///   connection closed (a holder killed or cut off mid-turn) — reported by the request stream
///   failing or on the RPC's cancellation handle, whichever comes first: the lease is released
///   at once and the event logged (notice, "turn call ended before the turn: lease released");
/// - the lease ends on the server (Unlock, PublishUpdate, Leave, Finish, expiry): the call ends
///   with OK.
/// Messages after the first are read and ignored.
enum TurnHolding {
  /// Why a held turn ended.
  enum End: Sendable, Equatable {
    /// The caller half-closed: a normal end of the turn.
    case closed
    /// The call broke before the caller ended it (the reason, for the log).
    case broken(String)
    /// The lease ended on the server first.
    case leaseEnded
  }

  private enum Event: Sendable {
    case request(Colearn_V1_LockRequest)
    case end(End)
  }

  /// Serves one HoldTurn call: `grant` waits for the turn of the first request's participant
  /// (checking it as Lock does) and returns Lock's response with the lease; `name` is how the
  /// lease's holder appears in the log.
  ///
  /// - Throws: a FederationError from `grant` (as Lock refuses), INVALID_ARGUMENT when the
  ///   stream ends before its first message, the error of a failed write of the grant.
  static func serve(
    _ requests: RPCAsyncSequence<Colearn_V1_LockRequest, any Error>,
    _ responses: RPCWriter<Colearn_V1_LockResponse>,
    leases: TurnLeases, logger: Logger,
    grant: (Colearn_V1_LockRequest) async throws -> (Colearn_V1_LockResponse, TurnLeases.Lease)
  ) async throws {
    // One reader owns the request stream (it allows a single iterator) and reports its
    // messages and its end as events; the RPC's cancellation handle and the lease's end report
    // into the same stream, so the handler wakes for whichever comes first.
    let (events, sink) = AsyncStream<Event>.makeStream()
    let reader = Task {
      do {
        for try await request in requests { sink.yield(.request(request)) }
        sink.yield(.end(.closed))
      } catch {
        sink.yield(.end(.broken(Self.describe(error))))
      }
    }
    defer {
      reader.cancel()
      sink.finish()
    }
    try await withRPCCancellationHandler {
      var pending = events.makeAsyncIterator()
      guard case .request(let first)? = await pending.next() else {
        throw FederationError(
          .invalidArgument,
          "HoldTurn: the call ended before its LockRequest; send the request first and keep "
            + "the call open for the turn")
      }
      let (response, lease) = try await grant(first)
      leases.onEnd(of: lease) { sink.yield(.end(.leaseEnded)) }
      do {
        try await responses.write(response)
      } catch {
        release(lease, leases: leases, logger: logger, because: .broken(Self.describe(error)))
        throw error
      }
      var end = End.broken("the server stopped waiting")
      while let event = await pending.next() {
        if case .end(let reason) = event {
          end = reason
          break
        }
      }
      release(lease, leases: leases, logger: logger, because: end)
    } onCancelRPC: {
      sink.yield(.end(.broken("the call was cancelled (deadline, reset stream or closed connection)")))
    }
  }

  /// Releases `lease` unless it ended on the server, logging a broken call.
  private static func release(
    _ lease: TurnLeases.Lease, leases: TurnLeases, logger: Logger, because end: End
  ) {
    guard end != .leaseEnded else { return }
    let released = (try? leases.release(lease.id, of: lease.holder)) ?? false
    if case .broken(let reason) = end, released {
      logger.notice(
        "turn call ended before the turn: lease released",
        metadata: ["participant": "\(lease.holderName)", "reason": "\(reason)"])
    }
  }

  private static func describe(_ error: any Error) -> String {
    if let error = error as? RPCError { return "\(error.code): \(error.message)" }
    return "\(error)"
  }
}
