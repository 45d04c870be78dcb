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
  return parameters.withUnsafeBufferPointer { w in
    evaluateBatches(of: samples, batchSize: batch, classes: classes) { input, size in
      network.forward(input, batchSize: size, parameters: w.baseAddress!)
    }
  }
}

/// The batch loop of an evaluation: runs `forward` (features of `size` samples → their log
/// probabilities over `classes`) on consecutive batches of `samples` and accumulates the
/// negative log-likelihood and the correct predictions.
///
/// - Parameter mergeSingletonRemainder: a last batch of one sample joins the batch before it
///   (for networks with batch statistics, which would zero a lone sample); the caller's
///   workspaces must then hold `batchSize + 1` samples.
public func evaluateBatches(
  of samples: LabeledSamples, batchSize: Int, classes: Int,
  mergeSingletonRemainder: Bool = false,
  forward: (_ input: UnsafePointer<Float>, _ size: Int) -> UnsafePointer<Float>
) -> EvaluationResult {
  var totalLoss = 0.0
  var correct = 0
  samples.features.withUnsafeBufferPointer { features in
    samples.labels.withUnsafeBufferPointer { labels in
      var start = 0
      while start < samples.count {
        var size = min(batchSize, samples.count - start)
        if mergeSingletonRemainder, samples.count - start - size == 1 { size += 1 }
        let output = forward(features.baseAddress! + start * samples.sampleSize, size)
        let result = negativeLogLikelihood(
          logProbabilities: output, labels: labels.baseAddress! + start, batchSize: size,
          classes: classes, gradient: nil)
        totalLoss += Double(result.loss) * Double(size)
        correct += result.correct
        start += size
      }
    }
  }
  let count = max(samples.count, 1)
  return EvaluationResult(
    accuracy: Double(correct) / Double(count), meanLoss: totalLoss / Double(count),
    samples: samples.count)
}
