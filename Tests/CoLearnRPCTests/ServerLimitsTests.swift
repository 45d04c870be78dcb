import CoLearnDSSGD
import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import Testing

/// The server's bounds on one participant (issue 19): the update bounds, the request budget,
/// and the audit trail of refused authentications.
@Suite struct ServerLimitsTests {
  @Test func theDefaultBoundsComeFromTheInitialParameters() {
    let bounds = UpdateBounds.defaults(initialParameters: [0.1, -0.5, 0.2, 0])
    #expect(bounds.maxValue == 5)
    #expect(abs(bounds.maxNorm! - 0.3.squareRoot()) < 1e-7)
    #expect(
      UpdateBounds.defaults(initialParameters: [0, 0]) == UpdateBounds(maxValue: 1, maxNorm: 1))
  }

  /// Whatever the update, its clipped version is within the bounds (so the server accepts it).
  @Test func aClippedUpdateIsAlwaysWithinTheBounds() {
    var random = SystemRandomNumberGenerator()
    let bounds = UpdateBounds(maxValue: 0.25, maxNorm: 0.7)
    for _ in 0..<200 {
      let count = Int.random(in: 1...300, using: &random)
      let scale = Float.random(in: 0.001...1e38, using: &random)
      let update = SparseVector(
        indices: (0..<Int32(count)).map { $0 },
        values: (0..<count).map { _ in Float.random(in: -scale...scale, using: &random) })
      let (clipped, _) = bounds.clip(update)
      #expect(bounds.violation(of: clipped) == nil)
      #expect(clipped.indices == update.indices)
    }
    let small = SparseVector(indices: [1, 4], values: [0.1, -0.2])
    #expect(bounds.clip(small).clipped == false)
    #expect(UpdateBounds.none.violation(of: SparseVector(indices: [0], values: [3e38])) == nil)
  }

  /// Issue 19 item 5: one caller can hold at most its share of the request bytes, all callers
  /// together at most the total; the bytes come back when the calls end.
  @Test func theRequestBudgetBoundsEachCallerAndTheServer() {
    let budget = RequestBudget(maxMessageBytes: 100, perCallerBytes: 200, totalBytes: 300)
    #expect(budget.reserve(101, caller: "alice") == .tooLarge(bytes: 101))
    #expect(budget.reserve(100, caller: "alice") == nil)
    #expect(budget.reserve(100, caller: "alice") == nil)
    #expect(budget.reserve(1, caller: "alice") == .callerBusy(inFlight: 200))
    #expect(budget.reserve(100, caller: "bob") == nil)
    #expect(budget.reserve(100, caller: "carol") == .serverBusy(inFlight: 300))
    budget.release(100, caller: "alice")
    #expect(budget.reserve(100, caller: "carol") == nil)
    #expect(budget.inFlight == 300)
  }

  /// Issue 19 item 8: refused authentications were never logged and `refused=` stayed 0. Each
  /// is now counted and logged with the token's name when known and the peer address.
  @Test func refusedAuthenticationsAreCountedAndLogged() async throws {
    let (logger, log) = CapturingLogHandler.logger()
    try await ServerHarness.run(logger: logger) { server in
      for token in ["colearn_" + String(repeating: "0", count: 64), server.tokens["dave"]!, nil] {
        try await server.withClient(token: token) { client, metadata in
          await #expect(throws: RPCError.self) {
            _ = try await client.status(Colearn_V1_StatusRequest(), metadata: metadata)
          }
        }
      }
      #expect(server.host.metrics.refusedAuthentications == 3)
      let lines = log.events("authentication refused")
      #expect(lines.map { $0["reason"]?.description } == ["unknown", "revoked", "missing"])
      #expect(lines[1]["participant"]?.description == "dave")
      #expect(lines[0]["participant"] == nil)
      #expect(lines.allSatisfy { $0["peer"]?.description.contains("127.0.0.1") == true })
      #expect(lines[0]["method"]?.description == "colearn.v1.ParameterServer/Status")
    }
  }

  /// A flood of bad tokens cannot flood the log: lines are rate-limited, all are counted, and
  /// the next line written says how many were left out.
  @Test func refusalLinesAreRateLimited() async throws {
    let (logger, log) = CapturingLogHandler.logger()
    let audit = AuthenticationAudit(logger: logger, linesPerWindow: 2, window: .milliseconds(200))
    for _ in 0..<5 { audit.refused(.unknown, name: nil, peer: "ipv4:127.0.0.1:1", method: "m") }
    #expect(audit.refusedCount == 5)
    #expect(log.events("authentication refused").count == 2)
    try await Task.sleep(for: .milliseconds(250))
    audit.refused(.revoked, name: "dave", peer: "ipv4:127.0.0.1:1", method: "m")
    let lines = log.events("authentication refused")
    #expect(lines.count == 3)
    #expect(lines[2]["suppressed_before"]?.description == "3")
  }
}

/// The optional robust rule (`--clip-to-median-norm`).
@Suite struct MedianNormClippingTests {
  @Test func nothingIsScaledUntilTheHistoryIsLongEnough() {
    let rule = MedianNormClipping(factor: 2, window: 8, minimumHistory: 4)
    let big = SparseVector(indices: [0], values: [100])
    for _ in 0..<3 { rule.record(SparseVector(indices: [0], values: [1])) }
    #expect(rule.limit == nil && rule.clip(big).scaled == false)
    rule.record(SparseVector(indices: [0], values: [3]))
    #expect(rule.limit == 2)  // median of 1, 1, 1, 3 is 1
    let (clipped, scaled) = rule.clip(big)
    #expect(scaled && abs(clipped.values[0] - 2) < 1e-6)
  }

  /// Over the wire: after eight uploads of norm 1, an upload of norm 10 is applied as norm 2.
  @Test func anOutsizedUploadIsScaledToKTimesTheMedian() async throws {
    try await ServerHarness.run(order: .async, medianNormFactor: 2) { server in
      try await server.withClient(token: server.tokens["alice"]) { client, metadata in
        let id = try await server.join(client, metadata, name: "alice")
        func upload(_ round: UInt64, _ value: Float) async throws -> Colearn_V1_UploadResponse {
          var request = Colearn_V1_UploadRequest()
          request.participantID = id
          request.round = round
          request.update = SparseVector.make([(3, value)]).proto(dimension: 10)
          return try await client.upload(request, metadata: metadata)
        }
        for round in 1...8 { _ = try await upload(UInt64(round), round % 2 == 0 ? 1 : -1) }
        let before = server.snapshot.0[3]
        let response = try await upload(9, 10)
        #expect(response.appliedEntries == 1)
        #expect(abs(server.snapshot.0[3] - before - 2) < 1e-5)
      }
    }
  }
}
