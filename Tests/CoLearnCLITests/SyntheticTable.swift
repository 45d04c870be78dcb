import CoLearnTensor
import Foundation

/// Writes a CSV of `rows` rows to `url`: two columns that decide the class (`a`, `b`), one of
/// noise, a text category (`site`) and, when `label`, the yes/no class (`label`). The table of
/// the bring-your-own-data command tests (`reproduce`, `predict`, `evaluate`).
func writeSyntheticTable(_ url: URL, rows: Int, seed: UInt64, label: Bool = true) throws {
  var generator = SeededGenerator(seed: seed)
  var csv = "a,b,noise,site" + (label ? ",label" : "") + "\n"
  for row in 0..<rows {
    let y = row % 2
    func value(_ center: Double) -> String {
      String(format: "%.3f", center + Double.random(in: -1.2...1.2, using: &generator))
    }
    csv += "\(value(Double(y) * 2)),\(value(-Double(y))),\(value(0)),\(row % 3 == 0 ? "north" : "south")"
    csv += label ? ",\(y == 1 ? "yes" : "no")\n" : "\n"
  }
  try Data(csv.utf8).write(to: url)
}

/// An MLP for ``writeSyntheticTable(_:rows:seed:label:)``'s five encoded features (a, b, noise
/// and site one-hot) and two classes.
let syntheticTableModel = """
  name = "table-mlp"
  input = [5]
  classes = 2
  [[layers]]
  type = "linear"
  outputs = 8
  [[layers]]
  type = "relu"
  [[layers]]
  type = "linear"
  outputs = 2
  """
