import CoLearnDSSGD
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization
import Testing

/// HoldTurn on the real parameter server on 127.0.0.1 (issue 19 item 7): a turn held through an
/// open call ends when the call ends. The observed failure: a holder that vanished after Lock
/// returned kept the turn for its whole lease (default 600 s), blocking every other
/// participant; through HoldTurn, a dropped call gives the turn to the next waiter at once.
@Suite struct TurnHoldingTests {
  typealias Client = Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>

  static func lockRequest(_ id: String, milliseconds: UInt32 = 30_000) -> Colearn_V1_LockRequest {
    var request = Colearn_V1_LockRequest()
    request.participantID = id
    request.leaseDurationMs = milliseconds
    return request
  }

  /// Joins alice, bob and carol (in this order) and returns their ids.
  static func joinAll(_ server: ServerHarness) async throws -> [String: String] {
    var ids: [String: String] = [:]
    for name in ["alice", "bob", "carol"] {
      try await server.withClient(token: server.tokens[name]) { client, metadata in
        ids[name] = try await server.join(client, metadata, name: name)
      }
    }
    return ids
  }

  /// A HoldTurn call of `id` on a connection of its own, in a task: `granted` yields the lease
  /// when the server sends it; the request side stays open until `release` finishes (a normal
  /// end of the turn). Cancelling the task drops the call and closes the connection, as a
  /// killed participant would (the server may see the drop as a reset stream, a closed
  /// connection, or — when the client library half-closes the call it cancels — a close).
  struct Holder {
    let task: Task<Void, any Error>
    let granted: AsyncStream<Colearn_V1_LockResponse>
    let release: AsyncStream<Void>.Continuation

    init(_ server: ServerHarness, name: String, id: String, options: CallOptions = .defaults) {
      let (granted, grant) = AsyncStream<Colearn_V1_LockResponse>.makeStream()
      let (released, release) = AsyncStream<Void>.makeStream()
      self.granted = granted
      self.release = release
      task = Task {
        defer { grant.finish() }
        try await server.withClient(token: server.tokens[name]) { client, metadata in
          try await client.holdTurn(
            metadata: metadata, options: options,
            requestProducer: { writer in
              try await writer.write(TurnHoldingTests.lockRequest(id))
              for await _ in released {}
            },
            onResponse: { response in
              for try await message in response.messages { grant.yield(message) }
            })
        }
      }
    }

    /// The lease, once granted.
    func lease() async -> Colearn_V1_LockResponse? {
      var iterator = granted.makeAsyncIterator()
      return await iterator.next()
    }
  }

