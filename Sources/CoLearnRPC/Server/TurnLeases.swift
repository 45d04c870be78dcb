import GRPCCore
import Synchronization

/// The turn leases of a sequential federation, shared by both servers (``Federation`` for
/// DSSGD's `round-robin` and `random-order`, ``SplitFederation`` for split learning): at most
/// one participant holds the lease; the others wait in
/// ``acquire(_:name:joinIndex:milliseconds:)``
/// and are woken by their continuation when it is their turn — nothing polls.
///
/// Order: under ``Order/roundRobin`` the lease goes to the waiting participant next after the
/// last holder in join order (cyclically; participants not waiting are skipped, so a vanished
/// one never stalls the others); under ``Order/randomOrder`` to a waiter drawn uniformly. No
/// lease is granted before ``open()`` (split learning opens once all N have joined).
///
/// Giving up: a waiter whose task is cancelled, or whose gRPC call is cancelled, leaves the
/// queue at once, and the next waiter is served; a lease granted to a call cancelled at that
/// moment is released again. gRPC does not cancel a handler's task when the caller's deadline
/// passes or its stream or connection closes — it signals that on the RPC's cancellation handle
/// (`withRPCCancellationHandler`) — so ``acquire(_:name:joinIndex:milliseconds:)`` listens to
/// both.
///
/// Limit: a lease *already delivered* is not tied to a connection (the holder's next calls may
/// come on another one, and nothing is in flight between them to notice a dead peer), so a
/// holder that vanishes after Lock returned keeps the turn until the lease expires (its
/// `lease_duration_ms`, at most the server's maximum); then it is taken back and
/// `onExpiry` runs.
///
/// Threading: every method may be called from any task, also while the caller holds a lock of
/// its own: this type's lock is a leaf (it never calls out while held; continuations are
/// resumed and `onExpiry` runs after it is released).
public final class TurnLeases: Sendable {
  /// How the next holder is chosen among the waiters.
  public enum Order: Sendable {
    case roundRobin
    case randomOrder
  }

  /// A granted turn.
  public struct Lease: Sendable, Equatable {
    /// 32 random hex digits.
    public let id: String
    /// The participant id holding it.
    public let holder: String
    /// The name it is shown under (logs, Status).
    public let holderName: String
    public let expires: ContinuousClock.Instant
    /// The duration granted.
    public let milliseconds: UInt32
    /// The acquire call it was granted to.
    let ticket: UInt64
  }

  private struct Waiter {
    var ticket: UInt64
    var participant: String
    var name: String
    var joinIndex: Int
    var milliseconds: UInt32
    var continuation: CheckedContinuation<Lease, any Error>
  }

  private typealias Grant = (CheckedContinuation<Lease, any Error>, Lease)

  private struct State {
    var lease: Lease?
    var waiters: [Waiter] = []
    var nextTicket: UInt64 = 0
    /// Acquire calls cancelled before they queued.
    var cancelledTickets: Set<UInt64> = []
    /// Participants removed for good: their later acquire calls fail.
    var departed: Set<String> = []
    var lastHolderJoinIndex = -1
    /// One more than the largest join index seen (the cycle of round-robin).
    var span = 1
    var open: Bool
    var stopped: FederationError?
    var random = SystemRandomNumberGenerator()
  }

  private let order: Order
  private let state: Mutex<State>
  private let clock = ContinuousClock()
  private let onExpiry: @Sendable (Lease) -> Void

  /// Leases in `order`, granted from the start when `open` (else after ``open()``); `onExpiry`
  /// runs (outside any lock) once for every lease taken back at its expiry (by its timer, or by
  /// the first call that finds it past due).
  public init(
    order: Order, open: Bool = true, onExpiry: @escaping @Sendable (Lease) -> Void = { _ in }
  ) {
    self.order = order
    state = Mutex(State(open: open))
    self.onExpiry = onExpiry
  }

  /// Starts granting leases (idempotent).
  public func open() {
    let granted = state.withLock { state -> [Grant] in
      state.open = true
      return grantIfFree(&state)
    }
    Self.resume(granted)
  }

