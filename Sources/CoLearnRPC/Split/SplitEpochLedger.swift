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

  public init(
    epoch: Int, participants: Int, steps: Int, samples: Int, meanLoss: Double, accuracy: Double
  ) {
    self.epoch = epoch
    self.participants = participants
    self.steps = steps
    self.samples = samples
    self.meanLoss = meanLoss
    self.accuracy = accuracy
  }
}

/// Groups the coordinator's steps by the epoch participants declare in Step, and hands over an
/// epoch once every one of the N participants has passed it (stepped in a later epoch, or
/// finished). Steps that declare no epoch (older participants) are not recorded.
///
/// Threading: a leaf lock; call from any task.
public final class SplitEpochLedger: Sendable {
  private let state: Mutex<SplitEpochTally>

  /// A ledger for a federation of `participants` (N).
  public convenience init(participants: Int) {
    self.init(SplitEpochTally(participants: participants))
  }

  /// A ledger that continues `tally` (a restarted coordinator's, from its state directory).
  init(_ tally: SplitEpochTally) {
    state = Mutex(tally)
  }

  /// Records a step of `samples` samples with mean loss `loss` and `correct` right; returns the
  /// epochs it completed.
  public func stepped(_ id: String, epoch: Int, samples: Int, loss: Double, correct: Int)
    -> [SplitEpochSummary]
  {
    state.withLock {
      $0.stepped(id, epoch: epoch, samples: samples, loss: loss, correct: correct)
    }
  }

  /// Records that `id` called Finish; returns the epochs that completed with it.
  public func finished(_ id: String) -> [SplitEpochSummary] {
    state.withLock { $0.finished(id) }
  }

  /// The epochs handed over so far, in order.
  public var completed: [SplitEpochSummary] { state.withLock { $0.completed } }
}

/// The arithmetic of ``SplitEpochLedger`` as a value: what the coordinator's state directory
/// keeps of it (``SplitCoordinatorStore`` replays the same calls).
struct SplitEpochTally: Sendable, Equatable {
  struct Totals: Sendable, Equatable {
    var participants: Set<String> = []
    var steps = 0
    var samples = 0
    var lossSum = 0.0
    var correct = 0
  }

  var participants: Int
  var totals: [Int: Totals] = [:]
  /// Each participant's latest declared epoch.
  var epochOf: [String: Int] = [:]
  var finished: Set<String> = []
  /// The epochs handed over, in order (the last is the last handed over).
  var completed: [SplitEpochSummary] = []

  init(participants: Int) {
    self.participants = participants
  }

  /// The last epoch handed over (0: none).
  var handedOver: Int { completed.last?.epoch ?? 0 }

  mutating func stepped(_ id: String, epoch: Int, samples: Int, loss: Double, correct: Int)
    -> [SplitEpochSummary]
  {
    guard epoch > 0 else { return [] }
    epochOf[id] = max(epochOf[id] ?? 0, epoch)
    var epochTotals = totals[epoch] ?? Totals()
    epochTotals.participants.insert(id)
    epochTotals.steps += 1
    epochTotals.samples += samples
    epochTotals.lossSum += loss * Double(samples)
    epochTotals.correct += correct
    totals[epoch] = epochTotals
    return handOver()
  }

  mutating func finished(_ id: String) -> [SplitEpochSummary] {
    finished.insert(id)
    return handOver()
  }

  private mutating func handOver() -> [SplitEpochSummary] {
    let members = Set(epochOf.keys).union(finished)
    guard members.count >= participants else { return [] }
    var done: [SplitEpochSummary] = []
    while let epochTotals = totals[handedOver + 1] {
      let epoch = handedOver + 1
      let passed = members.allSatisfy { finished.contains($0) || (epochOf[$0] ?? 0) > epoch }
      guard passed else { break }
      let summary = SplitEpochSummary(
        epoch: epoch, participants: epochTotals.participants.count, steps: epochTotals.steps,
        samples: epochTotals.samples,
        meanLoss: epochTotals.lossSum / Double(max(epochTotals.samples, 1)),
        accuracy: Double(epochTotals.correct) / Double(max(epochTotals.samples, 1)))
      done.append(summary)
      completed.append(summary)
      totals[epoch] = nil
    }
    return done
  }
}
