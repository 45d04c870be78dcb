/// bound(x, γ) = max(−γ, min(γ, x)): clips an update to [−γ, γ] (SPEC §6 step 5, paper §5.2);
/// with no γ the value is returned unchanged.
@inlinable
public func bound(_ x: Float, gamma: Float?) -> Float {
  guard let gamma else { return x }
  return max(-gamma, min(gamma, x))
}
