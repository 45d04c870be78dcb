import CoLearnNN

/// The test accuracy and loss of a front and a back run one after the other, locally, with
/// nothing noised (after training the coordinator sends the back to the participants, which
/// then classify on their own; Jiang et al. §1).
///
/// Batches have `batchSize` samples, because the front's BatchNorm has no running statistics:
/// test features are normalised over their batch, as training features were over theirs. A
/// remainder of a single sample joins the previous batch (alone, BatchNorm would zero it).
///
/// - Complexity: one forward pass of both networks over the samples.
public func splitEvaluate(
  front: Network, frontParameters: [Float], back: Network, backParameters: [Float],
  on samples: LabeledSamples, batchSize: Int
) -> EvaluationResult {
  precondition(samples.sampleSize == front.inputShape.count, "sample size mismatch")
  precondition(batchSize >= 2, "evaluation batches need at least two samples")
  let capacity = min(batchSize + 1, max(samples.count, 1))
  front.reserve(batchSize: capacity)
  back.reserve(batchSize: capacity)
  let classes = back.outputShape.count
  return frontParameters.withUnsafeBufferPointer { wf in
    backParameters.withUnsafeBufferPointer { wb in
      evaluateBatches(
        of: samples, batchSize: batchSize, classes: classes, mergeSingletonRemainder: true
      ) { input, size in
        let features = front.forward(input, batchSize: size, parameters: wf.baseAddress!)
        return back.forward(features, batchSize: size, parameters: wb.baseAddress!)
      }
    }
  }
}
