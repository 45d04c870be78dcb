import ArgumentParser
import CoLearnData
import CoLearnModelIO
import Foundation

/// `colearn evaluate`: a saved model's accuracy, loss, per-class precision and recall and
/// confusion matrix on labelled data (issue 18).
struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Evaluate a saved model on labelled data: accuracy, loss, per-class scores.",
    discussion: """
      Standardises --data with the schema saved in --model-file and prints the accuracy, the \
      mean negative log-likelihood, each class's precision, recall and support, and the \
      confusion matrix (rows: true class, columns: predicted). With --out DIR it also writes \
      evaluation.json and confusion-matrix.svg there.
      """)

  @OptionGroup var model: SavedModelOptions
  @OptionGroup var data: DataOptions

  @Option(help: "Directory for evaluation.json and confusion-matrix.svg.")
  var out: String?

  func run() throws {
    let (saved, samples, _) = try model.load(directory: data.dataDirectory, labelsOptional: false)
    let probabilities = predictProbabilities(saved, on: samples, batchSize: model.batchSize)
    let report = ClassificationReport(
      probabilities: probabilities, labels: samples.labels, classes: saved.classNames)
    print(
      "colearn evaluate: \(saved.spec.name) on \(samples.count) samples of \(model.source)\n"
        + "accuracy \(format(100 * report.accuracy, 2))%, mean loss "
        + "\(format(report.meanLoss, 4))\n")
    print(report.perClassTable())
    print("\nconfusion matrix (rows: true class, columns: predicted)")
    print(report.confusionTable())
    guard let out else { return }
    do {
      try FileManager.default.createDirectory(
        atPath: out, withIntermediateDirectories: true)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try FileIO.writeAtomically(
        Array(try encoder.encode(report)), toPath: out + "/evaluation.json")
      try FileIO.writeAtomically(
        Array(report.confusionSVG().utf8), toPath: out + "/confusion-matrix.svg")
    } catch {
      throw CLIError("cannot write the evaluation into \(out): \(error)")
    }
    print("\nwrote \(out)/evaluation.json and \(out)/confusion-matrix.svg")
  }
}

/// Accuracy, loss, per-class scores and the confusion matrix of predictions against labels.
struct ClassificationReport: Encodable {
  struct ClassScores: Encodable {
    var name: String
    /// Of the samples predicted as this class, the share that are (nil: none predicted).
    var precision: Double?
    /// Of the samples of this class, the share predicted as it (nil: none in the data).
    var recall: Double?
    var support: Int
  }

  var samples: Int
  var accuracy: Double
  /// The mean negative log-likelihood of the true class.
  var meanLoss: Double
  var classes: [ClassScores]
  /// confusion[true][predicted].
  var confusion: [[Int]]

  init(probabilities: [Float], labels: [Int32], classes names: [String]) {
    let k = names.count
    var confusion = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
    var loss = 0.0
    for (row, label) in labels.enumerated() {
      let p = probabilities[(row * k)..<((row + 1) * k)]
      let predicted = p.indices.max { p[$0] < p[$1] }! - row * k
      confusion[Int(label)][predicted] += 1
      loss -= Foundation.log(max(Double(p[row * k + Int(label)]), 1e-45))
    }
    samples = labels.count
    let correct = (0..<k).reduce(0) { $0 + confusion[$1][$1] }
    accuracy = Double(correct) / Double(max(samples, 1))
    meanLoss = loss / Double(max(samples, 1))
    classes = (0..<k).map { c in
      let predicted = (0..<k).reduce(0) { $0 + confusion[$1][c] }
      let actual = confusion[c].reduce(0, +)
      return ClassScores(
        name: names[c],
        precision: predicted > 0 ? Double(confusion[c][c]) / Double(predicted) : nil,
        recall: actual > 0 ? Double(confusion[c][c]) / Double(actual) : nil, support: actual)
    }
    self.confusion = confusion
  }

  func perClassTable() -> String {
    var table = Table(headers: ["class", "precision", "recall", "support"])
    for scores in classes {
      table.add([
        scores.name, scores.precision.map { format($0, 4) } ?? "—",
        scores.recall.map { format($0, 4) } ?? "—", "\(scores.support)",
      ])
    }
    return table.render()
  }

  func confusionTable() -> String {
    var table = Table(headers: ["true \\ predicted"] + classes.map(\.name))
    for (index, row) in confusion.enumerated() {
      table.add([classes[index].name] + row.map(String.init))
    }
    return table.render()
  }

  /// The confusion matrix as an SVG heat map: each cell shaded by its share of its row (the
  /// true class), with its count written in it.
  func confusionSVG() -> String {
    let k = classes.count
    let cell = 36
    let margin = 110
    let size = margin + k * cell + 20
    func escaped(_ text: String) -> String {
      text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
        .replacingOccurrences(of: ">", with: "&gt;")
    }
    var svg = """
      <svg xmlns="http://www.w3.org/2000/svg" width="\(size)" height="\(size)" \
      font-family="sans-serif" font-size="11">
      <text x="\(margin)" y="16">predicted →</text>
      <text x="8" y="\(margin - 8)">true ↓</text>

      """
    for (c, scores) in classes.enumerated() {
      let name = escaped(String(scores.name.prefix(14)))
      svg += "<text x=\"\(margin + c * cell + cell / 2)\" y=\"\(margin - 8)\" "
        + "text-anchor=\"middle\">\(name)</text>\n"
      svg += "<text x=\"\(margin - 6)\" y=\"\(margin + c * cell + cell / 2 + 4)\" "
        + "text-anchor=\"end\">\(name)</text>\n"
    }
    for (r, row) in confusion.enumerated() {
      let total = max(row.reduce(0, +), 1)
      for (c, count) in row.enumerated() {
        let share = Double(count) / Double(total)
        let shade = Int(255 - 200 * share)
        svg += "<rect x=\"\(margin + c * cell)\" y=\"\(margin + r * cell)\" width=\"\(cell)\" "
          + "height=\"\(cell)\" fill=\"rgb(\(shade),\(shade),255)\" stroke=\"#888\"/>\n"
        svg += "<text x=\"\(margin + c * cell + cell / 2)\" y=\"\(margin + r * cell + cell / 2 + 4)\" "
          + "text-anchor=\"middle\">\(count)</text>\n"
      }
    }
    return svg + "</svg>\n"
  }
}
