import CoLearnDSSGD
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// The server's behaviour that is not an error: joining, turns, round-robin order, idempotent
/// uploads, stat decay per round, and the remote client driving a DSSGD turn.
@Suite struct FederationTests {
  @Test func joinIsIdempotentPerTokenAndNamesAreUnique() async throws {
    try await ServerHarness.run { server in
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        let first = try await server.join(client, metadata, name: "alice")
        let again = try await server.join(client, metadata, name: "alice")
        #expect(first == again)
        var request = Colearn_V1_JoinRequest()
        request.model = ServerHarness.model.proto
        request.participantName = "alice"
        let response = try await client.join(request, metadata: metadata)
        #expect(response.configuration.participants == 3)
        #expect(response.configuration.exchangeProtocol == .roundRobin)
        #expect(response.configuration.model.parameterCount == 10)
      }
      try await server.withClient(token: server.tokens["bob"]) { client, metadata in
        let error = await #expect(throws: RPCError.self) {
          _ = try await server.join(client, metadata, name: "alice")
        }
        #expect(error?.code == .alreadyExists)
      }
    }
  }

  @Test func roundRobinGrantsTurnsInJoinOrderAndDecaysAfterEveryRound() async throws {
    try await ServerHarness.run(participants: 2) { server in
      try await server.withClient(token: server.tokens["alice"]) { alice, am in
        try await server.withClient(token: server.tokens["bob"]) { bob, bm in
          let aliceID = try await server.join(alice, am, name: "alice")
          let bobID = try await server.join(bob, bm, name: "bob")
          func turn(
            _ client: Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>,
            _ metadata: Metadata, _ id: String, round: UInt64, index: Int32
          ) async throws -> UInt64 {
            var lock = Colearn_V1_LockRequest()
            lock.participantID = id
            lock.leaseDurationMs = 10_000
            let lease = try await client.lock(lock, metadata: metadata).leaseID
            var download = Colearn_V1_DownloadRequest()
            download.participantID = id
            download.leaseID = lease
            let values = try await client.download(download, metadata: metadata)
            #expect(values.parameters.dimension == 10)
            var upload = Colearn_V1_UploadRequest()
            upload.participantID = id
            upload.leaseID = lease
            upload.round = round
            upload.update = SparseVector.make([(index, 1)]).proto(dimension: 10)
            let ack = try await client.upload(upload, metadata: metadata)
            // A retry of the same round is answered, not applied again.
            let retry = try await client.upload(upload, metadata: metadata)
            #expect(retry.duplicate && retry.sequenceNumber == ack.sequenceNumber)
            var unlock = Colearn_V1_UnlockRequest()
            unlock.participantID = id
            unlock.leaseID = lease
            #expect(try await client.unlock(unlock, metadata: metadata).released)
            #expect(try await !client.unlock(unlock, metadata: metadata).released)
            return ack.sequenceNumber
          }
          #expect(try await turn(alice, am, aliceID, round: 1, index: 0) == 1)
          #expect(server.federation.store.state.stat[0] == 1)
          #expect(try await turn(bob, bm, bobID, round: 1, index: 1) == 2)
          // Round complete: stat decayed by β = 0.5.
          #expect(server.federation.store.state.stat[0...1] == [0.5, 0.5])
          #expect(server.federation.store.roundsCompleted == 1)
          #expect(try await turn(alice, am, aliceID, round: 2, index: 2) == 3)
          #expect(try await turn(bob, bm, bobID, round: 2, index: 3) == 4)
          #expect(server.snapshot.0 == [1, 2, 3, 4] + (4..<10).map(Float.init))
          let status = try await alice.status(Colearn_V1_StatusRequest(), metadata: am)
          #expect(status.sequenceNumber == 4)
          #expect(status.duplicateUploads == 4)
          #expect(status.participantsJoined == 2)
          #expect(status.roundsCompleted == 2)
        }
      }
    }
  }

  /// Waiting participants get the turn in join order after the last holder, whatever order
  /// they asked in.
  @Test func waitersAreServedInJoinOrderAfterTheLastHolder() async throws {
    try await ServerHarness.run(participants: 3) { server in
      try await server.withClient(token: server.tokens["alice"]) { alice, am in
        try await server.withClient(token: server.tokens["bob"]) { bob, bm in
          try await server.withClient(token: server.tokens["carol"]) { carol, cm in
            let aliceID = try await server.join(alice, am, name: "alice")
            let bobID = try await server.join(bob, bm, name: "bob")
            let carolID = try await server.join(carol, cm, name: "carol")
            func lock(
              _ client: Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>,
              _ metadata: Metadata, _ id: String
            ) async throws -> String {
              var request = Colearn_V1_LockRequest()
              request.participantID = id
              request.leaseDurationMs = 10_000
              return try await client.lock(request, metadata: metadata).leaseID
            }
            let aliceLease = try await lock(alice, am, aliceID)
            let order = OrderRecorder()
            async let carolGets: Void = {
              _ = try await lock(carol, cm, carolID)
              await order.append("carol")
            }()
            try await Task.sleep(for: .milliseconds(150))
            async let bobGets: Void = {
              let lease = try await lock(bob, bm, bobID)
              await order.append("bob")
              try await Task.sleep(for: .milliseconds(100))
              var unlock = Colearn_V1_UnlockRequest()
              unlock.participantID = bobID
              unlock.leaseID = lease
              _ = try await bob.unlock(unlock, metadata: bm)
            }()
            try await Task.sleep(for: .milliseconds(150))
            var unlock = Colearn_V1_UnlockRequest()
            unlock.participantID = aliceID
            unlock.leaseID = aliceLease
            #expect(try await alice.unlock(unlock, metadata: am).released)
            _ = try await (carolGets, bobGets)
            #expect(await order.names == ["bob", "carol"])
          }
        }
      }
    }
  }

  actor OrderRecorder {
    var names: [String] = []
    func append(_ name: String) { names.append(name) }
  }

  /// A DSSGD turn through ``RemoteParameterServerClient`` ends exactly as against the
  /// in-process server.
  @Test func theRemoteClientRunsTheSameTurnAsTheInProcessServer() async throws {
    try await ServerHarness.run(participants: 1, uploadFraction: 0.3) { server in
      let token = server.tokens["carol"]!
      let port = server.port
      let remote = try await Task.detached {
        try RemoteParameterServerClient(
          RemoteServerConfiguration(
            host: "127.0.0.1", port: port, tls: nil, token: token, participantName: "carol",
            model: ServerHarness.model))
      }.value
      let local = InProcessParameterServer(
        state: ParameterServerState(parameters: (0..<10).map(Float.init), statDecay: 0.5))
      let update = SparseVector.make([(2, 0.25), (7, -0.5), (9, 1)])
      let (remoteSequence, remoteParameters) = try await Task.detached {
        try remote.beginTurn()
        var parameters = [Float](repeating: 0, count: 10)
        _ = try parameters.withUnsafeMutableBufferPointer { try remote.download(fraction: 1, into: $0) }
        let sequence = try remote.upload(update)
        try remote.endTurn()
        return (sequence, try remote.downloadAll())
      }.value
      #expect(remoteSequence == (try local.upload(update)))
      #expect(remoteParameters == local.state.parameters)
      #expect(remote.round == 2)
      remote.close()
    }
  }
}
