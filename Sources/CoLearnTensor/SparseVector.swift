/// A sparse vector over a flat parameter vector: (index, value) pairs with strictly increasing
/// indices (SPEC §6, §10). Uploads, downloads and the wire format all use it.
///
/// The type itself does not check its contents — data from the network is checked against a
/// dimension with ``validate(dimension:)`` before it is used (SPEC §6: validate completely, then
/// apply).
public struct SparseVector: Sendable, Hashable {
  /// The positions, strictly increasing.
  public var indices: [Int32]
  /// The value at each position.
  public var values: [Float]

  /// Pairs `indices` with `values` (same length).
  public init(indices: [Int32], values: [Float]) {
    precondition(
      indices.count == values.count,
      "\(indices.count) indices but \(values.count) values")
    self.indices = indices
    self.values = values
  }

  /// An empty vector.
  public init() {
    self.init(indices: [], values: [])
  }

  /// The number of pairs.
  public var count: Int { indices.count }

  /// The first problem that makes this vector unusable against a vector of `dimension` entries,
  /// or nil when it is well formed: indices in 0..<dimension and strictly increasing (so no
  /// duplicates), values finite.
  ///
  /// - Complexity: O(count).
  public func validate(dimension: Int) -> SparseVectorProblem? {
    var previous: Int32 = -1
    for (position, index) in indices.enumerated() {
      if index < 0 || Int(index) >= dimension {
        return .indexOutOfRange(position: position, index: Int(index), dimension: dimension)
      }
      if index <= previous {
        return index == previous
          ? .duplicateIndex(position: position, index: Int(index))
          : .unsortedIndex(position: position, index: Int(index), previous: Int(previous))
      }
      previous = index
      if !values[position].isFinite {
        return .nonFiniteValue(position: position, index: Int(index))
      }
    }
    return nil
  }
}

/// Why a ``SparseVector`` cannot be applied to a parameter vector.
public enum SparseVectorProblem: Error, Equatable, Sendable, CustomStringConvertible {
  /// An index outside 0..<dimension.
  case indexOutOfRange(position: Int, index: Int, dimension: Int)
  /// An index equal to the one before it.
  case duplicateIndex(position: Int, index: Int)
  /// An index smaller than the one before it.
  case unsortedIndex(position: Int, index: Int, previous: Int)
  /// A NaN or infinite value.
  case nonFiniteValue(position: Int, index: Int)

  public var description: String {
    switch self {
    case .indexOutOfRange(let position, let index, let dimension):
      return "entry \(position): index \(index) is outside 0..<\(dimension) (|w| = \(dimension))"
    case .duplicateIndex(let position, let index):
      return "entry \(position): index \(index) appears twice; each index may appear once"
    case .unsortedIndex(let position, let index, let previous):
      return "entry \(position): index \(index) follows \(previous); indices must increase"
    case .nonFiniteValue(let position, let index):
      return "entry \(position): the value at index \(index) is NaN or infinite"
    }
  }
}
