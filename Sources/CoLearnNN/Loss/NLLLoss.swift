/// The negative log-likelihood of the true classes under a batch of log-probabilities (Torch7
/// `nn.ClassNLLCriterion` with size averaging), together with its gradient and the number of
/// correct predictions.
///
/// L = −(1/B) Σ_b y[b, label_b];  ∂L/∂y[b, c] = −1/B if c = label_b, else 0.
///
/// - Parameters:
///   - logProbabilities: [B, classes] log-probabilities (the output of ``LogSoftmax``).
///   - labels: B class indices in 0..<classes.
///   - batchSize: B.
///   - classes: the number of classes.
///   - gradient: where to write ∂L/∂y ([B, classes]), or `nil` when only evaluating.
///   - meanOver: the gradient is that of the mean loss over this many samples (default B): for
///     a part of a larger batch whose parts are back-propagated apart and summed.
/// - Returns: the mean loss and the number of samples whose arg-max class is the label.
public func negativeLogLikelihood(
  logProbabilities: UnsafePointer<Float>, labels: UnsafePointer<Int32>, batchSize: Int,
  classes: Int, gradient: UnsafeMutablePointer<Float>?, meanOver: Int? = nil
) -> (loss: Float, correct: Int) {
  var total: Float = 0
  var correct = 0
  let scale = -1 / Float(meanOver ?? batchSize)
  for b in 0..<batchSize {
    let row = logProbabilities + b * classes
    let label = Int(labels[b])
    precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
    total -= row[label]
    var best = 0
    for c in 1..<classes where row[c] > row[best] { best = c }
    if best == label { correct += 1 }
    if let gradient {
      let g = gradient + b * classes
      g.update(repeating: 0, count: classes)
      g[label] = scale
    }
  }
  return (total / Float(batchSize), correct)
}