  /// Waits for `participant`'s turn and returns its lease (or the lease it already holds).
  /// `joinIndex` places it in the round-robin cycle; `name` is what it is shown as.
  ///
  /// - Throws: ``lockCancelled`` (DEADLINE_EXCEEDED) when the task is cancelled, the error
  ///   given to ``remove(_:failing:)`` or ``withdraw(_:failing:)`` when the participant is
  ///   removed while waiting, FederationError.notJoined for a participant removed before, the
  ///   error given to ``stop(failing:)`` once stopped.
  public func acquire(
    _ participant: String, name: String, joinIndex: Int, milliseconds: UInt32
  ) async throws -> Lease
  {
    let ticket = state.withLock { state -> UInt64 in
      state.nextTicket += 1
      return state.nextTicket
    }
    // gRPC reports a caller that gave up (deadline passed, stream reset, connection closed,
    // server shutting down) on the RPC's cancellation handle, not by cancelling this task, so
    // both end the wait; outside a gRPC handler the first is a no-op.
    return try await withRPCCancellationHandler {
      try await withTaskCancellationHandler {
        try await queue(ticket, participant, name: name, joinIndex: joinIndex, milliseconds)
      } onCancel: {
        cancel(ticket)
      }
    } onCancelRPC: {
      self.cancel(ticket)
    }
  }

  /// Queues acquire call `ticket` and suspends until it is granted or refused.
  private func queue(
    _ ticket: UInt64, _ participant: String, name: String, joinIndex: Int,
    _ milliseconds: UInt32
  ) async throws -> Lease {
    enum Queued { case own(Lease), refused(FederationError), waiting([Grant]) }
    return try await withCheckedThrowingContinuation {
      (continuation: CheckedContinuation<Lease, any Error>) in
      var expired: Lease?
      let queued = state.withLock { state -> Queued in
        if let stopped = state.stopped { return .refused(stopped) }
        if state.cancelledTickets.remove(ticket) != nil { return .refused(Self.lockCancelled) }
        if state.departed.contains(participant) { return .refused(.notJoined(participant)) }
        expired = expireIfDue(&state)
        if let lease = state.lease, lease.holder == participant { return .own(lease) }
        state.span = max(state.span, joinIndex + 1)
        state.waiters.append(
          Waiter(
            ticket: ticket, participant: participant, name: name, joinIndex: joinIndex,
            milliseconds: milliseconds, continuation: continuation))
        return .waiting(grantIfFree(&state))
      }
      if let expired { onExpiry(expired) }
      switch queued {
      case .own(let lease): continuation.resume(returning: lease)
      case .refused(let error): continuation.resume(throwing: error)
      case .waiting(let granted): Self.resume(granted)
      }
    }
  }

