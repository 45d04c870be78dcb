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
  @Test func joinIsIdempotentPerTokenAndAnnouncesTheSettings() async throws {
    try await ServerHarness.run(updateBounds: UpdateBounds(maxValue: 0.5, maxNorm: 2)) { server in
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        let first = try await server.join(client, metadata, name: "alice")
        let again = try await server.join(client, metadata, name: "host-1.example")
        #expect(first == again)
        var request = Colearn_V1_JoinRequest()
        request.model = ServerHarness.model.proto
        request.participantName = "alice"
        let response = try await client.join(request, metadata: metadata)
        #expect(response.participantName == "alice")
        #expect(response.configuration.participants == 3)
        #expect(response.configuration.exchangeProtocol == .roundRobin)
        #expect(response.configuration.model.parameterCount == 10)
        #expect(response.configuration.maxUpdateValue == 0.5)
        #expect(response.configuration.maxUpdateNorm == 2)
        #expect(response.configuration.maxMessageBytes == 4 << 20)
      }
    }
  }

  /// Issue 17: the server publishes its model file and schema at Join, so a participant can
  /// join without a model of its own; a participant with a differently named but identical
  /// model is accepted (the name is a label), one with a different layer is told which.
  @Test func joinPublishesTheModelFileAndTheSchema() async throws {
    let modelFile = "name = \"tiny\"\ninput = [4]\nclasses = 2\n\n[[layers]]\n"
      + "type = \"linear\"\noutputs = 2\n\n[[layers]]\ntype = \"log-softmax\"\n"
    let schema = #"{"classes":["no","yes"]}"#
    try await ServerHarness.run(modelFile: modelFile, datasetSchema: schema) { server in
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        var request = Colearn_V1_JoinRequest()
        request.participantName = "alice"
        let response = try await client.join(request, metadata: metadata)
        #expect(response.modelFile == modelFile)
        #expect(response.datasetSchema == schema)
        #expect(response.configuration.model.specHash == ServerHarness.model.specificationHash)

        var renamed = ServerHarness.model
        renamed.architecture = "my-tiny"
        request.model = renamed.proto
        #expect(try await client.join(request, metadata: metadata).participantID
          == response.participantID)

        var other = ServerHarness.model
        other.specificationHash = "fedcba9876543210"
        request.model = other.proto
        request.modelFile = modelFile.replacingOccurrences(of: "outputs = 2", with: "outputs = 3")
          + "\n[[layers]]\ntype = \"relu\"\n"
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.join(request, metadata: metadata)
        }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains(
          "layer 1 (\"linear\"): outputs = 2 on the server, outputs = 3 in yours") == true)
        #expect(error?.message.contains(
          "layer 2 (\"log-softmax\"): type = \"log-softmax\" on the server, "
            + "type = \"log-softmax\" in yours") == false)
        #expect(error?.message.contains("layer 3 (\"relu\"): nothing on the server") == true)
        #expect(error?.message.contains("leave out --model") == true)
      }
    }
    // A server with no model file cannot serve a participant without a model.
    try await ServerHarness.run { server in
      try await server.withClient(token: server.tokens["bob"]) { client, metadata in
        var request = Colearn_V1_JoinRequest()
        request.participantName = "bob"
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.join(request, metadata: metadata)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("publishes no model file") == true)
      }
    }
  }

  /// Issue 19 item 6: display names were not bound to tokens, so (after a restart, when the
  /// server had forgotten who used "alice") bob's token joined as "alice" and alice was then
  /// refused. A participant now appears under its token's name whatever it sends.
  @Test func aParticipantAppearsUnderItsTokensNameWhateverNameItSends() async throws {
    try await ServerHarness.run(participants: 2) { server in
      var request = Colearn_V1_JoinRequest()
      request.model = ServerHarness.model.proto
      request.participantName = "alice"
      try await server.withClient(token: server.tokens["bob"]) { bob, bobMetadata in
        let bobJoin = try await bob.join(request, metadata: bobMetadata)
        #expect(bobJoin.participantName == "bob")
        try await server.withClient(token: server.tokens["alice"]) { alice, aliceMetadata in
          let aliceJoin = try await alice.join(request, metadata: aliceMetadata)
          #expect(aliceJoin.participantName == "alice")
          #expect(aliceJoin.participantID != bobJoin.participantID)
        }
        var lock = Colearn_V1_LockRequest()
        lock.participantID = bobJoin.participantID
        lock.leaseDurationMs = 10_000
        _ = try await bob.lock(lock, metadata: bobMetadata)
        let status = try await bob.status(Colearn_V1_StatusRequest(), metadata: bobMetadata)
        #expect(status.leaseHolder == "bob")
        #expect(status.participantsJoined == 2)
      }
    }
  }

  /// Issue 19 item 6: a revoked participant kept its slot until a restart, so a new token was
  /// told the federation is full. Revocation now frees the slot at once.
  @Test func revokingATokenFreesItsSlotAtOnce() async throws {
    try await ServerHarness.run(participants: 2) { server in
      try await server.withClient(token: server.tokens["alice"]) { alice, aliceMetadata in
        try await server.withClient(token: server.tokens["bob"]) { bob, bobMetadata in
          _ = try await server.join(alice, aliceMetadata, name: "alice")
          let bobID = try await server.join(bob, bobMetadata, name: "bob")
          var lock = Colearn_V1_LockRequest()
          lock.participantID = bobID
          lock.leaseDurationMs = 30_000
          _ = try await bob.lock(lock, metadata: bobMetadata)
          try await server.withClient(token: server.tokens["carol"]) { carol, carolMetadata in
            let full = await #expect(throws: RPCError.self) {
              _ = try await server.join(carol, carolMetadata, name: "carol")
            }
            #expect(full?.code == .resourceExhausted)
            #expect(full?.message.contains("colearn token revoke") == true)
            var file = try TokenFile.load(server.tokenPath)
            let revoked = file.revoke("bob")
            #expect(revoked)
            try file.write(to: server.tokenPath)
            _ = try await server.join(carol, carolMetadata, name: "carol")
            let status = try await carol.status(Colearn_V1_StatusRequest(), metadata: carolMetadata)
            #expect(status.participantsJoined == 2)
            // bob's lease went with its slot.
            #expect(status.leaseHolder == "")
          }
        }
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
  /// they asked in. (The pauses let each Lock reach the server first; 150 ms was too short on
  /// a loaded machine.)
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
            try await Task.sleep(for: .milliseconds(500))
            async let bobGets: Void = {
              let lease = try await lock(bob, bm, bobID)
              await order.append("bob")
              try await Task.sleep(for: .milliseconds(100))
              var unlock = Colearn_V1_UnlockRequest()
              unlock.participantID = bobID
              unlock.leaseID = lease
              _ = try await bob.unlock(unlock, metadata: bm)
            }()
            try await Task.sleep(for: .milliseconds(500))
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

  /// Issue 19 item 3: participants learn the bounds at Join and clip their uploads to them, so an
  /// honest participant is never refused for the size of its update.
  @Test func theRemoteClientClipsItsUploadsToTheAnnouncedBounds() async throws {
    let bounds = UpdateBounds(maxValue: 1, maxNorm: 1.5)
    try await ServerHarness.run(participants: 1, uploadFraction: 0.3, updateBounds: bounds) {
      server in
      let token = server.tokens["carol"]!
      let port = server.port
      // On a thread of its own: the client blocks its caller, and two tests blocking the
      // cooperative pool's threads (two on two cores) at once would starve the server.
      let remote = try await onThread {
        try RemoteParameterServerClient(
          RemoteServerConfiguration(
            host: "127.0.0.1", port: port, tls: nil, token: token, participantName: "carol",
            model: ServerHarness.model))
      }
      #expect(remote.bounds == bounds)
      #expect(remote.serverName == "carol")
      let before = server.snapshot.0
      try await onThread {
        try remote.beginTurn()
        _ = try remote.upload(.make([(2, 5), (7, -5), (9, 2)]))
        try remote.endTurn()
      }
      let after = server.snapshot.0
      let change = zip(after, before).map { $0 - $1 }
      #expect(change.allSatisfy { abs($0) <= 1 + 1e-6 })
      #expect(UpdateBounds.norm(change) <= 1.5 + 1e-5)
      #expect(UpdateBounds.norm(change) > 1.49)
      #expect(change[2] > 0 && change[7] < 0 && change[9] > 0)
      #expect(remote.clippedUploads == 1)
      remote.close()
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
      let remote = try await onThread {
        try RemoteParameterServerClient(
          RemoteServerConfiguration(
            host: "127.0.0.1", port: port, tls: nil, token: token, participantName: "carol",
            model: ServerHarness.model))
      }
      let local = InProcessParameterServer(
        state: ParameterServerState(parameters: (0..<10).map(Float.init), statDecay: 0.5))
      let update = SparseVector.make([(2, 0.25), (7, -0.5), (9, 1)])
      let (remoteSequence, remoteParameters) = try await onThread {
        try remote.beginTurn()
        var parameters = [Float](repeating: 0, count: 10)
        _ = try parameters.withUnsafeMutableBufferPointer { try remote.download(fraction: 1, into: $0) }
        let sequence = try remote.upload(update)
        try remote.endTurn()
        return (sequence, try remote.downloadAll())
      }
      #expect(remoteSequence == (try local.upload(update)))
      #expect(remoteParameters == local.state.parameters)
      #expect(remote.round == 2)
      remote.close()
    }
  }

  /// Issue 19 item 7: a Lock whose caller gave up (its deadline passed) was still granted when
  /// its turn came, and held the turn for a whole lease. gRPC reports the caller's deadline
  /// only on the RPC's cancellation handle; now the waiter leaves the queue, and the next one
  /// (carol, after bob in join order) gets the turn as soon as alice unlocks. The test waits
  /// until the server has queued bob's call, and then until it has seen the call end (a loaded
  /// machine can take longer than a fixed pause; a call that ends only after it was granted
  /// holds its lease until Unlock or expiry, as every Lock lease does).
  @Test func aLockWhoseCallerGaveUpIsNotGranted() async throws {
    try await ServerHarness.run(participants: 3) { server in
      try await server.withClient(token: server.tokens["alice"]) { alice, am in
        try await server.withClient(token: server.tokens["bob"]) { bob, bm in
          try await server.withClient(token: server.tokens["carol"]) { carol, cm in
            let ids = [
              try await server.join(alice, am, name: "alice"),
              try await server.join(bob, bm, name: "bob"),
              try await server.join(carol, cm, name: "carol"),
            ]
            func lock(_ index: Int) -> Colearn_V1_LockRequest {
              var lock = Colearn_V1_LockRequest()
              lock.participantID = ids[index]
              lock.leaseDurationMs = 30_000
              return lock
            }
            let lease = try await alice.lock(lock(0), metadata: am).leaseID
            var options = CallOptions.defaults
            options.timeout = .seconds(2)
            let abandoned = Task { [options] in
              try await bob.lock(lock(1), metadata: bm, options: options)
            }
            // Bob's Lock must be queued before its deadline passes, or the test shows nothing (on
            // a loaded machine a 300 ms deadline once passed before the server had queued it).
            var queued = false
            let queueBy = ContinuousClock.now + .seconds(2)
            while !queued, ContinuousClock.now < queueBy {
              queued = server.federation.isWaiting(ids[1])
              if !queued { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(queued, "bob's Lock was not queued before its deadline")
            let gaveUp = await #expect(throws: RPCError.self) { _ = try await abandoned.value }
            #expect(gaveUp?.code == .deadlineExceeded)
            let deadline = ContinuousClock.now + .seconds(30)
            while server.federation.isWaiting(ids[1]), ContinuousClock.now < deadline {
              try await Task.sleep(for: .milliseconds(5))
            }
            #expect(!server.federation.isWaiting(ids[1]), "bob's abandoned Lock is still queued")
            options.timeout = .seconds(20)
            let waiting = Task { [options] in
              try await carol.lock(lock(2), metadata: cm, options: options)
            }
            try await Task.sleep(for: .milliseconds(100))
            var unlock = Colearn_V1_UnlockRequest()
            unlock.participantID = ids[0]
            unlock.leaseID = lease
            #expect(try await alice.unlock(unlock, metadata: am).released)
            _ = try await waiting.value
            #expect(server.federation.status().leaseHolder == "carol")
          }
        }
      }
    }
  }
}

/// Runs blocking `body` on a new thread (not on a Swift concurrency executor) and returns its
/// result.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    Thread { continuation.resume(with: Result { try body() }) }.start()
  }
}
