import ArgumentParser

/// Where datasets are read from (SPEC §11): `--data-dir`, else `COLEARN_DATA_DIR`, else `./data`.
public struct DataOptions: ParsableArguments {
  @Option(
    name: .customLong("data-dir"),
    help: "Data directory holding mnist/ and svhn/ (default: $COLEARN_DATA_DIR, then ./data).")
  public var dataDir: String?

  public init() {}
}
