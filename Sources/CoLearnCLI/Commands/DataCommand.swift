import ArgumentParser
import CoLearnData
import Foundation

/// `colearn data`: get the datasets onto this machine and check them (SPEC §3, §11).
///
/// - `colearn data fetch mnist|svhn [--from DIR] [--data-dir DIR]` downloads from the public
///   mirrors, or imports local copies with `--from`, verifying every file before it is written
///   atomically into `<data>/<dataset>/`.
/// - `colearn data verify mnist|svhn [--data-dir DIR]` checks the files in place and prints the
///   sample counts and class histograms.
/// - `colearn data describe --data SPEC [--label-column NAME] [--out schema.json]` loads any
///   data source (``DataSource``), prints a summary and writes the fitted ``DatasetSchema``;
///   with `--schema FILE` it checks the data against a shared schema instead.
///
/// Errors are ``DataError`` values whose messages name the file and the remedy; they are
/// printed as is and the command exits with status 1.
public struct DataCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "data",
    abstract: "Fetch and verify MNIST and SVHN; describe any dataset and write its schema.",
    subcommands: [Fetch.self, Verify.self, Describe.self])

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

  /// `colearn data describe`.
  public struct Describe: ParsableCommand {
    public static let configuration = CommandConfiguration(
      abstract: "Summarise a dataset and write its schema (columns, statistics, classes).",
      discussion: """
        SPEC is one of: \(DataSource.acceptedForms). The schema records the sample shape, \
        each CSV column (numeric with its training mean and deviation, or categorical with its \
        sorted categories and one-hot positions), the label column and class list, and for \
        array data the per-channel mean and deviation. Every institution of a federation \
        standardises with the same schema; fitting it on one institution's data reveals \
        aggregate statistics of that data. With --schema FILE the data is checked against a \
        shared schema instead (a mismatch names the column, category, class or shape). \
        With --test-fraction the statistics come from the training part only, as in `train`.
        """)

    @OptionGroup var source: DataSourceOptions

    @Option(help: "Seeds the --test-fraction split.")
    public var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Write the schema as JSON to this file (atomically).", valueName: "file"))
    public var out: String?

    @OptionGroup public var data: DataOptions

    public init() {}

    public func validate() throws {
      guard source.source != nil else {
        throw ValidationError("give the data to describe with --data SPEC (\(DataSource.acceptedForms))")
      }
    }

    public func run() throws {
      let loaded = try source.loadUnchecked(
        directory: data.dataDirectory, seed: seed, requiresTestSet: false)
      for line in Self.summary(of: loaded) { print(line) }
      if let schema = source.schema { print("matches the schema in \(schema)") }
      if let out {
        do {
          try loaded.schema.write(toPath: out)
        } catch {
          throw CLIError("\(error)")
        }
        print("schema written to \(out)")
      }
    }

    /// The human summary: source, sample counts, shape, features, classes with counts and the
    /// schema fingerprint.
    static func summary(of loaded: LoadedSource) -> [String] {
      let schema = loaded.schema
      var lines = [
        "source: \(loaded.source) (\(schema.sourceKind.rawValue))",
        "samples: \(loaded.train.count) training, \(loaded.test.count) test",
        "input shape: \(schema.inputShape)",
      ]
      if schema.sourceKind.isTabular {
        let categorical = schema.features.filter { $0.kind == .categorical }
        lines.append(
          "features: \(schema.features.count) columns → \(schema.sampleSize) values "
            + "(\(schema.features.count - categorical.count) numeric, \(categorical.count) "
            + "categorical)")
        for column in categorical {
          let categories = column.categories ?? []
          lines.append(
            "  \(column.name): \(categories.count) categories (\(categories.prefix(8).joined(separator: ", "))"
              + (categories.count > 8 ? ", …)" : ")"))
        }
        lines.append("label: \(schema.labelColumn ?? "")")
      } else if let normalization = schema.normalization {
        let means = normalization.mean.map { String(format: "%.4g", $0) }.joined(separator: ", ")
        let deviations = normalization.standardDeviation.map { String(format: "%.4g", $0) }
          .joined(separator: ", ")
        lines.append("per-channel mean [\(means)], standard deviation [\(deviations)]")
      }
      let train = loaded.train.classHistogram()
      let test = loaded.test.classHistogram()
      lines.append("classes: \(schema.classes.count)")
      for (index, name) in schema.classes.enumerated() {
        let testPart = loaded.test.count > 0 ? ", \(test[index]) test" : ""
        lines.append("  \(index) \(name): \(train[index]) training\(testPart)")
      }
      lines.append("schema fingerprint: \(schema.fingerprint)")
      return lines
    }
  }
}

extension DatasetSchema.Imputation: ExpressibleByArgument {}