  /// The observed failure, through HoldTurn: alice holds the turn (a 30 s lease), then her
  /// connection goes away without any release. bob, waiting, must get the turn within seconds —
  /// not after the lease.
  @Test func aHolderWhoseConnectionDiesGivesTheTurnBackAtOnce() async throws {
    try await ServerHarness.run(participants: 3) { server in
      let ids = try await Self.joinAll(server)
      let alice = Holder(server, name: "alice", id: ids["alice"]!)
      let aliceLease = try #require(await alice.lease())
      #expect(aliceLease.leaseDurationMs == 30_000)
      #expect(server.federation.status().leaseHolder == "alice")
      var options = CallOptions.defaults
      options.timeout = .seconds(20)
      let bob = Holder(server, name: "bob", id: ids["bob"]!, options: options)
      try await Task.sleep(for: .milliseconds(200))
      #expect(server.federation.status().leaseHolder == "alice", "bob waits")

      let dropped = ContinuousClock.now
      alice.task.cancel()
      let bobLease = try #require(await bob.lease())
      let waited = ContinuousClock.now - dropped
      #expect(waited < .seconds(3), "bob waited \(waited) for a turn whose holder had gone")
      #expect(bobLease.leaseID != aliceLease.leaseID)
      #expect(server.federation.status().leaseHolder == "bob")

      // alice's lease is gone: a call with it (from a new connection) is ABORTED.
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        var download = Colearn_V1_DownloadRequest()
        download.participantID = ids["alice"]!
        download.leaseID = aliceLease.leaseID
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.download(download, metadata: metadata)
        }
        #expect(error?.code == .aborted)
      }
      bob.release.finish()
      try await bob.task.value
    }
  }

  /// Collects what a HoldTurn handler writes.
  final class GrantWriter: RPCWriterProtocol, Sendable {
    let written = Mutex<[Colearn_V1_LockResponse]>([])

    func write(_ element: Colearn_V1_LockResponse) async throws {
      written.withLock { $0.append(element) }
    }

    func write(contentsOf elements: some Sequence<Colearn_V1_LockResponse>) async throws {
      for element in elements { try await write(element) }
    }
  }

  /// The broken-call path on its own, deterministically: a request stream that fails after its
  /// LockRequest (what the transport reports for a reset stream or a closed connection)
  /// releases the lease at once, and the server logs it with the participant and the reason.
  @Test func aBrokenRequestStreamReleasesTheLeaseAndIsLogged() async throws {
    let (logger, log) = CapturingLogHandler.logger()
    try await ServerHarness.run(participants: 3, logger: logger) { server in
      let ids = try await Self.joinAll(server)
      let (requests, sink) = AsyncThrowingStream<Colearn_V1_LockRequest, any Error>.makeStream()
      sink.yield(Self.lockRequest(ids["alice"]!))
      let writer = GrantWriter()
      let federation = server.federation
      let holding = Task {
        try await federation.holdTurn(
          RPCAsyncSequence(wrapping: requests), responses: RPCWriter(wrapping: writer),
          identity: "alice")
      }
      try await TurnLeasesTests.eventually { federation.status().leaseHolder == "alice" }
      #expect(writer.written.withLock { $0.count } == 1)
      sink.finish(throwing: RPCError(code: .cancelled, message: "stream reset by the peer"))
      try await holding.value
      #expect(federation.status().leaseHolder == "")
      let broken = log.events("turn call ended before the turn: lease released")
      #expect(broken.map { $0["participant"]?.description } == ["alice"])
      #expect(broken.first?["reason"]?.description.contains("stream reset by the peer") == true)
    }
  }

  /// A normal turn through HoldTurn: the lease works for Download and Upload (and only for its
  /// holder), closing the request side releases it — the next waiter gets the turn, the call
  /// ends with OK, nothing is logged as broken — and the lease is then refused with ABORTED.
  @Test func closingTheCallEndsTheTurnAndServesTheNext() async throws {
    let (logger, log) = CapturingLogHandler.logger()
    try await ServerHarness.run(participants: 3, logger: logger) { server in
      let ids = try await Self.joinAll(server)
      let alice = Holder(server, name: "alice", id: ids["alice"]!)
      let lease = try #require(await alice.lease()).leaseID
      let carol = Holder(server, name: "carol", id: ids["carol"]!)
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        var download = Colearn_V1_DownloadRequest()
        download.participantID = ids["alice"]!
        download.leaseID = lease
        let downloaded = try await client.download(download, metadata: metadata)
        #expect(downloaded.parameters.dimension == 10)
        var upload = Colearn_V1_UploadRequest()
        upload.participantID = ids["alice"]!
        upload.leaseID = lease
        upload.update = SparseVector.make([(1, 0.5)]).proto(dimension: 10)
        upload.round = 1
        let uploaded = try await client.upload(upload, metadata: metadata)
        #expect(uploaded.sequenceNumber == 1)
      }
      try await server.withClient(token: server.tokens["bob"]) { client, metadata in
        var upload = Colearn_V1_UploadRequest()
        upload.participantID = ids["bob"]!
        upload.leaseID = lease
        upload.update = SparseVector.make([(1, 0.5)]).proto(dimension: 10)
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.upload(upload, metadata: metadata)
        }
        #expect(error?.code == .permissionDenied)
      }
      #expect(server.federation.status().leaseHolder == "alice")

      let released = ContinuousClock.now
      alice.release.finish()
      try await alice.task.value
      #expect(try #require(await carol.lease()).leaseID != lease)
      #expect(ContinuousClock.now - released < .seconds(3), "not after the 30 s lease")
      #expect(server.federation.status().leaseHolder == "carol")
      #expect(log.events("turn call ended before the turn: lease released").isEmpty)
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        var download = Colearn_V1_DownloadRequest()
        download.participantID = ids["alice"]!
        download.leaseID = lease
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.download(download, metadata: metadata)
        }
        #expect(error?.code == .aborted)
      }
      carol.release.finish()
      try await carol.task.value
    }
  }

  /// Old and new participants share one queue: alice takes the turn with Lock, bob waits in
  /// HoldTurn and gets it at alice's Unlock; when bob's lease is released on the server (here
  /// by Unlock with its id), the server ends bob's call with OK.
  @Test func lockAndUnlockStillWorkBesideHoldTurn() async throws {
    try await ServerHarness.run(participants: 3) { server in
      let ids = try await Self.joinAll(server)
      try await server.withClient(token: server.tokens["alice"]) { alice, am in
        let lease = try await alice.lock(Self.lockRequest(ids["alice"]!), metadata: am)
        let bob = Holder(server, name: "bob", id: ids["bob"]!)
        try await Task.sleep(for: .milliseconds(200))
        #expect(server.federation.status().leaseHolder == "alice")
        var unlock = Colearn_V1_UnlockRequest()
        unlock.participantID = ids["alice"]!
        unlock.leaseID = lease.leaseID
        #expect(try await alice.unlock(unlock, metadata: am).released)
        let bobLease = try #require(await bob.lease())
        #expect(server.federation.status().leaseHolder == "bob")
        try await server.withClient(token: server.tokens["bob"]) { client, metadata in
          var bobUnlock = Colearn_V1_UnlockRequest()
          bobUnlock.participantID = ids["bob"]!
          bobUnlock.leaseID = bobLease.leaseID
          let released = try await client.unlock(bobUnlock, metadata: metadata).released
          #expect(released)
        }
        // The call ends although bob never closed his side.
        try await bob.task.value
        #expect(server.federation.status().leaseHolder == "")
      }
    }
  }

  /// A HoldTurn whose caller gives up while waiting (its deadline passes) leaves the queue and
  /// is never granted: when alice's turn ends, carol (after bob in join order) gets it.
  @Test func aWaiterThatGaveUpIsNotGranted() async throws {
    try await ServerHarness.run(participants: 3) { server in
      let ids = try await Self.joinAll(server)
      let alice = Holder(server, name: "alice", id: ids["alice"]!)
      _ = try #require(await alice.lease())
      var impatient = CallOptions.defaults
      impatient.timeout = .milliseconds(300)
      let bob = Holder(server, name: "bob", id: ids["bob"]!, options: impatient)
      let gaveUp = await #expect(throws: RPCError.self) { try await bob.task.value }
      #expect(gaveUp?.code == .deadlineExceeded)
      let carol = Holder(server, name: "carol", id: ids["carol"]!)
      try await Task.sleep(for: .milliseconds(200))
      alice.release.finish()
      try await alice.task.value
      _ = try #require(await carol.lease())
      #expect(server.federation.status().leaseHolder == "carol")
      carol.release.finish()
      try await carol.task.value
    }
  }

  /// A graceful shutdown ends a held HoldTurn call (OK) instead of waiting for the turn, or for
  /// the shutdown grace (10 s), to run out.
  @Test func aShutdownEndsAHeldTurnCall() async throws {
    try await ServerHarness.run(participants: 3) { server in
      let ids = try await Self.joinAll(server)
      let alice = Holder(server, name: "alice", id: ids["alice"]!)
      _ = try #require(await alice.lease())
      let stopping = ContinuousClock.now
      server.host.stop()
      try await alice.task.value
      #expect(ContinuousClock.now - stopping < .seconds(5))
    }
  }

  /// HoldTurn follows Lock's rules: refused without a token (UNAUTHENTICATED), under async
  /// (FAILED_PRECONDITION), for a zero lease (INVALID_ARGUMENT) and for another token's
  /// participant id (PERMISSION_DENIED).
  @Test func holdTurnIsRefusedAsLockIs() async throws {
    try await ServerHarness.run(order: .async, participants: 3) { server in
      let ids = try await Self.joinAll(server)
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        let error = await #expect(throws: RPCError.self) {
          try await client.holdTurn(
            metadata: metadata,
            requestProducer: { try await $0.write(Self.lockRequest(ids["alice"]!)) },
            onResponse: { response in for try await _ in response.messages {} })
        }
        #expect(error?.code == .failedPrecondition)
      }
    }
    try await ServerHarness.run(participants: 3) { server in
      let ids = try await Self.joinAll(server)
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        for (request, code) in [
          (Self.lockRequest(ids["alice"]!, milliseconds: 0), RPCError.Code.invalidArgument),
          (Self.lockRequest(ids["bob"]!), .permissionDenied),
        ] {
          let error = await #expect(throws: RPCError.self) {
            try await client.holdTurn(
              metadata: metadata, requestProducer: { try await $0.write(request) },
              onResponse: { response in for try await _ in response.messages {} })
          }
          #expect(error?.code == code)
        }
      }
      try await server.withClient(token: nil) { client, metadata in
        let error = await #expect(throws: RPCError.self) {
          try await client.holdTurn(
            metadata: metadata,
            requestProducer: { try await $0.write(Self.lockRequest(ids["alice"]!)) },
            onResponse: { response in for try await _ in response.messages {} })
        }
        #expect(error?.code == .unauthenticated)
      }
    }
  }

  /// colearn's own participant client takes its turns through HoldTurn: closing it mid-turn
  /// (a participant shutting down, or its process exiting) gives the turn back at once, where
  /// with Lock its lease would have blocked carol for the whole 30 s.
  @Test func theParticipantClientHoldsItsTurnThroughTheCall() async throws {
    try await ServerHarness.run(participants: 3) { server in
      let ids = try await Self.joinAll(server)
      let remote = try await onThread {
        try RemoteParameterServerClient(
          RemoteServerConfiguration(
            host: "127.0.0.1", port: server.port, tls: nil, token: server.tokens["alice"]!,
            participantName: "alice", model: ServerHarness.model, leaseMilliseconds: 30_000,
            retryFor: .seconds(5), callTimeout: .seconds(5)))
      }
      try await onThread { try remote.beginTurn() }
      #expect(server.federation.status().leaseHolder == "alice")
      var options = CallOptions.defaults
      options.timeout = .seconds(20)
      let carol = Holder(server, name: "carol", id: ids["carol"]!, options: options)
      try await Task.sleep(for: .milliseconds(200))
      let closed = ContinuousClock.now
      remote.close()
      _ = try #require(await carol.lease())
      #expect(ContinuousClock.now - closed < .seconds(3))
      #expect(server.federation.status().leaseHolder == "carol")
      carol.release.finish()
      try await carol.task.value
    }
  }
}
