import ArgumentParser
import CoLearnData
import CoLearnNN

/// A dataset loaded for a command, with where it came from.
struct LoadedData {
  var name: DatasetName
  var directory: DataDirectory
  var train: Dataset
  var test: Dataset
  var normalization: Normalization
}

extension DataOptions {
  /// Loads and normalises the dataset `spec` is built for from the resolved data directory.
  ///
  /// - Throws: ``CLIError`` with the loader's message (which names the file and the remedy) and
  ///   where the data directory came from.
  func load(for spec: ModelSpec, options: DatasetLoadOptions) throws -> LoadedData {
    let directory = DataDirectory.resolve(option: dataDir)
    guard let name = spec.defaultData.flatMap(DatasetName.init(rawValue:)) else {
      throw CLIError("model \(spec.name) names no dataset of its own: pass --data")
    }
    do {
      let loaded = try loadDataset(name, dataDirectory: directory, options: options)
      return LoadedData(
        name: name, directory: directory, train: loaded.train, test: loaded.test,
        normalization: loaded.normalization)
    } catch {
      throw CLIError("\(error)\n(data directory: \(directory.explanation))")
    }
  }
}

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
