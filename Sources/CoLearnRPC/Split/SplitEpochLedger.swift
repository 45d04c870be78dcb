import Synchronization

/// One epoch of split learning as the coordinator saw it: the steps participants took in it
/// (by the epoch each Step declared), with the back's training loss and accuracy on their
/// batches — the row of `split serve`'s run record.
public struct SplitEpochSummary: Sendable, Equatable {
  public var epoch: Int
  /// Participants that stepped in it.
  public var participants: Int
  public var steps: Int
  public var samples: Int
  /// Sample-weighted mean of the steps' losses, and the share of samples the back classified
  /// right (before its update), on the noised features.
  public var meanLoss: Double
  public var accuracy: Double
}

/// Groups the coordinator's steps by the epoch participants declare in Step, and hands over an
/// epoch once every one of the N participants has passed it (stepped in a later epoch, or
/// finished). Steps that declare no epoch (older participants) are not recorded.
///
/// Threading: a leaf lock; call from any task.
public final class SplitEpochLedger: Sendable {
  private struct Totals {
    var participants: Set<String> = []
    var steps = 0
    var samples = 0
    var lossSum = 0.0
    var correct = 0
  }

  private struct State {
    var totals: [Int: Totals] = [:]
    /// Each participant's latest declared epoch.
    var epochOf: [String: Int] = [:]
    var finished: Set<String> = []
    /// The last epoch handed over.
    var handedOver = 0
  }

  private let participants: Int
  private let state = Mutex(State())

  /// A ledger for a federation of `participants` (N).
  public init(participants: Int) {
    self.participants = participants
  }

  /// Records a step of `samples` samples with mean loss `loss` and `correct` right; returns the
  /// epochs it completed.
  public func stepped(_ id: String, epoch: Int, samples: Int, loss: Double, correct: Int)
    -> [SplitEpochSummary]
  {
    guard epoch > 0 else { return [] }
    return state.withLock { state in
      state.epochOf[id] = max(state.epochOf[id] ?? 0, epoch)
      var totals = state.totals[epoch] ?? Totals()
      totals.participants.insert(id)
      totals.steps += 1
      totals.samples += samples
      totals.lossSum += loss * Double(samples)
      totals.correct += correct
      state.totals[epoch] = totals
      return completed(&state)
    }
  }

  /// Records that `id` called Finish; returns the epochs that completed with it.
  public func finished(_ id: String) -> [SplitEpochSummary] {
    state.withLock { state in
      state.finished.insert(id)
      return completed(&state)
    }
  }

  private func completed(_ state: inout State) -> [SplitEpochSummary] {
    let members = Set(state.epochOf.keys).union(state.finished)
    guard members.count >= participants else { return [] }
    var done: [SplitEpochSummary] = []
    while let totals = state.totals[state.handedOver + 1] {
      let epoch = state.handedOver + 1
      let passed = members.allSatisfy { state.finished.contains($0) || (state.epochOf[$0] ?? 0) > epoch }
      guard passed else { break }
      done.append(
        SplitEpochSummary(
          epoch: epoch, participants: totals.participants.count, steps: totals.steps,
          samples: totals.samples, meanLoss: totals.lossSum / Double(max(totals.samples, 1)),
          accuracy: Double(totals.correct) / Double(max(totals.samples, 1))))
      state.totals[epoch] = nil
      state.handedOver = epoch
    }
    return done
  }
}
