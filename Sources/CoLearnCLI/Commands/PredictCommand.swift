import ArgumentParser
import CoLearnData
import CoLearnModelIO
import CoLearnTensor
import Foundation

/// `colearn predict`: a saved model's predicted class and class probabilities for every sample
/// of some data (issue 18).
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict the class of every sample with a saved model.",
    discussion: """
      Reads --model-file (the model file, its parameters and the dataset schema it was \
      trained with), standardises --data with that schema and writes a CSV with one row per \
      sample: its number (1-based, in the data's order), the predicted class, each class's \
      probability (columns p_CLASS; with --log-probabilities the natural logarithms, columns \
      logp_CLASS, as the exported ONNX model's 'log_probabilities') and, when the data has \
      labels, the true class. A CSV without its label column is accepted. The samples are \
      fed in batches of --batch-size in the data's order (a lone last sample joins the batch \
      before it); only batch-normalised models depend on the batching.
      """)

  @OptionGroup var model: SavedModelOptions
  @OptionGroup var data: DataOptions

  @Option(help: "The predictions CSV to write.")
  var out: String = "predictions.csv"

  @Flag(help: "Write log-probabilities (logp_CLASS, 9 significant digits) instead of probabilities.")
  var logProbabilities = false

  func run() throws {
    let start = monotonicSeconds()
    let (saved, samples, labeled) = try model.load(
      directory: data.dataDirectory, labelsOptional: true)
    let forwardStart = monotonicSeconds()
    let probabilities = predictProbabilities(
      saved, on: samples, batchSize: model.batchSize, logarithms: logProbabilities)
    let forwardSeconds = monotonicSeconds() - forwardStart
    let names = saved.classNames
    let classes = names.count
    let prefix = logProbabilities ? "logp_" : "p_"
    let digits = logProbabilities ? 9 : 6
    let header = (["row", "predicted"] + names.map { csvField(prefix + $0) } + (labeled ? ["label"] : []))
      .joined(separator: ",") + "\n"
    var text = Array(header.utf8)
    text.reserveCapacity(header.utf8.count + samples.count * (24 + 14 * classes))
    let quotedNames = names.map { Array(csvField($0).utf8) }
    var correct = 0
    for row in 0..<samples.count {
      let p = probabilities[(row * classes)..<((row + 1) * classes)]
      let predicted = p.indices.max { p[$0] < p[$1] }! - row * classes
      SignificantDigits.appendInteger(row + 1, to: &text)
      text.append(UInt8(ascii: ","))
      text.append(contentsOf: quotedNames[predicted])
      for value in p {
        text.append(UInt8(ascii: ","))
        SignificantDigits.append(Double(value), digits: digits, to: &text)
      }
      if labeled {
        let label = Int(samples.labels[row])
        text.append(UInt8(ascii: ","))
        text.append(contentsOf: quotedNames[label])
        if label == predicted { correct += 1 }
      }
      text.append(UInt8(ascii: "\n"))
    }
    do {
      try FileIO.writeAtomically(text, toPath: out)
    } catch {
      throw CLIError("\(error)")
    }
    let accuracy = labeled
      ? ", accuracy \(format(100 * Double(correct) / Double(max(samples.count, 1)), 2))%" : ""
    print(
      "colearn predict: \(samples.count) samples with \(saved.spec.name) → \(out)\(accuracy) "
        + "(\(format(monotonicSeconds() - start, 2)) s; the forward passes "
        + "\(format(forwardSeconds, 2)) s, \(format(Double(samples.count) / max(forwardSeconds, 1e-9), 0)) "
        + "samples/s)")
  }
}
