import Foundation

/// Where the dataset files live: `--data-dir` if given, else the environment variable
/// `COLEARN_DATA_DIR`, else `./data` (SPEC §11). Each dataset has its own sub-directory
/// (`<data>/mnist/`, `<data>/svhn/`).
public struct DataDirectory: Sendable, Hashable {
  /// Which rule chose the directory, reported by `colearn data verify` and in messages.
  public enum Source: String, Sendable, Hashable {
    /// The `--data-dir` option.
    case option
    /// The `COLEARN_DATA_DIR` environment variable.
    case environment
    /// The default, `./data`.
    case defaultLocation
  }

  /// The environment variable consulted when no option is given.
  public static let environmentVariable = "COLEARN_DATA_DIR"
  /// The directory used when neither the option nor the variable is set.
  public static let defaultPath = "data"

  /// The absolute, standardised path.
  public let path: String
  /// Which rule chose it.
  public let source: Source

  /// A directory given explicitly; a relative `path` is resolved against `currentDirectory`.
  public init(
    path: String, source: Source = .option,
    currentDirectory: String = FileManager.default.currentDirectoryPath
  ) {
    let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
    self.path =
      URL(fileURLWithPath: path, isDirectory: true, relativeTo: base)
      .standardizedFileURL.path
    self.source = source
  }

  /// Resolves the data directory by the order `--data-dir`, `COLEARN_DATA_DIR`, `./data`.
  ///
  /// An empty option or variable counts as unset.
  ///
  /// - Parameters:
  ///   - option: The value of `--data-dir`, if given.
  ///   - environment: The process environment (injected for tests).
  ///   - currentDirectory: The directory relative paths are resolved against.
  /// - Returns: The absolute directory and the rule that chose it.
  public static func resolve(
    option: String?,
    environment: [String: String] = ProcessInfo.processInfo.environment,
    currentDirectory: String = FileManager.default.currentDirectoryPath
  ) -> DataDirectory {
    if let option, !option.isEmpty {
      return DataDirectory(path: option, source: .option, currentDirectory: currentDirectory)
    }
    if let value = environment[environmentVariable], !value.isEmpty {
      return DataDirectory(path: value, source: .environment, currentDirectory: currentDirectory)
    }
    return DataDirectory(
      path: defaultPath, source: .defaultLocation, currentDirectory: currentDirectory)
  }

  /// The sub-directory holding `dataset`'s files (`<data>/mnist`).
  public func directory(for dataset: DatasetName) -> String {
    FileIO.join(path, dataset.rawValue)
  }

  /// A one-line account of the choice, e.g. `/x/data (from COLEARN_DATA_DIR)`.
  public var explanation: String {
    switch source {
    case .option: "\(path) (from --data-dir)"
    case .environment: "\(path) (from \(Self.environmentVariable))"
    case .defaultLocation: "\(path) (default ./\(Self.defaultPath))"
    }
  }
}
