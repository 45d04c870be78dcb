import CoLearnTensor

/// Steps 4–5 of a turn (SPEC §6): what a participant uploads from its Δw — at most k entries,
/// bounded by γ.
///
/// A ``DSSGDTurnRunner`` chooses its selection once, from ``DSSGDConfiguration/selection``:
/// ``SelectorUpload`` for the paper's `largest` and `threshold` (no privacy of their own), or
/// ``PrivateUploadSelection`` for `svt` and `exponential` (charged to the participant's ledger,
/// and nothing once its budget is spent). A turn never asks which one it has.
public protocol UploadSelection: AnyObject {
  /// The entries of `delta` to upload, bounded, in increasing index order; nil when the
  /// participant uploads nothing this turn (its privacy budget is spent).
  ///
  /// - Parameters:
  ///   - delta: Δw over all |w| positions.
  ///   - k: at most this many entries (k = ⌈θ_u·|w|⌉).
  ///   - participant: whose randomness (and privacy state) the selection uses.
  func upload(
    from delta: UnsafeBufferPointer<Float>, count k: Int, participant: inout Participant
  ) throws -> SparseVector?
}

/// A selection criterion without privacy (`largest`, `threshold`) as an ``UploadSelection``:
/// the criterion's entries, bounded by γ, drawing on the participant's random stream.
public final class SelectorUpload<Selector: UpdateSelector>: UploadSelection {
  private var selector: Selector
  /// γ; nil for no bound.
  public let bound: Float?

  /// Uploads what `selector` chooses, bounded by `bound`.
  public init(_ selector: Selector, bound: Float?) {
    self.selector = selector
    self.bound = bound
  }

  public func upload(
    from delta: UnsafeBufferPointer<Float>, count k: Int, participant: inout Participant
  ) throws -> SparseVector? {
    selector.select(from: delta, count: k, bound: bound, using: &participant.generator)
  }
}
