import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// The operator's per-participant view (issue 20 items 3 and 5): participants report their own
/// evaluation and ε through Report, the server checks the figures' ranges, and Status returns a
/// row per participant with its uploads, last round and latest report, plus the global
/// evaluations.
@Suite struct ParticipantReportTests {
  typealias Client = Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>

  func report(
    _ client: Client, _ metadata: Metadata, _ id: String, accuracy: Double, loss: Double = 0.3,
    epsilon: Double? = nil, unit: String = ""
  ) async throws {
    var request = Colearn_V1_ReportRequest()
    request.participantID = id
    request.round = 2
    request.testAccuracy = accuracy
    request.testLoss = loss
    request.testExamples = 100
    if let epsilon {
      request.epsilon = epsilon
      request.delta = 1e-5
      request.privacyUnit = unit
    }
    _ = try await client.report(request, metadata: metadata)
  }

  @Test func reportsAreCheckedKeptAndShownPerParticipant() async throws {
    try await ServerHarness.run(participants: 3) { server in
      try await server.withClient(token: server.tokens["alice"]) { alice, am in
        try await server.withClient(token: server.tokens["bob"]) { bob, bm in
          let aliceID = try await server.join(alice, am, name: "alice")
          let bobID = try await server.join(bob, bm, name: "bob")
          // Figures out of range are refused with the field named.
          for (accuracy, loss, epsilon, field) in [
            (1.5, 0.3, nil, "test_accuracy 1.5 is outside [0, 1]"),
            (0.9, -1, nil, "test_loss -1.0 is not a number ≥ 0"),
            (0.9, .nan, nil, "test_loss nan is not a number ≥ 0"),
            (0.9, 0.3, Double.infinity, "epsilon inf is not a finite number ≥ 0"),
          ] as [(Double, Double, Double?, String)] {
            let refused = await #expect(throws: RPCError.self) {
              try await report(alice, am, aliceID, accuracy: accuracy, loss: loss, epsilon: epsilon)
            }
            #expect(refused?.code == .invalidArgument)
            #expect(refused?.message.contains(field) == true, "\(String(describing: refused))")
          }
          // Another participant's id is not alice's to report for.
          let forged = await #expect(throws: RPCError.self) {
            try await report(alice, am, bobID, accuracy: 0.5)
          }
          #expect(forged?.code == .permissionDenied)

          try await report(alice, am, aliceID, accuracy: 0.91, epsilon: 2.5, unit: "record-level")
          try await report(bob, bm, bobID, accuracy: 0.5, loss: .infinity)  // a diverged model
          try await report(bob, bm, bobID, accuracy: 0.85)
          try await report(bob, bm, bobID, accuracy: 0.87)  // the latest counts
          server.federation.roster.evaluated(round: 1, accuracy: 0.8, loss: 0.6)

          let status = try await alice.status(Colearn_V1_StatusRequest(), metadata: am)
          #expect(status.participants.map(\.name) == ["alice", "bob"])
          let rows = Dictionary(uniqueKeysWithValues: status.participants.map { ($0.name, $0) })
          let a = try #require(rows["alice"])
          #expect(a.joined && a.uploads == 0 && a.lastUploadUnixMs == 0)
          #expect(a.report.testAccuracy == 0.91 && a.report.epsilon == 2.5)
          #expect(a.report.privacyUnit == "record-level" && a.report.participantID.isEmpty)
          #expect(rows["bob"]?.report.testAccuracy == 0.87 && rows["bob"]?.report.hasEpsilon == false)
          #expect(status.globalEvaluations.map(\.accuracy) == [0.8])
          #expect(status.started && status.roundsPlanned == 0)
          let reported = try #require(server.federation.metrics.reportedAccuracy)
          #expect(reported.reports == 2 && reported.min == 0.87 && reported.max == 0.91)
          #expect(abs(reported.mean - 0.89) < 1e-12)
          #expect(server.federation.metrics.lastGlobalEvaluation?.round == 1)

          // An upload shows in the row; leaving keeps the row, marked as not joined.
          var lock = Colearn_V1_LockRequest()
          lock.participantID = aliceID
          lock.leaseDurationMs = 10_000
          let lease = try await alice.lock(lock, metadata: am).leaseID
          var upload = Colearn_V1_UploadRequest()
          upload.participantID = aliceID
          upload.leaseID = lease
          upload.round = 7
          upload.update = SparseVector.make([(3, 1)]).proto(dimension: 10)
          _ = try await alice.upload(upload, metadata: am)
          var leave = Colearn_V1_LeaveRequest()
          leave.participantID = aliceID
          _ = try await alice.leave(leave, metadata: am)
          let after = try await bob.status(Colearn_V1_StatusRequest(), metadata: bm)
          let row = try #require(after.participants.first { $0.name == "alice" })
          #expect(!row.joined && row.uploads == 1 && row.lastRound == 7 && row.lastUploadUnixMs > 0)
        }
      }
    }
  }
}
