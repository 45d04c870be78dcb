import ArgumentParser
import CoLearnData

/// Where datasets are read from (SPEC §11): `--data-dir`, else `COLEARN_DATA_DIR`, else `./data`.
public struct DataOptions: ParsableArguments {
  @Option(
    name: .customLong("data-dir"),
    help: ArgumentHelp(
      "Data directory holding mnist/ and svhn/ (default: $COLEARN_DATA_DIR, then ./data).",
      valueName: "dir"))
  public var dataDir: String?

  public init() {}

  /// The directory chosen by `--data-dir`, `COLEARN_DATA_DIR` or the default, in that order.
  public var dataDirectory: DataDirectory {
    DataDirectory.resolve(option: dataDir)
  }
}

extension DatasetName: ExpressibleByArgument {}
