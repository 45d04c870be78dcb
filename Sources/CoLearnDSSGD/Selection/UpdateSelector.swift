import CoLearnTensor

/// Chooses which entries of a participant's parameter change Δw to upload (SPEC §6 step 4–5):
/// at most k of them, each bounded to [−γ, γ] when γ is set. The criteria are the paper's
/// `largest` and `threshold` (one conforming type each), which ``SelectorUpload`` makes a stage of
/// a turn; the differentially private ones are ``PrivateUploadSelection``.
public protocol UpdateSelector {
  /// The chosen entries of `delta`, bounded, in increasing index order.
  ///
  /// - Parameters:
  ///   - delta: Δw = w_new − w_old over all |w| positions.
  ///   - k: at most this many entries (k = ⌈θ_u·|w|⌉, at least 1).
  ///   - gamma: γ, the bound applied to every uploaded value; nil for none.
  ///   - generator: the randomness a criterion may need (visiting order).
  mutating func select<G: RandomNumberGenerator>(
    from delta: UnsafeBufferPointer<Float>, count k: Int, bound gamma: Float?,
    using generator: inout G
  ) -> SparseVector
}
