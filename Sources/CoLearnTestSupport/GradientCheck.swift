import CoLearnNN
import CoLearnTensor

/// The outcome of a finite-difference gradient check of one layer.
public struct GradientCheckReport: CustomStringConvertible {
  /// The worst mismatch over all checked input positions, as a multiple of the tolerance
  /// (≤ 1 passes).
  public var worstInputRatio: Double = 0
  /// The worst mismatch over all parameter positions, as a multiple of the tolerance.
  public var worstParameterRatio: Double = 0
  /// Where the worst mismatch was, for the failure message.
  public var worstDetail = "none"
  /// The number of positions compared.
  public var checkedPositions = 0

  /// Whether every analytical derivative agreed with its finite difference.
  public var passed: Bool { worstInputRatio <= 1 && worstParameterRatio <= 1 && checkedPositions > 0 }

  public var description: String {
    "gradient check over \(checkedPositions) positions: worst input ratio \(worstInputRatio), "
      + "worst parameter ratio \(worstParameterRatio) (\(worstDetail))"
  }
}

/// Checks a layer's backward pass against central finite differences of the scalar
/// L = Σ r ⊙ forward(x) for a fixed random r, in double-precision accumulation.
///
/// A position passes when |analytic − numeric| ≤ absoluteTolerance + relativeTolerance ·
/// max(|analytic|, |numeric|).
///
/// - Parameters:
///   - layer: the layer under test.
///   - batchSize: the batch to run (batches > 1 check that samples do not mix, or do, as the
///     layer intends).
///   - input: the input batch; random N(0,1)-like values when `nil`.
///   - seed: seeds the input, the parameters and r.
///   - step: the finite-difference step h.
public func checkGradients(
  of layer: any Layer, batchSize: Int, input: [Float]? = nil, seed: UInt64 = 1,
  step: Float = 1e-2, absoluteTolerance: Double = 2e-3, relativeTolerance: Double = 2e-2
) -> GradientCheckReport {
  var generator = SeededGenerator(seed: seed)
  let inCount = batchSize * layer.inputShape.count
  let outCount = batchSize * layer.outputShape.count
  var x = input ?? (0..<inCount).map { _ in Float.random(in: -1...1, using: &generator) }
  precondition(x.count == inCount, "input has \(x.count) values, expected \(inCount)")
  var w = [Float](repeating: 0, count: max(layer.parameterCount, 1))
  if layer.parameterCount > 0 {
    w.withUnsafeMutableBufferPointer { buffer in
      layer.initialize(
        UnsafeMutableBufferPointer(rebasing: buffer[0..<layer.parameterCount]),
        using: &generator)
      // Larger than the default scale so that every weight matters.
      for i in 0..<layer.parameterCount { buffer[i] *= 3 }
    }
  }
  let r = (0..<outCount).map { _ in Float.random(in: -1...1, using: &generator) }
  layer.reserve(batchSize: batchSize)

  var y = [Float](repeating: 0, count: outCount)
  func loss() -> Double {
    x.withUnsafeBufferPointer { xp in
      w.withUnsafeBufferPointer { wp in
        y.withUnsafeMutableBufferPointer { yp in
          layer.forward(
            xp.baseAddress!, into: yp.baseAddress!, batchSize: batchSize,
            parameters: wp.baseAddress!)
        }
      }
    }
    var total = 0.0
    for i in 0..<outCount { total += Double(r[i]) * Double(y[i]) }
    return total
  }

  // Analytic gradients.
  _ = loss()
  var dx = [Float](repeating: .nan, count: inCount)
  var dw = [Float](repeating: .nan, count: max(layer.parameterCount, 1))
  x.withUnsafeBufferPointer { xp in
    w.withUnsafeBufferPointer { wp in
      y.withUnsafeBufferPointer { yp in
        r.withUnsafeBufferPointer { rp in
          dx.withUnsafeMutableBufferPointer { dxp in
            dw.withUnsafeMutableBufferPointer { dwp in
              layer.backward(
                input: xp.baseAddress!, output: yp.baseAddress!, outputGradient: rp.baseAddress!,
                inputGradient: dxp.baseAddress!, batchSize: batchSize,
                parameters: wp.baseAddress!, parameterGradients: dwp.baseAddress!)
            }
          }
        }
      }
    }
  }

  var report = GradientCheckReport()
  func compare(_ analytic: Float, _ numeric: Double, _ what: String) -> Double {
    let a = Double(analytic)
    let tolerance = absoluteTolerance + relativeTolerance * max(abs(a), abs(numeric))
    report.checkedPositions += 1
    let ratio = a.isFinite ? abs(a - numeric) / tolerance : .infinity
    if ratio > max(report.worstInputRatio, report.worstParameterRatio) {
      report.worstDetail = "\(what): analytic \(a), numeric \(numeric)"
    }
    return ratio
  }
  for i in 0..<inCount {
    let saved = x[i]
    x[i] = saved + step
    let plus = loss()
    x[i] = saved - step
    let minus = loss()
    x[i] = saved
    let numeric = (plus - minus) / (2 * Double(step))
    report.worstInputRatio = max(report.worstInputRatio, compare(dx[i], numeric, "input[\(i)]"))
  }
  for i in 0..<layer.parameterCount {
    let saved = w[i]
    w[i] = saved + step
    let plus = loss()
    w[i] = saved - step
    let minus = loss()
    w[i] = saved
    let numeric = (plus - minus) / (2 * Double(step))
    report.worstParameterRatio = max(
      report.worstParameterRatio, compare(dw[i], numeric, "parameter[\(i)]"))
  }
  return report
}
