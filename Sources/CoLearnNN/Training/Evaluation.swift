/// Test-set accuracy and loss of a model.
public struct EvaluationResult: Sendable, Hashable, Codable {
  /// The fraction of samples whose arg-max class is the label.
  public var accuracy: Double
  /// The mean negative log-likelihood.
  public var meanLoss: Double
  /// The number of samples evaluated.
  public var samples: Int

  /// A result from its parts (for evaluations composed outside this target, such as a split
  /// network's front and back).
  public init(accuracy: Double, meanLoss: Double, samples: Int) {
    self.accuracy = accuracy
    self.meanLoss = meanLoss
    self.samples = samples
  }
}

/// Evaluates `parameters` on `samples` in batches of `batchSize` (the network's workspaces grow
/// to that size once). Forward passes only; the parameters are not changed.
///
/// - Complexity: one forward pass over the samples.
public func evaluate(
  _ network: Network, parameters: [Float], on samples: LabeledSamples, batchSize: Int
) -> EvaluationResult {
  precondition(samples.sampleSize == network.inputShape.count, "sample size mismatch")
  let batch = max(1, min(batchSize, samples.count))
  network.reserve(batchSize: batch)
  let classes = network.outputShape.count
  var totalLoss = 0.0
  var correct = 0
  parameters.withUnsafeBufferPointer { w in
    samples.features.withUnsafeBufferPointer { features in
      samples.labels.withUnsafeBufferPointer { labels in
        var start = 0
        while start < samples.count {
          let size = min(batch, samples.count - start)
          let output = network.forward(
            features.baseAddress! + start * samples.sampleSize, batchSize: size,
            parameters: w.baseAddress!)
          let result = negativeLogLikelihood(
            logProbabilities: output, labels: labels.baseAddress! + start, batchSize: size,
            classes: classes, gradient: nil)
          totalLoss += Double(result.loss) * Double(size)
          correct += result.correct
          start += size
        }
      }
    }
  }
  let count = max(samples.count, 1)
  return EvaluationResult(
    accuracy: Double(correct) / Double(count), meanLoss: totalLoss / Double(count),
    samples: samples.count)
}
