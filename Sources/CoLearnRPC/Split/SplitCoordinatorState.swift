/// Everything a split-learning coordinator must not lose in a restart: the back and its step
/// count, who joined (with their token identities and what each sent), the relay of sealed
/// front updates still needed, and the epoch ledger of the run record. ``SplitCoordinatorStore``
/// keeps it in a state directory (a snapshot plus a write-ahead log of ``SplitStateRecord``s)
/// and ``SplitFederation`` resumes from it.
///
/// Not kept: leases and turns in progress (a restarted coordinator grants new ones; a Step or
/// PublishUpdate of an old lease is refused with ABORTED, which participants take as a lost
/// turn), `last seen` times (every member counts as just seen), and the refused-step counter.
public struct SplitCoordinatorState: Sendable, Equatable {
  /// One participant that joined.
  public struct Member: Sendable, Equatable {
    public var id: String
    /// The token identity it joined with, and its display name.
    public var identity: String
    public var name: String
    /// The relay sequence number up to which it has fetched the updates.
    public var acknowledged: UInt64 = 0
    public var finished = false
    public var downloadedBack = false
    /// What the coordinator received from it.
    public var receipt: SplitReceipt

    public init(id: String, identity: String, name: String) {
      self.id = id
      self.identity = identity
      self.name = name
      receipt = SplitReceipt(name: name)
    }
  }

  /// The back's parameters and the steps it took (t of the learning-rate decay).
  public var back: [Float]
  public var steps: Int
  /// The write-ahead-log events applied (every record has the next number).
  public var events: UInt64 = 0
  /// The participants, in join order.
  public var members: [Member] = []
  /// The relayed updates kept: sequence numbers firstKept … lastSequence.
  public var firstKept: UInt64 = 1
  public var lastSequence: UInt64 = 0
  public var relay: [[UInt8]] = []
  /// The epoch ledger (the run record's rows are its `completed` epochs).
  var tally: SplitEpochTally

  /// A new federation of `participants` with the back `back`.
  public init(back: [Float], participants: Int) {
    self.back = back
    steps = 0
    tally = SplitEpochTally(participants: participants)
  }

  /// N.
  public var participants: Int { tally.participants }

  /// The epochs every participant has passed, in order: the rows of the run record.
  public var completedEpochs: [SplitEpochSummary] { tally.completed }

  /// Whether `other` is the same state with the back equal bit for bit.
  public func isIdentical(to other: SplitCoordinatorState) -> Bool {
    var a = self
    var b = other
    let sameBack =
      a.back.count == b.back.count
      && zip(a.back, b.back).allSatisfy { $0.bitPattern == $1.bitPattern }
    a.back = []
    b.back = []
    return sameBack && a == b
  }

  /// Applies one record of the log (the next event), or says why it cannot follow this state.
  mutating func apply(_ record: SplitStateRecord) -> String? {
    func member(_ index: Int) -> String? {
      index < members.count ? nil : "participant \(index) has not joined (\(members.count) have)"
    }
    switch record {
    case .join(let id, let identity, let name):
      guard members.count < participants else {
        return "a join beyond the \(participants) participants"
      }
      guard !members.contains(where: { $0.id == id || $0.identity == identity }) else {
        return "participant \(id) (\(identity)) joins twice"
      }
      members.append(Member(id: id, identity: identity, name: name))
    case .step(let step):
      if let problem = member(step.member) { return problem }
      guard step.back.count == back.count else {
        return "a back of \(step.back.count) parameters, not \(back.count)"
      }
      guard step.steps == steps + 1 else {
        return "step \(step.steps) after step \(steps)"
      }
      back = step.back
      steps = step.steps
      members[step.member].receipt.steps += 1
      members[step.member].receipt.samples += step.samples
      members[step.member].receipt.featureValues += step.featureValues
      members[step.member].receipt.labels += step.samples
      members[step.member].receipt.epsilons.insert(step.epsilon)
      members[step.member].receipt.sensitivities.insert(step.sensitivity)
      _ = tally.stepped(
        members[step.member].id, epoch: step.epoch, samples: step.samples,
        loss: Double(step.loss), correct: step.correct)
    case .publish(let index, let sequence, let sealed):
      if let problem = member(index) { return problem }
      guard sequence == lastSequence + 1 else {
        return "relay sequence \(sequence) after \(lastSequence)"
      }
      relay.append(sealed)
      lastSequence = sequence
      members[index].receipt.sealedUpdates += 1
      members[index].receipt.sealedBytes += sealed.count
    case .acknowledge(let index, let after, let kept):
      if let problem = member(index) { return problem }
      guard after <= lastSequence, kept >= firstKept, kept <= lastSequence + 1 else {
        return "acknowledgement of \(after), keeping from \(kept), with updates \(firstKept)…"
          + "\(lastSequence)"
      }
      members[index].acknowledged = max(members[index].acknowledged, after)
      relay.removeFirst(Int(kept - firstKept))
      firstKept = kept
    case .finish(let index):
      if let problem = member(index) { return problem }
      members[index].finished = true
      _ = tally.finished(members[index].id)
    case .downloaded(let index):
      if let problem = member(index) { return problem }
      members[index].downloadedBack = true
    }
    events += 1
    return nil
  }
}

/// One change of a split coordinator's state, as its write-ahead log holds it (the codec is in
/// SplitStateFiles.swift). Participants are numbered in join order.
enum SplitStateRecord: Sendable, Equatable {
  /// One step of the back: whose, what the ledger and the receipt count, and the back after it
  /// (whole: replaying keeps it bit for bit, whatever the BLAS threads of the restarted process).
  struct Step: Sendable, Equatable {
    var member: Int
    var epoch: Int
    var samples: Int
    var featureValues: Int
    var loss: Float
    var correct: Int
    var epsilon: Double
    var sensitivity: Double
    /// The step count after it.
    var steps: Int
    var back: [Float]

    static func == (a: Step, b: Step) -> Bool {
      a.member == b.member && a.epoch == b.epoch && a.samples == b.samples
        && a.featureValues == b.featureValues && a.loss.bitPattern == b.loss.bitPattern
        && a.correct == b.correct && a.epsilon == b.epsilon && a.sensitivity == b.sensitivity
        && a.steps == b.steps && a.back.count == b.back.count
        && zip(a.back, b.back).allSatisfy { $0.bitPattern == $1.bitPattern }
    }
  }

  case join(id: String, identity: String, name: String)
  case step(Step)
  case publish(member: Int, sequence: UInt64, sealed: [UInt8])
  /// A participant fetched the updates up to `after`, and the relay keeps those from `firstKept`.
  case acknowledge(member: Int, after: UInt64, firstKept: UInt64)
  case finish(member: Int)
  /// A finished participant downloaded the back.
  case downloaded(member: Int)
}
