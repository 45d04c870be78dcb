import CoLearnNN
import CoLearnPrivacy

/// One participant of split learning: its private samples, its copy of the front, its place in
/// the current epoch and its privacy ledger.
///
/// The front copy is the participant's own; ``SplitSimulation`` applies the same update to every
/// copy after every step, so all copies stay bit-identical (``SplitSimulation/frontsAreIdentical``).
public struct SplitParticipant: Sendable {
  /// The index of the participant, from 0.
  public let id: Int
  /// Its private samples (never sent; only front features or noised pixels are).
  public let samples: LabeledSamples
  /// Its copy of the front's flat parameter vector.
  public internal(set) var front: [Float]
  /// ε spent per epoch: each epoch releases every one of its values once, at ε (the paper's
  /// per-value ε; see the target README for what that means per sample).
  public internal(set) var ledger: PrivacyLedger

  /// This epoch's visiting order of the samples.
  var order: [Int] = []

  init(id: Int, samples: LabeledSamples, front: [Float]) {
    self.id = id
    self.samples = samples
    self.front = front
    ledger = PrivacyLedger()
  }

  /// The batches of an epoch of `batchSize`: ⌈n/B⌉, less a last batch of one sample (which
  /// BatchNorm would turn into zeros; its sample waits for the next epoch's order).
  func batchCount(batchSize: Int) -> Int {
    let whole = samples.count / batchSize
    return whole + (samples.count % batchSize >= 2 ? 1 : 0)
  }

  /// The sample indices of batch `k` of this epoch.
  func batch(_ k: Int, batchSize: Int) -> ArraySlice<Int> {
    order[(k * batchSize)..<min((k + 1) * batchSize, order.count)]
  }
}
