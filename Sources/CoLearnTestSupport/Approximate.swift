/// Whether two values agree to within `absolute + relative · max(|a|, |b|)`.
public func isApproximatelyEqual(
  _ a: Double, _ b: Double, absolute: Double = 1e-6, relative: Double = 1e-5
) -> Bool {
  abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

/// The largest elementwise |a − b| of two equally long arrays.
public func maximumAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
  precondition(a.count == b.count, "arrays differ in length: \(a.count) vs \(b.count)")
  var worst: Float = 0
  for i in a.indices { worst = max(worst, abs(a[i] - b[i])) }
  return worst
}