  /// Gives up acquire call `ticket`: out of the queue if waiting, its lease released if granted
  /// in that instant (its caller may never learn it), refused at once if it has not queued yet.
  private func cancel(_ ticket: UInt64) {
    let (cancelled, granted) = state.withLock {
      state -> (CheckedContinuation<Lease, any Error>?, [Grant]) in
      if let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) {
        return (state.waiters.remove(at: index).continuation, [])
      }
      if state.lease?.ticket == ticket {
        state.lease = nil
        return (nil, grantIfFree(&state))
      }
      state.cancelledTickets.insert(ticket)
      return (nil, [])
    }
    cancelled?.resume(throwing: Self.lockCancelled)
    Self.resume(granted)
  }

  /// The lease now (nil when free or past its expiry).
  public var current: Lease? {
    state.withLock { state in
      state.lease.flatMap { $0.expires > clock.now ? $0 : nil }
    }
  }

  /// Whether `participant` has an acquire call waiting.
  public func isWaiting(_ participant: String) -> Bool {
    state.withLock { state in state.waiters.contains { $0.participant == participant } }
  }

  /// Checks that `participant` holds the unexpired lease `leaseID` and returns it. An expired
  /// lease found here is taken back (and the next waiter served).
  ///
  /// - Throws: ABORTED for a lease that is not current or expired, PERMISSION_DENIED for
  ///   another participant's; each message ends with `then` (what the caller must do next).
  @discardableResult
  public func check(_ participant: String, leaseID: String, then: String)
    throws(FederationError) -> Lease
  {
    var granted: [Grant] = []
    var expired: Lease?
    defer {
      if let expired { onExpiry(expired) }
      Self.resume(granted)
    }
    return try state.withLock { state throws(FederationError) -> Lease in
      guard let lease = state.lease, lease.id == leaseID else {
        throw FederationError(
          .aborted, "lease \(leaseID.prefix(64)) is no longer valid (expired or released); \(then)")
      }
      guard lease.holder == participant else {
        throw FederationError(.permissionDenied, "lease \(leaseID) belongs to another participant")
      }
      guard lease.expires > clock.now else {
        state.lease = nil
        expired = lease
        granted = grantIfFree(&state)
        throw FederationError(.aborted, "lease \(leaseID) expired; the turn is lost: \(then)")
      }
      return lease
    }
  }

  /// Releases `leaseID` if `participant` holds it (and serves the next waiter); false if it was
  /// no longer current.
  ///
  /// - Throws: PERMISSION_DENIED when the lease is another participant's.
  @discardableResult
  public func release(_ leaseID: String, of participant: String) throws(FederationError) -> Bool {
    let (released, granted) = try state.withLock {
      state throws(FederationError) -> (Bool, [Grant]) in
      guard let lease = state.lease, lease.id == leaseID else { return (false, []) }
      guard lease.holder == participant else {
        throw FederationError(.permissionDenied, "lease \(lease.id) belongs to another participant")
      }
      state.lease = nil
      return (true, grantIfFree(&state))
    }
    Self.resume(granted)
    return released
  }

  /// Fails `participant`'s waiting acquire calls with `error` and releases its lease; it may
  /// acquire again later.
  public func withdraw(_ participant: String, failing error: FederationError) {
    finish(participant, failing: error, departing: false)
  }

  /// ``withdraw(_:failing:)`` for good: later acquire calls of `participant` fail with
  /// FederationError.notJoined.
  public func remove(_ participant: String, failing error: FederationError) {
    finish(participant, failing: error, departing: true)
  }

  private func finish(_ participant: String, failing error: FederationError, departing: Bool) {
    let (mine, granted) = state.withLock {
      state -> ([CheckedContinuation<Lease, any Error>], [Grant]) in
      if departing { state.departed.insert(participant) }
      let mine = state.waiters.filter { $0.participant == participant }.map(\.continuation)
      state.waiters.removeAll { $0.participant == participant }
      if state.lease?.holder == participant { state.lease = nil }
      return (mine, grantIfFree(&state))
    }
    for continuation in mine { continuation.resume(throwing: error) }
    Self.resume(granted)
  }

  /// Fails every waiting and later acquire call with `error` (a shutting-down server's
  /// UNAVAILABLE), so a graceful shutdown does not wait for turns that will not come.
  public func stop(failing error: FederationError) {
    let waiters = state.withLock { state -> [CheckedContinuation<Lease, any Error>] in
      state.stopped = error
      defer { state.waiters.removeAll() }
      return state.waiters.map(\.continuation)
    }
    for waiter in waiters { waiter.resume(throwing: error) }
  }

  /// The error of an acquire call whose task was cancelled.
  public static let lockCancelled = FederationError(
    .deadlineExceeded, "the turn did not come before the call's deadline (or it was cancelled)")

  // MARK: - Granting

  /// Grants the lease to the next waiter if it is free and leases are open. Called with the
  /// lock held; the caller resumes the returned continuation after unlocking.
  private func grantIfFree(_ state: inout State) -> [Grant] {
    guard state.open, state.lease == nil, !state.waiters.isEmpty else { return [] }
    let index: Int
    switch order {
    case .randomOrder:
      index = Int.random(in: 0..<state.waiters.count, using: &state.random)
    case .roundRobin:
      let span = state.span
      let last = state.lastHolderJoinIndex
      index = state.waiters.indices.min { a, b in
        let da = (state.waiters[a].joinIndex - last - 1 + span) % span
        let db = (state.waiters[b].joinIndex - last - 1 + span) % span
        return da < db
      }!
    }
    let waiter = state.waiters.remove(at: index)
    let lease = Lease(
      id: Self.randomID(using: &state.random), holder: waiter.participant,
      holderName: waiter.name, expires: clock.now.advanced(by: .milliseconds(Int64(waiter.milliseconds))),
      milliseconds: waiter.milliseconds, ticket: waiter.ticket)
    state.lease = lease
    state.lastHolderJoinIndex = waiter.joinIndex
    scheduleExpiry(of: lease)
    return [(waiter.continuation, lease)]
  }

  private static func resume(_ granted: [Grant]) {
    for (waiter, lease) in granted { waiter.resume(returning: lease) }
  }

  private func scheduleExpiry(of lease: Lease) {
    Task { [weak self] in
      try? await Task.sleep(until: lease.expires, clock: ContinuousClock())
      self?.expire(lease)
    }
  }

  private func expire(_ expired: Lease) {
    let (taken, granted) = state.withLock { state -> (Bool, [Grant]) in
      guard state.lease?.id == expired.id else { return (false, []) }
      state.lease = nil
      return (true, grantIfFree(&state))
    }
    if taken { onExpiry(expired) }
    Self.resume(granted)
  }

  /// Drops a lease past its expiry (when the expiry task has not run yet) and returns it.
  private func expireIfDue(_ state: inout State) -> Lease? {
    guard let lease = state.lease, lease.expires <= clock.now else { return nil }
    state.lease = nil
    return lease
  }

  private static func randomID(using random: inout SystemRandomNumberGenerator) -> String {
    (0..<2).map { _ in
      let digits = String(random.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }.joined()
  }
}
