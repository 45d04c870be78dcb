import ArgumentParser
import CoLearnData
import CoLearnNN

extension Dataset {
  /// The samples as the trainer reads them (no copy: the arrays are shared).
  var labeledSamples: LabeledSamples {
    LabeledSamples(features: features, labels: labels, sampleSize: sampleSize)
  }
}

/// Throws a `ValidationError` naming `--flag` when `value` is set and below `minimum`.
func requireAtLeast(_ minimum: Int, _ value: Int?, flag: String) throws {
  if let value, value < minimum {
    throw ValidationError("invalid --\(flag) \(value): expected an integer ≥ \(minimum)")
  }
}
