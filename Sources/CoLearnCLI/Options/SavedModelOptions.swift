import ArgumentParser
import CoLearnData
import CoLearnModelIO
import CoLearnNN
import CoLearnTensor
import Foundation

/// `--model-file` and the data a saved model is applied to (`predict`, `evaluate`; issue 18):
/// the data is standardised with the schema saved in the model file, never refitted.
struct SavedModelOptions: ParsableArguments {
  @Option(
    name: .customLong("model-file"),
    help: ArgumentHelp(
      "A saved model (model.safetensors of a train, simulate, participate or serve run).",
      valueName: "file"))
  var modelFile: String

  @Option(
    name: .customLong("data"),
    help: ArgumentHelp(
      "The data: mnist, svhn, csv:FILE, npz:FILE, npy:X.npy,Y.npy or idx:DIR; its test part "
        + "when it has one (mnist, svhn, npz with x_test, idx with t10k files), else all of it.",
      valueName: "spec"))
  var source: String

  @Option(name: .customLong("batch-size"), help: "Samples per forward pass (default: the model's evaluation batch).")
  var batchSize: Int?

  @Option(help: "Threads for the linear algebra (default: all cores).")
  var threads: Int?

  func validate() throws {
    do {
      _ = try DataSource(parsing: source)
    } catch {
      throw ValidationError("invalid --data '\(source)': \(error)")
    }
    try requireAtLeast(1, batchSize, flag: "batch-size")
    try requireAtLeast(1, threads, flag: "threads")
  }

  /// The saved model, and the data standardised with its schema.
  ///
  /// - Parameter labelsOptional: accept a CSV without the label column (`predict`).
  /// - Returns: The model, the samples and whether they carry labels.
  func load(directory: DataDirectory, labelsOptional: Bool) throws -> (
    model: SavedModel, samples: LabeledSamples, labeled: Bool
  ) {
    let model: SavedModel
    do {
      model = try SavedModel(contentsOfFile: modelFile)
    } catch {
      throw CLIError("\(error)")
    }
    BLAS.setThreadCount(threads ?? ProcessInfo.processInfo.activeProcessorCount)
    let dataSource = try DataSource(parsing: source)
    var labeled = true
    if case .csv(let path) = dataSource, let label = model.schema?.labelColumn {
      do {
        labeled = try CSVTable(contentsOfFile: path).columnIndex(label) != nil
      } catch {
        throw CLIError("\(error)")
      }
      if !labeled, !labelsOptional {
        throw CLIError(
          "\(path) has no label column '\(label)': evaluation needs the true classes "
            + "(`colearn predict` works without them)")
      }
    }
    let loaded: LoadedSource
    do {
      loaded = try LoadedSource.load(
        dataSource, schema: model.schema, dataDirectory: directory,
        // With the model's schema a built-in dataset's training files are not needed: only its
        // test set is scored (without one, its statistics come from the training set).
        options: DatasetLoadOptions(
          trainLimit: model.schema != nil && dataSource.isBuiltIn ? 0 : nil,
          labelsOptional: labelsOptional),
        requiresTestSet: false)
    } catch {
      throw CLIError("\(error)")
    }
    let data = loaded.test.count > 0 ? loaded.test : loaded.train
    let shape = data.sampleShape
    guard shape == model.spec.inputShape.dimensions else {
      throw CLIError(
        "\(modelFile) takes input \(model.spec.inputShape) but \(source) has samples of "
          + "\(shape.map(String.init).joined(separator: "×"))")
    }
    return (model, data.labeledSamples, labeled)
  }
}

/// The class probabilities of `model` for every sample, row-major [samples, classes], computed
/// in batches by an ``Evaluator`` on every core in one pass (`onePass`): a first ``Linear``
/// layer finds each batch's entries off the background as it reads them and multiplies only
/// those, instead of listing the whole set first (``Evaluator/prepared(_:)``, which repeated
/// evaluations reuse) or running the dense products; its sums are in the order of a training
/// run's evaluation, so the same batches give the same bits (docs/RESULTS.md has the rates).
/// With `logarithms`, the network's
/// log-probabilities themselves. A last batch of one sample joins the one before it: a
/// batch-normalised model (batch statistics, no running ones) would map a lone sample to zeros.
func predictProbabilities(
  _ model: SavedModel, on samples: LabeledSamples, batchSize: Int?, logarithms: Bool = false
) -> [Float] {
  let evaluator = Evaluator(model.spec)
  let batch = max(1, min(batchSize ?? model.spec.evaluationBatchSize, samples.count))
  var outputs = evaluator.outputs(
    parameters: model.parameters, on: samples, batchSize: batch,
    mergeSingletonRemainder: true, onePass: true)
  if !logarithms {
    for index in outputs.indices { outputs[index] = exp(outputs[index]) }
  }
  return outputs
}
