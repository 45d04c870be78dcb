/// Each sample's entries that differ from one background value, listed once for many epochs:
/// the padded, standardised digits of MNIST have about 150 of their 1,024 values off the
/// background. An epoch of plain SGD whose first layer is ``Linear`` reads a batch's entries
/// from here instead of scanning the gathered batch (``Trainer/trainEpoch(_:on:using:progress:)``).
///
/// The background c is the first value of the first sample (0 when that is not finite); values
/// are compared bit for bit, so NaN, ±∞ and −0 against 0 are entries. Immutable once built.
public final class SparseRows: Sendable {
  /// Build only when at most this share of all values is off the background; denser data is
  /// faster through the dense products (the share ``Linear``'s sparse epoch engages at).
  public static let maximumDensity = 0.3

  /// c.
  public let background: Float
  /// The number of values of one sample.
  public let sampleSize: Int
  /// Sample s's entries are `starts[s]..<starts[s + 1]` of `inputs` and `values`.
  let starts: [Int]
  /// The input index of each entry.
  let inputs: [Int32]
  /// x − c of each entry.
  let values: [Float]
  /// Σ (x − c) over each sample's entries.
  let sums: [Float]

  /// The entries of `features` (samples of `sampleSize` values, sample-major) off their
  /// background, or nil when more than `maximumDensity` of the values are off it.
  public init?(features: [Float], sampleSize: Int, maximumDensity: Double = SparseRows.maximumDensity) {
    precondition(sampleSize > 0 && features.count % sampleSize == 0, "whole samples only")
    let count = features.count / sampleSize
    let first = features.first ?? 0
    let c: Float = first.isFinite ? first : 0
    let backgroundBits = c.bitPattern
    let limit = Int(maximumDensity * Double(features.count))
    var starts = [Int]()
    starts.reserveCapacity(count + 1)
    starts.append(0)
    var inputs = [Int32]()
    var values = [Float]()
    var sums = [Float]()
    sums.reserveCapacity(count)
    var tooDense = false
    features.withUnsafeBufferPointer { x in
      for s in 0..<count {
        let row = x.baseAddress! + s * sampleSize
        let start = values.count
        for i in 0..<sampleSize where row[i].bitPattern != backgroundBits {
          inputs.append(Int32(truncatingIfNeeded: i))
          values.append(row[i] - c)
        }
        starts.append(inputs.count)
        // Summed like the batch scan of `SparseInputEpoch`, so both give the same bits.
        let added = values.count - start
        sums.append(
          added == 0 ? 0 : values.withUnsafeBufferPointer { laneSum($0.baseAddress! + start, count: added) })
        if inputs.count > limit {
          tooDense = true
          return
        }
      }
    }
    guard !tooDense else { return nil }
    self.background = c
    self.sampleSize = sampleSize
    self.starts = starts
    self.inputs = inputs
    self.values = values
    self.sums = sums
  }

  /// The number of samples.
  public var count: Int { starts.count - 1 }

  /// The number of entries over all samples.
  public var entryCount: Int { inputs.count }

  /// Sample `s`'s entries: their input indices (ascending), x − c, and Σ (x − c).
  public func entries(ofSample s: Int) -> (inputs: ArraySlice<Int32>, values: ArraySlice<Float>, sum: Float) {
    let range = starts[s]..<starts[s + 1]
    return (inputs[range], values[range], sums[s])
  }
}
