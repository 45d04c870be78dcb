/// bound(x, γ) = max(−γ, min(γ, x)): clips an update to [−γ, γ] (SPEC §6 step 5, paper §5.2).
/// A NaN update becomes 0, so that every input — even a broken one — lands in the range the
/// sensitivity is computed from.
///
/// The same one-liner as CoLearnDSSGD's, kept private here so that CoLearnPrivacy depends on
/// CoLearnTensor only.
@inline(__always)
func bound(_ x: Float, gamma: Float) -> Float {
  x.isNaN ? 0 : max(-gamma, min(gamma, x))
}
