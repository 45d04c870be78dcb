import CoLearnTensor
import Synchronization

/// A robust rule against poisoning (`colearn serve --clip-to-median-norm K`): an upload whose
/// L2 norm is above K times the median norm of the last ``window`` accepted uploads is scaled
/// down to that before it is applied (norm bounding relative to the other participants, as in
/// Sun et al., "Can You Really Backdoor Federated Learning?", 2019, with the median as a robust
/// reference instead of a fixed constant). Until ``minimumHistory`` uploads were seen, nothing
/// is scaled.
///
/// It limits how much faster than the typical participant one participant can move the model;
/// an attacker that stays below K × the median still contributes its share, and attackers that
/// are the majority of recent uploads set the median themselves (docs/DEPLOYMENT.md).
public final class MedianNormClipping: Sendable {
  private struct History {
    var norms: [Double] = []
    var next = 0
  }

  /// K.
  public let factor: Double
  public let window: Int
  public let minimumHistory: Int
  private let history = Mutex(History())

  public init(factor: Double, window: Int = 64, minimumHistory: Int = 8) {
    precondition(factor > 0 && factor.isFinite && window >= minimumHistory && minimumHistory > 0)
    self.factor = factor
    self.window = window
    self.minimumHistory = minimumHistory
  }

  /// K × the median of the recent norms, or nil while the history is too short.
  public var limit: Double? {
    history.withLock { history in
      guard history.norms.count >= minimumHistory else { return nil }
      let sorted = history.norms.sorted()
      let middle = sorted.count / 2
      let median =
        sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
      return factor * median
    }
  }

  /// `update`, scaled down to the limit if its norm is above it, and whether it was.
  public func clip(_ update: SparseVector) -> (SparseVector, scaled: Bool) {
    guard let limit, limit > 0 else { return (update, false) }
    let norm = UpdateBounds.norm(update.values)
    guard norm > limit else { return (update, false) }
    let scale = limit / norm
    return (
      SparseVector(
        indices: update.indices, values: update.values.map { Float(Double($0) * scale) }),
      true
    )
  }

  /// Records the norm of an applied upload.
  public func record(_ update: SparseVector) {
    let norm = UpdateBounds.norm(update.values)
    history.withLock { history in
      if history.norms.count < window {
        history.norms.append(norm)
      } else {
        history.norms[history.next] = norm
      }
      history.next = (history.next + 1) % window
    }
  }
}
