/// Small statistics helpers for the sampler tests.

/// Pearson's χ² statistic, Σ (observed − expected)²/expected.
func chiSquare(observed: [Int], expected: [Double]) -> Double {
  precondition(observed.count == expected.count)
  var total = 0.0
  for (o, e) in zip(observed, expected) {
    let difference = Double(o) - e
    total += difference * difference / e
  }
  return total
}

/// The sample mean and (population) variance.
func meanAndVariance(_ samples: [Int64]) -> (mean: Double, variance: Double) {
  let count = Double(samples.count)
  let mean = samples.reduce(0.0) { $0 + Double($1) } / count
  let variance = samples.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / count
  return (mean, variance)
}
