import CoLearnTensor

// The im2col lowering of ``Conv2D``: patches copied into rows, and the adjoint that adds rows
// back into images.
extension Conv2D {
  // MARK: - im2col / col2im

  /// Copies every k×k×C patch into one row of `col` [B·P, K]. In channels-last layout a patch
  /// row of k pixels is k·C contiguous values, so each patch is k contiguous copies.
  ///
  /// Strided or padded layers take ``clippedImageToColumns(_:batchSize:into:)`` instead.
  func imageToColumns(
    _ x: UnsafePointer<Float>, batchSize: Int, into col: UnsafeMutablePointer<Float>
  ) {
    guard isDense else { return clippedImageToColumns(x, batchSize: batchSize, into: col) }
    let rowStride = inputWidth * inputChannels
    let run = kernelSize * inputChannels
    let imageSize = inputHeight * rowStride
    let rowColumns = outputWidth * patchSize
    // Split by rows of output positions, not by samples, so that one sample's columns (a
    // batch-1 step, 640 KB for svhn-cnn's second convolution) are built on both cores too.
    parallelChunks(count: batchSize * outputHeight, costPerItem: rowColumns) { _, rows in
      var destination = col + rows.lowerBound * rowColumns
      for row in rows {
        let (b, oh) = row.quotientAndRemainder(dividingBy: outputHeight)
        let image = x + b * imageSize
        for ow in 0..<outputWidth {
          var source = image + oh * rowStride + ow * inputChannels
          for _ in 0..<kernelSize {
            destination.update(from: source, count: run)
            destination += run
            source += rowStride
          }
        }
      }
    }
  }

  /// The adjoint of ``imageToColumns(_:batchSize:into:)``: sums each row of `col` back into the
  /// k×k×C patch it came from.
  ///
  /// Strided or padded layers take ``clippedColumnsToImage(_:batchSize:into:)`` instead.
  func columnsToImage(
    _ col: UnsafePointer<Float>, batchSize: Int, into x: UnsafeMutablePointer<Float>
  ) {
    guard isDense else { return clippedColumnsToImage(col, batchSize: batchSize, into: x) }
    let rowStride = inputWidth * inputChannels
    let run = kernelSize * inputChannels
    let imageSize = inputHeight * rowStride
    let sampleColumns = positions * patchSize
    parallelChunks(count: batchSize, costPerItem: sampleColumns) { _, samples in
      (x + samples.lowerBound * imageSize).update(repeating: 0, count: samples.count * imageSize)
      var source = col + samples.lowerBound * sampleColumns
      for b in samples {
        let image = x + b * imageSize
        for oh in 0..<outputHeight {
          for ow in 0..<outputWidth {
            var destination = image + oh * rowStride + ow * inputChannels
            for _ in 0..<kernelSize {
              for i in 0..<run { destination[i] += source[i] }
              source += run
              destination += rowStride
            }
          }
        }
      }
    }
  }

  // MARK: - Strided or padded im2col / col2im

  /// The part of one patch row that lies inside the image, for the output column whose patch
  /// starts at input column `left` (= ow·s − p, negative in the left padding): the kernel
  /// columns `first..<end` are real pixels, those before and after are padding. Empty
  /// (`first >= end`) when the whole row is padding.
  func insideColumns(left: Int) -> (first: Int, end: Int) {
    (max(0, -left), min(kernelSize, inputWidth - left))
  }

  /// ``imageToColumns(_:batchSize:into:)`` for any stride and padding: output position (oh, ow)
  /// reads the patch whose top-left corner is input pixel (oh·s − p, ow·s − p); each of its k
  /// rows is clipped to the image and the padded values are written as zeros.
  func clippedImageToColumns(
    _ x: UnsafePointer<Float>, batchSize: Int, into col: UnsafeMutablePointer<Float>
  ) {
    let channels = inputChannels
    let run = kernelSize * channels
    let imageSize = inputShape.count
    let sampleColumns = positions * patchSize
    parallelChunks(count: batchSize, costPerItem: sampleColumns) { _, samples in
      var destination = col + samples.lowerBound * sampleColumns
      for b in samples {
        let image = x + b * imageSize
        for oh in 0..<outputHeight {
          let top = oh * stride - padding
          for ow in 0..<outputWidth {
            let left = ow * stride - padding
            let (first, end) = insideColumns(left: left)
            for kh in 0..<kernelSize {
              let ih = top + kh
              if ih < 0 || ih >= inputHeight || first >= end {
                destination.update(repeating: 0, count: run)
              } else {
                let lead = first * channels
                let copied = (end - first) * channels
                destination.update(repeating: 0, count: lead)
                (destination + lead).update(
                  from: image + (ih * inputWidth + left + first) * channels, count: copied)
                (destination + lead + copied).update(repeating: 0, count: run - lead - copied)
              }
              destination += run
            }
          }
        }
      }
    }
  }

  /// The adjoint of ``clippedImageToColumns(_:batchSize:into:)``: sums the in-image part of each
  /// row of `col` back into its patch and drops the padded part.
  func clippedColumnsToImage(
    _ col: UnsafePointer<Float>, batchSize: Int, into x: UnsafeMutablePointer<Float>
  ) {
    let channels = inputChannels
    let run = kernelSize * channels
    let imageSize = inputShape.count
    let sampleColumns = positions * patchSize
    parallelChunks(count: batchSize, costPerItem: sampleColumns) { _, samples in
      (x + samples.lowerBound * imageSize).update(repeating: 0, count: samples.count * imageSize)
      var source = col + samples.lowerBound * sampleColumns
      for b in samples {
        let image = x + b * imageSize
        for oh in 0..<outputHeight {
          let top = oh * stride - padding
          for ow in 0..<outputWidth {
            let left = ow * stride - padding
            let (first, end) = insideColumns(left: left)
            for kh in 0..<kernelSize {
              let ih = top + kh
              if ih >= 0 && ih < inputHeight && first < end {
                let from = source + first * channels
                let to = image + (ih * inputWidth + left + first) * channels
                for i in 0..<((end - first) * channels) { to[i] += from[i] }
              }
              source += run
            }
          }
        }
      }
    }
  }
}
