import CoLearnRPC
import Foundation
import GRPCCore
import Synchronization
import Testing

/// ``TurnLeases``, the lease machine both servers use (issue 19 item 7): round-robin order,
/// opening, expiry, removal, shutdown, and — the observed failure — a waiter that gives up
/// leaves the queue so the next waiter is served at once.
@Suite struct TurnLeasesTests {
  /// Waits (up to 60 s: the full suite can starve the cooperative pool) until `condition`
  /// holds.
  static func eventually(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(60)
    while !condition(), ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(1))
    }
    #expect(condition())
  }

  /// A waiting acquire of `participant` (join index `index`) in its own task.
  static func waiting(
    _ leases: TurnLeases, _ participant: String, _ index: Int, milliseconds: UInt32 = 3_600_000
  ) -> Task<TurnLeases.Lease, any Error> {
    Task {
      try await leases.acquire(
        participant, name: participant, joinIndex: index, milliseconds: milliseconds)
    }
  }

  @Test func aCancelledWaiterLeavesTheQueueAndTheNextIsServedAtOnce() async throws {
    let leases = TurnLeases(order: .roundRobin)
    let alice = try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 3_600_000)
    let bob = Self.waiting(leases, "b", 1)
    let carol = Self.waiting(leases, "c", 2)
    try await Self.eventually { leases.isWaiting("b") && leases.isWaiting("c") }
    bob.cancel()
    let error = await #expect(throws: FederationError.self) { _ = try await bob.value }
    #expect(error?.code == .deadlineExceeded)
    #expect(!leases.isWaiting("b"))
    // bob was next in join order; with him gone, carol gets the turn the moment alice ends hers
    // (granted within release, before it returns).
    #expect(try leases.release(alice.id, of: "a"))
    #expect(leases.current?.holderName == "c")
    let lease = try await carol.value
    #expect(lease.holder == "c")
  }

  @Test func turnsGoRoundRobinInJoinOrderSkippingNonWaiters() async throws {
    let leases = TurnLeases(order: .roundRobin, open: false)
    let first = Self.waiting(leases, "c", 2)
    let second = Self.waiting(leases, "a", 0)
    try await Self.eventually { leases.isWaiting("c") && leases.isWaiting("a") }
    #expect(leases.current == nil, "no lease before open()")
    leases.open()
    let a = try await second.value
    #expect(a.holder == "a")
    // b (index 1) is not waiting: skipped; c next, then a again.
    try leases.release(a.id, of: "a")
    let c = try await first.value
    #expect(c.holder == "c")
    let again = Self.waiting(leases, "a", 0)
    try await Self.eventually { leases.isWaiting("a") }
    try leases.release(c.id, of: "c")
    #expect(try await again.value.holder == "a")
  }

  @Test func aHolderGetsItsOwnLeaseBackAndChecksNameTheProblem() async throws {
    let leases = TurnLeases(order: .roundRobin)
    let lease = try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 3_600_000)
    let again = try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 3_600_000)
    #expect(again == lease)
    #expect(try leases.check("a", leaseID: lease.id, then: "Lock again") == lease)
    let stale = #expect(throws: FederationError.self) {
      try leases.check("a", leaseID: "feedface", then: "Lock again")
    }
    #expect(stale?.code == .aborted)
    #expect(stale?.message.contains("no longer valid (expired or released); Lock again") == true)
    let other = #expect(throws: FederationError.self) {
      try leases.check("b", leaseID: lease.id, then: "Lock again")
    }
    #expect(other?.code == .permissionDenied)
    #expect(throws: FederationError.self) { try leases.release(lease.id, of: "b") }
    #expect(try !leases.release("feedface", of: "a"))
  }

  /// An expired lease is taken back by its timer (no call needed), `onExpiry` runs, and the
  /// next waiter is served.
  @Test func anExpiredLeaseIsTakenBackAndTheNextServed() async throws {
    let expired = Mutex<[String]>([])
    let leases = TurnLeases(order: .roundRobin) { lease in
      expired.withLock { $0.append(lease.holderName) }
    }
    let lease = try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 50)
    let bob = Self.waiting(leases, "b", 1)
    #expect(try await bob.value.holder == "b")
    #expect(expired.withLock { $0 } == ["alice"])
    let error = #expect(throws: FederationError.self) {
      try leases.check("a", leaseID: lease.id, then: "Lock again")
    }
    #expect(error?.code == .aborted)
  }

  /// ``TurnLeases/onEnd(of:_:)``, what a HoldTurn call waits on besides its caller: the
  /// handler runs once when the lease ends — released, expired or withdrawn — and at once for a
  /// lease that is no longer current.
  @Test func endHandlersRunOnceWhenTheLeaseEnds() async throws {
    let ended = Mutex<[String]>([])
    let leases = TurnLeases(order: .roundRobin)
    func watch(_ lease: TurnLeases.Lease) {
      leases.onEnd(of: lease) { ended.withLock { $0.append(lease.holderName) } }
    }
    let alice = try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 3_600_000)
    watch(alice)
    #expect(ended.withLock { $0 }.isEmpty)
    #expect(try leases.release(alice.id, of: "a"))
    #expect(!(try leases.release(alice.id, of: "a")))
    #expect(ended.withLock { $0 } == ["alice"])
    watch(alice)
    #expect(ended.withLock { $0 } == ["alice", "alice"], "no longer current: at once")

    let bob = try await leases.acquire("b", name: "bob", joinIndex: 1, milliseconds: 50)
    watch(bob)
    // Past its expiry the lease ends — by its timer, or, when a busy suite starves the two
    // cooperative threads of this machine, by the next check, which takes an expired lease back.
    usleep(100_000)
    _ = try? leases.check("b", leaseID: bob.id, then: "Lock again")
    #expect(ended.withLock { $0.count } == 3)
    #expect(ended.withLock { $0 }.last == "bob")
    let carol = try await leases.acquire("c", name: "carol", joinIndex: 2, milliseconds: 3_600_000)
    watch(carol)
    leases.withdraw("c", failing: FederationError(.failedPrecondition, "finished"))
    #expect(ended.withLock { $0 } == ["alice", "alice", "bob", "carol"])
  }

  @Test func removalAndStopFailWaitersAndLaterCalls() async throws {
    let leases = TurnLeases(order: .randomOrder)
    let alice = try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 3_600_000)
    let bob = Self.waiting(leases, "b", 1)
    try await Self.eventually { leases.isWaiting("b") }
    leases.remove("b", failing: FederationError(.unauthenticated, "revoked"))
    let removed = await #expect(throws: FederationError.self) { _ = try await bob.value }
    #expect(removed?.code == .unauthenticated)
    let later = await #expect(throws: FederationError.self) {
      _ = try await leases.acquire("b", name: "bob", joinIndex: 1, milliseconds: 10)
    }
    #expect(later?.code == .notFound)
    // Withdrawing the holder frees the lease; it may acquire again.
    leases.withdraw("a", failing: FederationError(.failedPrecondition, "finished"))
    #expect(leases.current == nil)
    #expect(
      try await leases.acquire("a", name: "alice", joinIndex: 0, milliseconds: 3_600_000) != alice)
    let carol = Self.waiting(leases, "c", 2)
    try await Self.eventually { leases.isWaiting("c") }
    leases.stop(failing: FederationError(.unavailable, "shutting down"))
    let stopped = await #expect(throws: FederationError.self) { _ = try await carol.value }
    #expect(stopped?.code == .unavailable)
    let afterStop = await #expect(throws: FederationError.self) {
      _ = try await leases.acquire("d", name: "dave", joinIndex: 3, milliseconds: 10)
    }
    #expect(afterStop?.code == .unavailable)
  }
}
