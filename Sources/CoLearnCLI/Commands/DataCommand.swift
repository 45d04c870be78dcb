import ArgumentParser
import CoLearnData

/// `colearn data`: get the datasets onto this machine and check them (SPEC §3, §11).
///
/// - `colearn data fetch mnist|svhn [--from DIR] [--data-dir DIR]` downloads from the public
///   mirrors, or imports local copies with `--from`, verifying every file before it is written
///   atomically into `<data>/<dataset>/`.
/// - `colearn data verify mnist|svhn [--data-dir DIR]` checks the files in place and prints the
///   sample counts and class histograms.
///
/// Errors are ``DataError`` values whose messages name the file and the remedy; they are
/// printed as is and the command exits with status 1.
public struct DataCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Fetch and verify the MNIST and SVHN datasets.",
    subcommands: [Fetch.self, Verify.self])

  public init() {}

  /// `colearn data fetch`.
  public struct Fetch: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "Download a dataset from its public mirrors, or import local copies.",
      discussion: """
        MNIST files are checked against the SHA-256 of the original uncompressed IDX files; \
        SVHN files must parse and hold the official sample counts. Valid files already in \
        place are kept. On a machine without internet, copy the files from one that has them \
        and import them with --from DIR (raw or .gz MNIST files; SVHN *_32x32.mat files).
        """)

    @Argument(help: "The dataset.")
    public var dataset: DatasetName

    @Option(
      help: ArgumentHelp(
        "Import the files from this directory instead of downloading.",
        valueName: "dir"))
    public var from: String?

    @Flag(help: "Also get optional files (SVHN extra_32x32.mat, 1.3 GB).")
    public var includeExtra = false

    @Flag(help: "Download or import again even if valid files are present.")
    public var force = false

    @Option(help: "Seconds to wait for a mirror to connect or send data.")
    public var timeout: Double = 10

    @OptionGroup public var data: DataOptions

    public init() {}

    public func validate() throws {
      guard timeout > 0 else { throw ValidationError("--timeout must be positive, got \(timeout)") }
    }

    public func run() async throws {
      let directory = data.dataDirectory
      print("data directory: \(directory.explanation)")
      var fetcher = DatasetFetcher(dataset: dataset, timeout: timeout)
      fetcher.force = force
      let results: [DatasetFetcher.Result]
      if let from {
        results = try fetcher.importFiles(
          dataset, from: from, into: directory, includeOptional: includeExtra,
          progress: { print($0) })
      } else {
        results = try await fetcher.fetch(
          dataset, into: directory, includeOptional: includeExtra, progress: { print($0) })
      }
      print(
        "\(dataset.displayName): \(results.count) files ready in "
          + "\(directory.directory(for: dataset))")
    }
  }

  /// `colearn data verify`.
  public struct Verify: ParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "Check a dataset's files and print sample counts and class histograms.")

    @Argument(help: "The dataset.")
    public var dataset: DatasetName

    @OptionGroup public var data: DataOptions

    public init() {}

    public func run() throws {
      let directory = data.dataDirectory
      print("data directory: \(directory.explanation)")
      let report = try DatasetVerification(dataset, in: directory)
      for file in report.files {
        print("\(file.path): \(file.check)")
      }
      print("train: \(report.trainCount) samples, classes \(report.trainHistogram)")
      print("test:  \(report.testCount) samples, classes \(report.testHistogram)")
      print("\(dataset.displayName) OK")
    }
  }
}
