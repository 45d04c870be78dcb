import Synchronization

/// Who may take the next turn of a sequential federation so that every round is one turn of
/// each member: a member that already uploaded in the current round waits until every member
/// has (then, with fewer members than uploads per round, they go again) — without it, a member
/// that needs a moment between turns (evaluating, checkpointing) was skipped by round-robin,
/// which takes the next *waiting* participant, and others took two turns in its round. A
/// member that has not come for its turn for `stall` (a vanished one that has not left) stops
/// holding the round up. A member that joins after the current round's first upload waits for
/// the next round (it joins "at the round boundary"), so that a round is the turns of the
/// members it began with.
///
/// Threading: a leaf lock — ``TurnLeases`` consults ``isEligible(_:)`` under its own lock.
final class RoundSchedule: Sendable {
  private struct State {
    /// The server's completed rounds when `served` was last emptied.
    var round: UInt64
    /// Members (participant ids) that uploaded in the current round.
    var served: Set<String> = []
    var members: Set<String> = []
    /// Members that joined mid-round: they take turns from the next round on.
    var pending: Set<String> = []
    /// The last upload or change of membership.
    var progress: ContinuousClock.Instant
  }

  private let state: Mutex<State>
  private let stall: Duration
  private let clock = ContinuousClock()

  init(roundsCompleted: UInt64, stall: Duration) {
    state = Mutex(State(round: roundsCompleted, progress: ContinuousClock().now))
    self.stall = stall
  }

  func joined(_ id: String) {
    state.withLock {
      if $0.served.isEmpty {
        $0.members.insert(id)
      } else {
        $0.pending.insert(id)
      }
      $0.progress = clock.now
    }
  }

  func left(_ id: String) {
    state.withLock {
      $0.members.remove(id)
      $0.pending.remove(id)
      $0.served.remove(id)
      if $0.members.isEmpty {
        // Nobody is left to finish the round: the waiting members carry it on.
        $0.members = $0.pending
        $0.pending = []
      }
      $0.progress = clock.now
    }
  }

  /// Records `id`'s accepted upload; `roundsCompleted` is the server's count after it.
  func uploaded(_ id: String, roundsCompleted: UInt64) {
    state.withLock { state in
      state.progress = clock.now
      if roundsCompleted > state.round {
        // This upload completed the round: everyone's turn comes again.
        state.round = roundsCompleted
        state.served = []
        state.members.formUnion(state.pending)
        state.pending = []
      } else {
        state.served.insert(id)
      }
    }
  }

  /// Whether `id` may have the turn now.
  func isEligible(_ id: String) -> Bool {
    state.withLock { state in
      if clock.now - state.progress >= stall { return true }
      if state.pending.contains(id) { return false }
      return !state.served.contains(id) || state.members.isSubset(of: state.served)
    }
  }
}
