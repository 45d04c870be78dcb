import CoLearnData

extension Dataset {
  /// The dataset with its 32×32 MNIST images cut back to the original 28×28 (the 2-pixel zero
  /// border colearn's loader adds for the Shokri–Shmatikov models removed). Jiang et al. train
  /// on the 28×28 images; the values (already standardised or not) are copied unchanged.
  ///
  /// - Throws: ``DataError/invalidDataset(name:reason:)`` when the samples are not 32×32×1.
  /// - Complexity: O(count × 784).
  public func croppedToMNISTSide() throws(DataError) -> Dataset {
    let padded = MNIST.paddedSide
    let side = MNIST.imageSide
    let border = MNIST.padding
    guard sampleShape == [padded, padded, 1] else {
      throw .invalidDataset(
        name: name, reason: "split learning expects 32×32×1 MNIST samples, got \(sampleShape)")
    }
    let pixels = side * side
    var cropped = [Float](repeating: 0, count: count * pixels)
    features.withUnsafeBufferPointer { source in
      cropped.withUnsafeMutableBufferPointer { target in
        for sample in 0..<count {
          for row in 0..<side {
            let from = sample * padded * padded + (row + border) * padded + border
            let to = sample * pixels + row * side
            for column in 0..<side { target[to + column] = source[from + column] }
          }
        }
      }
    }
    return try Dataset(
      name: name, sampleShape: [side, side, 1], features: cropped, labels: labels,
      classCount: classCount)
  }
}
