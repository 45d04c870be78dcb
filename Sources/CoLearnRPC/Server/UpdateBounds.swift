import CoLearnTensor

/// How far one upload may move the global parameters (colearn.proto, "Bounds on what one upload
/// may change"): every value |Δw_j| ≤ ``maxValue`` and the L2 norm ‖Δw‖₂ ≤ ``maxNorm``. The
/// server refuses an upload beyond either (``violation(of:)``); a participant clips its update
/// to them first (``clip(_:)``), so an honest participant is never refused. nil: no bound.
///
/// The bounds limit what one participant can do in one upload (no ∞, no jump of w_global
/// across the parameter space); they do not stop a participant that stays within them from
/// steering the model (docs/DEPLOYMENT.md).
public struct UpdateBounds: Sendable, Equatable, CustomStringConvertible {
  /// The largest |Δw_j| (`--max-update`).
  public var maxValue: Float?
  /// The largest ‖Δw‖₂, computed in double precision (`--max-update-norm`).
  public var maxNorm: Double?

  public init(maxValue: Float?, maxNorm: Double?) {
    precondition(maxValue.map { $0 > 0 && $0.isFinite } ?? true, "the value bound must be > 0")
    precondition(maxNorm.map { $0 > 0 && $0.isFinite } ?? true, "the norm bound must be > 0")
    self.maxValue = maxValue
    self.maxNorm = maxNorm
  }

  /// No bound (finiteness of w_global is still enforced by the server).
  public static let none = UpdateBounds(maxValue: nil, maxNorm: nil)

  /// The factor between the largest initial |w_j| and the default ``maxValue``.
  public static let defaultValueFactor: Float = 10

  /// The defaults `colearn serve` derives from the model's initial parameters w₀: a value may
  /// move by at most ten times the largest |w₀_j| (the initialisation's scale, e.g. 1/√fan-in),
  /// and one upload at most by ‖w₀‖₂ (the size of the whole initial model). An honest update
  /// of a local epoch is far inside both; see docs/DEPLOYMENT.md.
  public static func defaults(initialParameters w: [Float]) -> UpdateBounds {
    var largest: Float = 0
    var squares: Double = 0
    for value in w where value.isFinite {
      largest = max(largest, abs(value))
      squares += Double(value) * Double(value)
    }
    let norm = squares.squareRoot()
    return UpdateBounds(
      maxValue: largest > 0 ? defaultValueFactor * largest : 1, maxNorm: norm > 0 ? norm : 1)
  }

  /// The bounds a server announced (0: none).
  public init(proto configuration: Colearn_V1_ServerConfiguration) {
    let value = Float(configuration.maxUpdateValue)
    let norm = configuration.maxUpdateNorm
    self.init(
      maxValue: value > 0 && value.isFinite ? value : nil,
      maxNorm: norm > 0 && norm.isFinite ? norm : nil)
  }

  /// ‖values‖₂ in double precision.
  public static func norm(_ values: [Float]) -> Double {
    var squares: Double = 0
    for value in values { squares += Double(value) * Double(value) }
    return squares.squareRoot()
  }

  /// Why `update` is beyond the bounds (a message naming the entry or the norm), or nil.
  public func violation(of update: SparseVector) -> String? {
    if let maxValue {
      for (position, (index, value)) in zip(update.indices, update.values).enumerated()
      where abs(value) > maxValue {
        return "entry \(position): |Δw| = \(abs(value)) at index \(index) is above the server's "
          + "bound of \(maxValue) per value (max_update_value, announced at Join); clip every "
          + "value to [−\(maxValue), \(maxValue)]"
      }
    }
    if let maxNorm {
      let norm = Self.norm(update.values)
      if norm > maxNorm {
        return "the update's L2 norm \(norm) is above the server's bound of \(maxNorm) "
          + "(max_update_norm, announced at Join); scale the update down to it"
      }
    }
    return nil
  }

  /// `update` with every value clipped to ±``maxValue`` and then, if its norm is above
  /// ``maxNorm``, scaled to just below it; and whether anything changed.
  public func clip(_ update: SparseVector) -> (SparseVector, clipped: Bool) {
    var values = update.values
    var clipped = false
    if let maxValue {
      for j in values.indices where abs(values[j]) > maxValue {
        values[j] = values[j] < 0 ? -maxValue : maxValue
        clipped = true
      }
    }
    if let maxNorm {
      let norm = Self.norm(values)
      if norm > maxNorm {
        // A little below the bound: rounding each product to Float may add 2⁻²⁴ relative.
        let scale = maxNorm / norm * (1 - 1e-6)
        for j in values.indices { values[j] = Float(Double(values[j]) * scale) }
        clipped = true
      }
    }
    guard clipped else { return (update, false) }
    return (SparseVector(indices: update.indices, values: values), true)
  }

  public var description: String {
    "max_update_value=\(maxValue.map { "\($0)" } ?? "none") "
      + "max_update_norm=\(maxNorm.map { "\($0)" } ?? "none")"
  }
}
