import GRPCCore

/// A turn held through a HoldTurn call (colearn.proto's `ParameterServer.HoldTurn`, split.proto's
/// `SplitCoordinator.HoldTurn`), the client side that both ``RemoteParameterServerClient`` and
/// ``RemoteSplitCoordinatorClient`` use: the call is started in the background, ``take(_:call:)``
/// returns once the server granted the turn, and the call stays open until ``end(within:)``
/// closes its request side — the server then releases the lease. Should this process die or
/// its connection break first, the call ends with it and the server releases the lease at once
/// instead of when it expires.
final class HeldTurn: Sendable {
  /// The server's grant: the lease id for Download/Upload (Step/PublishUpdate), its duration
  /// and the sequence number when the turn began.
  let grant: Colearn_V1_LockResponse
  private let release: AsyncStream<Void>.Continuation
  private let call: Task<Void, any Error>

  private init(
    grant: Colearn_V1_LockResponse, release: AsyncStream<Void>.Continuation,
    call: Task<Void, any Error>
  ) {
    self.grant = grant
    self.release = release
    self.call = call
  }

  /// The signature of a generated `holdTurn(metadata:options:requestProducer:onResponse:)`
  /// with its metadata and options applied.
  typealias Call = @Sendable (
    _ producer: @escaping @Sendable (RPCWriter<Colearn_V1_LockRequest>) async throws -> Void,
    _ onResponse:
      @escaping @Sendable (StreamingClientResponse<Colearn_V1_LockResponse>) async throws -> Void
  ) async throws -> Void

  /// Starts HoldTurn with `request` through `call` and waits until the server grants the turn.
  ///
  /// - Throws: the call's RPCError when the server refuses (or the call fails) before granting.
  static func take(_ request: Colearn_V1_LockRequest, call: @escaping Call) async throws
    -> HeldTurn
  {
    let (released, release) = AsyncStream<Void>.makeStream()
    let (grants, granted) = AsyncThrowingStream<Colearn_V1_LockResponse, any Error>.makeStream()
    let task = Task {
      do {
        try await call(
          { writer in
            try await writer.write(request)
            // The request side stays open for the turn; returning closes it (the release).
            for await _ in released {}
          },
          { response in
            for try await message in response.messages { granted.yield(message) }
          })
        granted.finish()
      } catch {
        granted.finish(throwing: error)
        throw error
      }
    }
    do {
      var pending = grants.makeAsyncIterator()
      guard let grant = try await pending.next() else {
        throw RPCError(
          code: .unavailable, message: "HoldTurn ended without granting the turn; retrying")
      }
      return HeldTurn(grant: grant, release: release, call: task)
    } catch {
      release.finish()
      task.cancel()
      throw error
    }
  }

  /// Ends the turn: closes the call's request side, which makes the server release the lease
  /// and end the call, and waits for that up to `timeout` (then cancels the call, which the
  /// server takes as a release too).
  func end(within timeout: Duration) async {
    release.finish()
    let call = self.call
    let timer = Task {
      try await Task.sleep(for: timeout)
      call.cancel()
    }
    _ = try? await call.value
    timer.cancel()
  }

  /// Closes the call's request side without waiting (the server releases the lease).
  func abandon() {
    release.finish()
  }
}
