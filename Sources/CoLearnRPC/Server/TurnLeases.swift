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
/// Holding: a lease granted through a HoldTurn call (``TurnHolding``) is tied to that call: the
/// call registers ``onEnd(of:_:)`` to learn when the lease ends on the server, and releases
/// the lease the moment the call ends — its caller closed it, or cancelled it, or its
/// connection broke — so a holder that vanishes mid-turn gives the turn back at once. A lease
/// delivered by Lock is tied to nothing (the holder's next calls may come on another
/// connection, and nothing is in flight between them to notice a dead peer): a holder that
/// vanishes after Lock returned keeps the turn until the lease expires. Expiry (its
/// `lease_duration_ms`, at most the server's maximum) stays the backstop for both: the lease
/// is taken back and `onExpiry` runs.
///
/// Threading: every method may be called from any task, also while the caller holds a lock of
/// its own: this type's lock is a leaf (it never calls out while held; continuations are
/// resumed, and `onExpiry` and the ``onEnd(of:_:)`` handlers run, after it is released).
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

  /// What to do once the lock is released: waiters to resume with their lease, and the
  /// ``onEnd(of:_:)`` handlers of a lease that ended.
  private struct Wakeups {
    var grants: [Grant] = []
    var ended: [@Sendable () -> Void] = []

    func run() {
      for (waiter, lease) in grants { waiter.resume(returning: lease) }
      for handler in ended { handler() }
    }
  }

  private struct State {
    var lease: Lease?
    /// The ``onEnd(of:_:)`` handlers of `lease`.
    var endHandlers: [@Sendable () -> Void] = []
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
  /// Whether a waiting participant may have the turn now (``Federation``'s rounds: not twice
  /// in one round while another member still has to take its turn). Called with this type's
  /// lock held: it must take no lock but leaf locks of its own.
  private let eligible: @Sendable (String) -> Bool

  /// Leases in `order`, granted from the start when `open` (else after ``open()``); `onExpiry`
  /// runs (outside any lock) once for every lease taken back at its expiry (by its timer, or by
  /// the first call that finds it past due).
  public init(
    order: Order, open: Bool = true,
    onExpiry: @escaping @Sendable (Lease) -> Void = { _ in },
    eligible: @escaping @Sendable (String) -> Bool = { _ in true }
  ) {
    self.order = order
    state = Mutex(State(open: open))
    self.eligible = eligible
    self.onExpiry = onExpiry
  }

  /// Grants the turn if it is free and a waiter has become eligible (idempotent): for a change
  /// of eligibility that no acquire or release brought.
  public func reconsider() {
    let wakeups = state.withLock { grantIfFree(&$0) }
    wakeups.run()
  }

  /// Starts granting leases (idempotent).
  public func open() {
    let wakeups = state.withLock { state -> Wakeups in
      state.open = true
      return grantIfFree(&state)
    }
    wakeups.run()
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
    enum Queued { case own(Lease), refused(FederationError), waiting }
    return try await withCheckedThrowingContinuation {
      (continuation: CheckedContinuation<Lease, any Error>) in
      var expired: Lease?
      var wakeups = Wakeups()
      let queued = state.withLock { state -> Queued in
        if let stopped = state.stopped { return .refused(stopped) }
        if state.cancelledTickets.remove(ticket) != nil { return .refused(Self.lockCancelled) }
        if state.departed.contains(participant) { return .refused(.notJoined(participant)) }
        if let lease = state.lease, lease.expires <= clock.now {
          // Taken back, granted below among all the waiters, this one included.
          expired = lease
          wakeups = endLease(&state, grantingNext: false)
        }
        if let lease = state.lease, lease.holder == participant { return .own(lease) }
        state.span = max(state.span, joinIndex + 1)
        state.waiters.append(
          Waiter(
            ticket: ticket, participant: participant, name: name, joinIndex: joinIndex,
            milliseconds: milliseconds, continuation: continuation))
        let granted = grantIfFree(&state)
        wakeups.grants += granted.grants
        return .waiting
      }
      if let expired { onExpiry(expired) }
      switch queued {
      case .own(let lease): continuation.resume(returning: lease)
      case .refused(let error): continuation.resume(throwing: error)
      case .waiting: break
      }
      wakeups.run()
    }
  }

  /// Gives up acquire call `ticket`: out of the queue if waiting, its lease released if granted
  /// in that instant (its caller may never learn it), refused at once if it has not queued yet.
  private func cancel(_ ticket: UInt64) {
    let (cancelled, wakeups) = state.withLock {
      state -> (CheckedContinuation<Lease, any Error>?, Wakeups) in
      if let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) {
        return (state.waiters.remove(at: index).continuation, Wakeups())
      }
      if state.lease?.ticket == ticket { return (nil, endLease(&state)) }
      state.cancelledTickets.insert(ticket)
      return (nil, Wakeups())
    }
    cancelled?.resume(throwing: Self.lockCancelled)
    wakeups.run()
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

  /// Runs `handler` once when `lease` ends — released, expired, withdrawn or removed — or when
  /// the leases are stopped, or at once if it is no longer the current lease or they already
  /// are. (A HoldTurn call ends itself with it.)
  public func onEnd(of lease: Lease, _ handler: @escaping @Sendable () -> Void) {
    let registered = state.withLock { state -> Bool in
      guard state.stopped == nil, state.lease?.id == lease.id else { return false }
      state.endHandlers.append(handler)
      return true
    }
    if !registered { handler() }
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
    var wakeups = Wakeups()
    var expired: Lease?
    defer {
      if let expired { onExpiry(expired) }
      wakeups.run()
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
        expired = lease
        wakeups = endLease(&state)
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
    let (released, wakeups) = try state.withLock {
      state throws(FederationError) -> (Bool, Wakeups) in
      guard let lease = state.lease, lease.id == leaseID else { return (false, Wakeups()) }
      guard lease.holder == participant else {
        throw FederationError(.permissionDenied, "lease \(lease.id) belongs to another participant")
      }
      return (true, endLease(&state))
    }
    wakeups.run()
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
    let (mine, wakeups) = state.withLock {
      state -> ([CheckedContinuation<Lease, any Error>], Wakeups) in
      if departing { state.departed.insert(participant) }
      let mine = state.waiters.filter { $0.participant == participant }.map(\.continuation)
      state.waiters.removeAll { $0.participant == participant }
      if state.lease?.holder == participant { return (mine, endLease(&state)) }
      return (mine, grantIfFree(&state))
    }
    for continuation in mine { continuation.resume(throwing: error) }
    wakeups.run()
  }

  /// Fails every waiting and later acquire call with `error` (a shutting-down server's
  /// UNAVAILABLE), and runs the current lease's ``onEnd(of:_:)`` handlers (its HoldTurn call
  /// ends; the lease itself stays, so the holder's calls in flight still finish), so a graceful
  /// shutdown waits neither for turns that will not come nor for a held turn to end.
  public func stop(failing error: FederationError) {
    let (waiters, ended) = state.withLock {
      state -> ([CheckedContinuation<Lease, any Error>], [@Sendable () -> Void]) in
      state.stopped = error
      defer {
        state.waiters.removeAll()
        state.endHandlers.removeAll()
      }
      return (state.waiters.map(\.continuation), state.endHandlers)
    }
    for waiter in waiters { waiter.resume(throwing: error) }
    for handler in ended { handler() }
  }

  /// The error of an acquire call whose task was cancelled.
  public static let lockCancelled = FederationError(
    .deadlineExceeded, "the turn did not come before the call's deadline (or it was cancelled)")

  // MARK: - Granting

  /// Grants the lease to the next waiter if it is free and leases are open. Called with the
  /// lock held; the caller resumes the returned continuation after unlocking.
  private func grantIfFree(_ state: inout State) -> Wakeups {
    guard state.open, state.lease == nil, !state.waiters.isEmpty else { return Wakeups() }
    let candidates = state.waiters.indices.filter { eligible(state.waiters[$0].participant) }
    guard !candidates.isEmpty else { return Wakeups() }
    let index: Int
    switch order {
    case .randomOrder:
      index = candidates.randomElement(using: &state.random)!
    case .roundRobin:
      let span = state.span
      let last = state.lastHolderJoinIndex
      index = candidates.min { a, b in
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
    return Wakeups(grants: [(waiter.continuation, lease)])
  }

  /// Ends the current lease (its ``onEnd(of:_:)`` handlers are returned to run) and grants the
  /// turn to the next waiter (unless not `grantingNext`). Called with the lock held.
  private func endLease(_ state: inout State, grantingNext: Bool = true) -> Wakeups {
    state.lease = nil
    var wakeups = grantingNext ? grantIfFree(&state) : Wakeups()
    wakeups.ended = state.endHandlers
    state.endHandlers = []
    return wakeups
  }

  private func scheduleExpiry(of lease: Lease) {
    Task { [weak self] in
      try? await Task.sleep(until: lease.expires, clock: ContinuousClock())
      self?.expire(lease)
    }
  }

  private func expire(_ expired: Lease) {
    let (taken, wakeups) = state.withLock { state -> (Bool, Wakeups) in
      guard state.lease?.id == expired.id else { return (false, Wakeups()) }
      return (true, endLease(&state))
    }
    if taken { onExpiry(expired) }
    wakeups.run()
  }

  private static func randomID(using random: inout SystemRandomNumberGenerator) -> String {
    (0..<2).map { _ in
      let digits = String(random.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }.joined()
  }
}
