/// ceil(θ·n), the number of entries a fraction θ of n selects (SPEC §5, §6: k = ceil(θ·|w|)),
/// at least 1 and at most n.
///
/// θ·n is computed in binary floating point, where a product that is an integer in exact
/// arithmetic can come out a hair above it (0.1 × 100 = 10.000000000000002); a relative slack of
/// 1e-12 keeps such products from rounding up to the next integer.
public func fractionCount(_ fraction: Double, of n: Int) -> Int {
  precondition(fraction > 0 && fraction <= 1, "fraction \(fraction) outside (0, 1]")
  let product = fraction * Double(n) * (1 - 1e-12)
  return min(n, max(1, Int(product.rounded(.up))))
}
