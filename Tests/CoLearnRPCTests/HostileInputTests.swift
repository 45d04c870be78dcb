import CoLearnDSSGD
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// Every hostile or broken request the issue lists, against the real server over HTTP/2 on
/// 127.0.0.1: each is refused with its gRPC status and a message saying what was wrong, and the
/// server's state (w_global, sequence number, updated-parameter count) is unchanged.
@Suite struct HostileInputTests {
  typealias Client = Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>

  /// Joins alice, takes the lease, runs `attack`, and checks the refusal and the state.
  private func expectRefusal(
    _ code: RPCError.Code, containing fragments: [String], order: ExchangeOrder = .roundRobin,
    maxRequestBytes: Int = 4 << 20, updateBounds: UpdateBounds = .none,
    attack: @escaping (Client, Metadata, _ id: String, _ lease: String) async throws -> Void
  ) async throws {
    try await ServerHarness.run(
      order: order, maxRequestBytes: maxRequestBytes, updateBounds: updateBounds
    ) { server in
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        let id = try await server.join(client, metadata, name: "alice")
        var lease = ""
        if order != .async {
          var lock = Colearn_V1_LockRequest()
          lock.participantID = id
          lock.leaseDurationMs = 30_000
          lease = try await client.lock(lock, metadata: metadata).leaseID
        }
        // One good upload first, so "unchanged" is checked against a non-trivial state.
        var good = Colearn_V1_UploadRequest()
        good.participantID = id
        good.leaseID = lease
        good.round = 5
        good.update = SparseVector.make([(1, 0.5), (4, -1)]).proto(dimension: 10)
        _ = try await client.upload(good, metadata: metadata)
        let before = server.snapshot
        let error = await #expect(throws: RPCError.self) {
          try await attack(client, metadata, id, lease)
        }
        #expect(error?.code == code, "\(String(describing: error)) \(error?.message ?? "")")
        for fragment in fragments {
          #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "") lacks \(fragment)")
        }
        let after = server.snapshot
        #expect(after.0 == before.0)
        #expect(after.1 == before.1)
        #expect(after.2 == before.2)
      }
    }
  }

  private func upload(
    _ client: Client, _ metadata: Metadata, id: String, lease: String, round: UInt64 = 6,
    encoded: [UInt8], dimension: UInt64 = 10
  ) async throws {
    var request = Colearn_V1_UploadRequest()
    request.participantID = id
    request.leaseID = lease
    request.round = round
    request.update.dimension = dimension
    request.update.encoded = Data(encoded)
    _ = try await client.upload(request, metadata: metadata)
  }

  @Test func anOversizedMessageIsRefused() async throws {
    try await expectRefusal(
      .resourceExhausted, containing: ["8", "more than the server's limit of 4,096 bytes"],
      maxRequestBytes: 4096
    ) {
      client, metadata, id, lease in
      // 10 pairs would be legal, but the message carries 8 KB of padding in a bytes field.
      try await upload(
        client, metadata, id: id, lease: lease,
        encoded: SparseCodec.encode(.make([(0, 1)])) + [UInt8](repeating: 0, count: 8192))
    }
  }

  /// Issue 19 item 5: a request above the transport's limit was buffered up to 16 MiB and then
  /// CANCELLED; now it is answered RESOURCE_EXHAUSTED from its length prefix, unread.
  @Test func aMessageAboveTheTransportLimitIsRefusedBeforeItIsRead() async throws {
    try await expectRefusal(
      .resourceExhausted,
      containing: ["more than the server's limit of 4,259,840 bytes", "not read"]
    ) { client, metadata, id, lease in
      try await upload(
        client, metadata, id: id, lease: lease,
        encoded: SparseCodec.encode(.make([(0, 1)])) + [UInt8](repeating: 0, count: 17 << 20))
    }
  }

  @Test func anOutOfRangeIndexIsRefused() async throws {
    try await expectRefusal(.invalidArgument, containing: ["entry 0", "outside 0..<10"]) { client, metadata, id, lease in
      // count 1, gap 12 → index 12 ≥ |w| = 10, value 1.0
      try await upload(client, metadata, id: id, lease: lease, encoded: [1, 12, 0, 0, 0x80, 0x3F])
    }
  }

  /// The delta encoding cannot express a repeated or decreasing index directly; a gap so large
  /// that the index would wrap around to a smaller one is the way to try, and is refused.
  @Test func aWrappingGapThatWouldUnsortTheIndicesIsRefused() async throws {
    try await expectRefusal(.invalidArgument, containing: ["entry 1", "index repeats or is outside"]) {
      client, metadata, id, lease in
      // count 2, gaps 3 and 2^64 − 2 (index 3 + 1 + 2^64 − 2 wraps to 2), values 1.0, 1.0
      let huge: [UInt8] = [0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
      try await upload(
        client, metadata, id: id, lease: lease,
        encoded: [2, 3] + huge + [0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F])
    }
  }

  @Test func duplicateDownloadIndicesAreRefused() async throws {
    try await expectRefusal(.invalidArgument, containing: ["indices[1] = 3", "strictly increasing"]) {
      client, metadata, id, lease in
      var request = Colearn_V1_DownloadRequest()
      request.participantID = id
      request.leaseID = lease
      request.indices.indices = [3, 3]
      _ = try await client.download(request, metadata: metadata)
    }
  }

  @Test func unsortedDownloadIndicesAreRefused() async throws {
    try await expectRefusal(.invalidArgument, containing: ["indices[1] = 2", "strictly increasing"]) {
      client, metadata, id, lease in
      var request = Colearn_V1_DownloadRequest()
      request.participantID = id
      request.leaseID = lease
      request.indices.indices = [5, 2]
      _ = try await client.download(request, metadata: metadata)
    }
  }

  @Test(arguments: [Float.nan, .infinity, -.infinity])
  func nonFiniteValuesAreRefused(_ value: Float) async throws {
    try await expectRefusal(.invalidArgument, containing: ["finite"]) { client, metadata, id, lease in
      var bytes: [UInt8] = [1, 2]
      withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
      try await upload(client, metadata, id: id, lease: lease, encoded: bytes)
    }
  }

  @Test func moreEntriesThanThetaUAllowsAreRefused() async throws {
    try await expectRefusal(.invalidArgument, containing: ["6 entries", "⌈θ_u·|w|⌉ = 5"]) {
      client, metadata, id, lease in
      let vector = SparseVector.make((0..<6).map { (Int32($0), 0.1) })
      try await upload(client, metadata, id: id, lease: lease, encoded: SparseCodec.encode(vector))
    }
  }

  @Test func aWrongDimensionIsRefused() async throws {
    try await expectRefusal(.invalidArgument, containing: ["dimension 11", "|w| = 10"]) {
      client, metadata, id, lease in
      try await upload(
        client, metadata, id: id, lease: lease, encoded: SparseCodec.encode(.make([(0, 1)])),
        dimension: 11)
    }
  }

  /// Issue 19 item 3: a value above the announced per-value bound is refused.
  @Test func aValueAboveTheAnnouncedBoundIsRefused() async throws {
    try await expectRefusal(
      .invalidArgument, containing: ["entry 1", "index 3", "bound of 1.0 per value"],
      updateBounds: UpdateBounds(maxValue: 1, maxNorm: 10)
    ) { client, metadata, id, lease in
      try await upload(
        client, metadata, id: id, lease: lease,
        encoded: SparseCodec.encode(.make([(0, 0.5), (3, 3.0e38)])))
    }
  }

  /// Issue 19 item 3: an upload whose L2 norm is above the announced bound is refused, though
  /// every value is within its own bound.
  @Test func anUpdateAboveTheAnnouncedNormIsRefused() async throws {
    try await expectRefusal(
      .invalidArgument, containing: ["L2 norm 1.73", "bound of 1.5"],
      updateBounds: UpdateBounds(maxValue: 1, maxNorm: 1.5)
    ) { client, metadata, id, lease in
      try await upload(
        client, metadata, id: id, lease: lease,
        encoded: SparseCodec.encode(.make([(0, 1), (2, 1), (3, -1)])))
    }
  }

  /// Issue 19 item 3: two accepted uploads of 3.0e38 at one index made w_global[0] = +∞ and
  /// every participant's download failed. Even without bounds, the second is now refused.
  @Test func twoHugeUploadsCannotMakeAParameterInfinite() async throws {
    try await ServerHarness.run(order: .async) { server in
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        let id = try await server.join(client, metadata, name: "alice")
        let huge = SparseCodec.encode(.make([(0, 3.0e38)]))
        try await upload(client, metadata, id: id, lease: "", round: 1, encoded: huge)
        let before = server.snapshot
        let error = await #expect(throws: RPCError.self) {
          try await upload(client, metadata, id: id, lease: "", round: 2, encoded: huge)
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("w_global[0]") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("infinite") == true)
        #expect(server.snapshot.0 == before.0 && server.snapshot.1 == before.1)
        var download = Colearn_V1_DownloadRequest()
        download.participantID = id
        download.fraction = 1
        let response = try await client.download(download, metadata: metadata)
        let values = try SparseVector(proto: response.parameters, dimension: 10).values
        #expect(values.allSatisfy(\.isFinite) && values[0] == 3.0e38)
      }
    }
  }

  /// Issue 19 item 8: names are restricted to a documented character set at Join (an ESC, CR
  /// or NUL in a name could forge or hide log lines).
  @Test(arguments: [
    "", "al ice", "a\u{1B}[31mred", "x\r\ny", "nul\u{0}", "é", String(repeating: "a", count: 65),
  ])
  func aNameOutsideTheAllowedCharactersIsRefusedAtJoin(_ name: String) async throws {
    try await expectRefusal(.invalidArgument, containing: ["participant_name"]) {
      client, metadata, _, _ in
      var request = Colearn_V1_JoinRequest()
      request.model = ServerHarness.model.proto
      request.participantName = name
      _ = try await client.join(request, metadata: metadata)
    }
  }

  @Test func aStaleRoundIsRefused() async throws {
    try await expectRefusal(.failedPrecondition, containing: ["round 4", "last applied round 5"]) {
      client, metadata, id, lease in
      try await upload(
        client, metadata, id: id, lease: lease, round: 4, encoded: SparseCodec.encode(.make([(0, 1)])))
    }
  }

  @Test func aWrongModelIdentityIsRefusedAtJoin() async throws {
    try await expectRefusal(.failedPrecondition, containing: ["server runs tiny", "you run other"]) {
      client, metadata, _, _ in
      var request = Colearn_V1_JoinRequest()
      request.model = ModelIdentity(
        architecture: "other", specificationHash: "fedcba9876543210", parameterCount: 10
      ).proto
      request.participantName = "alice"
      _ = try await client.join(request, metadata: metadata)
    }
  }

  /// A participant's model file is client text in the refusal: control characters are not
  /// echoed, and a file over 64 KiB is not compared at all.
  @Test func aHostileModelFileIsNotEchoedRaw() async throws {
    let server = "input = [10]\nclasses = 2\n\n[[layers]]\ntype = \"linear\"\noutputs = 2\n"
    try await ServerHarness.run(modelFile: server) { harness in
      try await harness.withClient(token: harness.tokens["alice"]) { client, metadata in
        var request = Colearn_V1_JoinRequest()
        request.model = ModelIdentity(
          architecture: "other", specificationHash: "fedcba9876543210", parameterCount: 10
        ).proto
        request.participantName = "alice"
        request.modelFile = server.replacingOccurrences(
          of: "outputs = 2", with: "outputs = 2\u{1B}[2J\r\0" + String(repeating: "x", count: 500))
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.join(request, metadata: metadata)
        }
        #expect(error?.code == .failedPrecondition)
        let message = error?.message ?? ""
        #expect(message.contains("layer 1 (\"linear\"): outputs = 2 on the server, outputs = 2?[2J??"))
        #expect(!message.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" })
        #expect(message.count < 1_000)
        request.modelFile += String(repeating: "#", count: 64 << 10)
        let long = await #expect(throws: RPCError.self) {
          _ = try await client.join(request, metadata: metadata)
        }
        #expect(long?.message.contains("differ in") == false)
      }
    }
  }

  @Test func callsBeforeJoinAreRefused() async throws {
    try await ServerHarness.run { server in
      try await server.withClient(token: server.tokens["bob"]) { client, metadata in
        let before = server.snapshot
        var request = Colearn_V1_UploadRequest()
        request.participantID = "never-joined"
        request.update = SparseVector.make([(0, 1)]).proto(dimension: 10)
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.upload(request, metadata: metadata)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("call Join again") == true)
        var download = Colearn_V1_DownloadRequest()
        download.participantID = ""
        let missing = await #expect(throws: RPCError.self) {
          _ = try await client.download(download, metadata: metadata)
        }
        #expect(missing?.code == .notFound)
        #expect(missing?.message.contains("call Join first") == true)
        #expect(server.snapshot.1 == before.1)
      }
    }
  }

  @Test func anotherParticipantsIdIsRefused() async throws {
    try await ServerHarness.run { server in
      var aliceID = ""
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        aliceID = try await server.join(client, metadata, name: "alice")
      }
      try await server.withClient(token: server.tokens["bob"]) { client, metadata in
        var lock = Colearn_V1_LockRequest()
        lock.participantID = aliceID
        lock.leaseDurationMs = 1000
        let error = await #expect(throws: RPCError.self) {
          _ = try await client.lock(lock, metadata: metadata)
        }
        #expect(error?.code == .permissionDenied)
        #expect(error?.message.contains("another token") == true)
      }
    }
  }

  @Test func unknownMissingAndRevokedTokensAreUnauthenticated() async throws {
    try await ServerHarness.run { server in
      for (token, fragment) in [
        ("colearn_" + String(repeating: "0", count: 64), "unknown token"),
        (server.tokens["dave"]!, "dave was revoked"),
      ] as [(String?, String)] + [(nil, "authorization: Bearer")] {
        try await server.withClient(token: token) { client, metadata in
          let error = await #expect(throws: RPCError.self) {
            _ = try await client.status(Colearn_V1_StatusRequest(), metadata: metadata)
          }
          #expect(error?.code == .unauthenticated)
          #expect(error?.message.contains(fragment) == true, "\(error?.message ?? "")")
        }
      }
    }
  }

  /// A lease holder that vanishes loses the turn when its lease expires: the next participant
  /// gets the lease, and the vanished one's late upload is ABORTED without effect.
  @Test func aVanishedLeaseHolderLosesTheTurnWhenTheLeaseExpires() async throws {
    try await ServerHarness.run { server in
      try await server.withClient(token: server.tokens["alice"]) { alice, aliceMetadata in
        try await server.withClient(token: server.tokens["bob"]) { bob, bobMetadata in
          let aliceID = try await server.join(alice, aliceMetadata, name: "alice")
          let bobID = try await server.join(bob, bobMetadata, name: "bob")
          var lock = Colearn_V1_LockRequest()
          lock.participantID = aliceID
          lock.leaseDurationMs = 300
          // Timed from before alice asks: her lease is granted after this and lasts 300 ms (timed
          // from bob's request instead, a slow answer to alice made the wait look too short).
          let clock = ContinuousClock()
          let start = clock.now
          let aliceLease = try await alice.lock(lock, metadata: aliceMetadata).leaseID
          // alice now "vanishes"; bob waits for the turn and gets it after the expiry.
          lock.participantID = bobID
          lock.leaseDurationMs = 10_000
          let bobLease = try await bob.lock(lock, metadata: bobMetadata).leaseID
          #expect(clock.now - start >= .milliseconds(300))
          #expect(bobLease != aliceLease)
          let before = server.snapshot
          var late = Colearn_V1_UploadRequest()
          late.participantID = aliceID
          late.leaseID = aliceLease
          late.round = 1
          late.update = SparseVector.make([(0, 1)]).proto(dimension: 10)
          let error = await #expect(throws: RPCError.self) {
            _ = try await alice.upload(late, metadata: aliceMetadata)
          }
          #expect(error?.code == .aborted)
          #expect(error?.message.contains("no longer valid") == true)
          #expect(server.snapshot.0 == before.0)
          #expect(server.snapshot.1 == before.1)
        }
      }
    }
  }

  @Test func aTurnWithoutALeaseIsRefusedUnderRoundRobin() async throws {
    try await expectRefusal(.failedPrecondition, containing: ["call Lock first"]) {
      client, metadata, id, _ in
      try await upload(
        client, metadata, id: id, lease: "", encoded: SparseCodec.encode(.make([(0, 1)])))
    }
  }
}
