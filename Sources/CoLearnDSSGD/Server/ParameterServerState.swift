import CoLearnTensor

/// The parameter server's state (SPEC §6): the global parameters w_global, the per-parameter
/// update counts `stat`, and counters. A value type: the simulation owns one, and the deployed
/// server will keep one behind an actor.
///
/// - Upload of pairs S: for j in S, w_global[j] += Δw_j and stat[j] += 1. An upload is validated
///   completely first and applied fully or not at all.
/// - Decay: stat := β·stat, once per round (the caller decides when a round ends).
/// - Download of θ_d: the values of w_global at the ⌈θ_d·|w|⌉ positions with the largest stat,
///   ties to the lower index; θ_d = 1 is every position.
public struct ParameterServerState: Sendable {
  /// w_global.
  public private(set) var parameters: [Float]
  /// How often each parameter was updated, decayed by β per round.
  public private(set) var stat: [Float]
  /// β, the factor applied to `stat` by ``decayStatistics()`` (paper: 0.8).
  public let statDecay: Float
  /// The number of uploads applied.
  public private(set) var uploadCount = 0
  /// The number of (index, value) pairs applied over all uploads.
  public private(set) var updatedParameterCount = 0

  /// A server holding `parameters` (e.g. a seeded model initialisation) with all stats zero.
  ///
  /// - Precondition: β in (0, 1] (configurations are validated before they get here).
  public init(parameters: [Float], statDecay: Float) {
    precondition(statDecay > 0 && statDecay <= 1, "stat decay β must be in (0, 1], got \(statDecay)")
    self.parameters = parameters
    self.stat = [Float](repeating: 0, count: parameters.count)
    self.statDecay = statDecay
  }

  /// A state restored from a snapshot (``DurableParameterServer``).
  init(
    parameters: [Float], stat: [Float], statDecay: Float, uploadCount: Int,
    updatedParameterCount: Int
  ) {
    precondition(stat.count == parameters.count, "one stat per parameter")
    self.parameters = parameters
    self.stat = stat
    self.statDecay = statDecay
    self.uploadCount = uploadCount
    self.updatedParameterCount = updatedParameterCount
  }

  /// |w|.
  public var dimension: Int { parameters.count }

  /// Adds an upload to w_global and counts it in `stat`, or, if any entry is malformed, changes
  /// nothing and throws.
  ///
  /// - Throws: the first ``SparseVectorProblem`` of `update`.
  /// - Complexity: O(update.count).
  public mutating func apply(_ update: SparseVector) throws(SparseVectorProblem) {
    if let problem = update.validate(dimension: dimension) { throw problem }
    apply(validated: update)
  }

  /// The first entry of `update` after which its parameter would not be finite
  /// (w_global[j] + Δw_j overflows to ±∞), or nil: an upload must never make w_global
  /// non-finite, since every participant would then download ∞. `update` is validated against
  /// this |w|.
  /// - Complexity: O(update.count).
  public func overflow(of update: SparseVector) -> ParameterOverflow? {
    parameters.withUnsafeBufferPointer { w in
      for (position, (index, value)) in zip(update.indices, update.values).enumerated()
      where !(w[Int(index)] + value).isFinite {
        return ParameterOverflow(
          position: position, index: Int(index), parameter: w[Int(index)], value: value)
      }
      return nil
    }
  }

  /// ``apply(_:)`` for an update already validated against this |w|.
  mutating func apply(validated update: SparseVector) {
    parameters.withUnsafeMutableBufferPointer { w in
      stat.withUnsafeMutableBufferPointer { s in
        for (index, value) in zip(update.indices, update.values) {
          let j = Int(index)
          w[j] += value
          s[j] += 1
        }
      }
    }
    uploadCount += 1
    updatedParameterCount += update.count
  }

  /// stat := β·stat (once per round).
  public mutating func decayStatistics() {
    let beta = statDecay
    stat.withUnsafeMutableBufferPointer { s in
      for j in s.indices { s[j] *= beta }
    }
  }

  /// Writes all of w_global into `target` (the download of θ_d = 1 without building a sparse
  /// vector of every index).
  public func copyParameters(into target: UnsafeMutableBufferPointer<Float>) {
    precondition(target.count == dimension, "target has \(target.count) entries, |w| = \(dimension)")
    parameters.withUnsafeBufferPointer { _ = target.update(from: $0) }
  }

  /// The download of fraction θ_d: w_global at the ⌈θ_d·|w|⌉ positions with the largest stat
  /// (ties to the lower index), in increasing index order.
  ///
  /// - Parameters:
  ///   - fraction: θ_d in (0, 1].
  ///   - selector: the selection workspace (reused across calls).
  /// - Complexity: O(|w|).
  public func download(fraction: Double, using selector: inout MagnitudeSelector) -> SparseVector {
    let n = dimension
    let k = fractionCount(fraction, of: n)
    var indices = [Int32](repeating: 0, count: k)
    if k == n {
      for j in 0..<n { indices[j] = Int32(j) }
    } else {
      // stat ≥ 0, so its largest magnitudes are its largest values.
      stat.withUnsafeBufferPointer { s in
        indices.withUnsafeMutableBufferPointer { selector.selectLargest(s, k: k, into: $0.baseAddress!) }
      }
    }
    let values = indices.map { parameters[Int($0)] }
    return SparseVector(indices: indices, values: values)
  }
}

/// An upload refused because adding it would make a global parameter infinite.
public struct ParameterOverflow: Error, Equatable, Sendable, CustomStringConvertible {
  /// The entry of the upload, its index, the parameter's value and the uploaded value.
  public var position: Int
  public var index: Int
  public var parameter: Float
  public var value: Float

  public var description: String {
    "entry \(position): adding \(value) to w_global[\(index)] = \(parameter) would make it "
      + "infinite; nothing was applied (send smaller changes)"
  }
}
