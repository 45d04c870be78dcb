/// Where a command's samples come from: the `--data` (and `--test-data`) spelling (issue 17).
///
/// | Spelling | Source |
/// |---|---|
/// | `mnist`, `svhn` | the built-in datasets from the data directory, as before (their own test sets) |
/// | `csv:PATH` | a CSV table with a header row; `--label-column NAME` picks the label |
/// | `npz:PATH` | a NumPy archive with `x_train`/`y_train` (+ optional `x_test`/`y_test`), or `x`/`y` |
/// | `npy:X.npy,Y.npy` | two NumPy arrays: the samples, then the labels (comma-separated; the paths may not contain commas) |
/// | `idx:DIR` | an MNIST-layout directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte` (raw or `.gz`), optional `t10k-*` pair |
///
/// Paths are used as given (relative ones against the working directory); only the built-in
/// datasets are looked up in the data directory.
public enum DataSource: Sendable, Hashable, CustomStringConvertible {
  /// MNIST or SVHN from the data directory.
  case builtIn(DatasetName)
  /// A CSV table.
  case csv(path: String)
  /// A NumPy `.npz` archive.
  case npz(path: String)
  /// A `.npy` array of samples and one of labels.
  case npy(features: String, labels: String)
  /// A directory of IDX files in the MNIST layout.
  case idx(directory: String)

  /// The accepted spellings, for messages and help.
  public static let acceptedForms =
    "mnist, svhn, csv:PATH, npz:PATH, npy:X.npy,Y.npy (samples, labels) or idx:DIR"

  /// Parses a `--data` spelling.
  ///
  /// - Throws: ``DataError/invalidDataSource(spelling:reason:)`` listing the accepted forms.
  public init(parsing text: String) throws(DataError) {
    if let name = DatasetName(rawValue: text) {
      self = .builtIn(name)
      return
    }
    guard let colon = text.firstIndex(of: ":") else {
      throw .invalidDataSource(spelling: text, reason: "use one of \(Self.acceptedForms)")
    }
    let scheme = String(text[..<colon])
    let rest = String(text[text.index(after: colon)...])
    guard !rest.isEmpty else {
      throw .invalidDataSource(
        spelling: text, reason: "'\(scheme):' needs a path; use one of \(Self.acceptedForms)")
    }
    switch scheme {
    case "csv": self = .csv(path: rest)
    case "npz": self = .npz(path: rest)
    case "idx": self = .idx(directory: rest)
    case "npy":
      let parts = rest.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw .invalidDataSource(
          spelling: text,
          reason: "npy: needs two files, the samples and the labels: npy:X.npy,Y.npy")
      }
      self = .npy(features: parts[0], labels: parts[1])
    default:
      throw .invalidDataSource(
        spelling: text, reason: "unknown scheme '\(scheme)'; use one of \(Self.acceptedForms)")
    }
  }

  /// The spelling that parses back to this source.
  public var description: String {
    switch self {
    case .builtIn(let name): name.rawValue
    case .csv(let path): "csv:\(path)"
    case .npz(let path): "npz:\(path)"
    case .npy(let features, let labels): "npy:\(features),\(labels)"
    case .idx(let directory): "idx:\(directory)"
    }
  }

  /// Whether this is a preset dataset (`mnist`, `svhn`), whose standardisation is the same
  /// for every participant that has all of it.
  public var isBuiltIn: Bool {
    if case .builtIn = self { true } else { false }
  }

  /// The schema source kind for data from here.
  public var kind: DatasetSchema.SourceKind {
    switch self {
    case .builtIn(.mnist): .mnist
    case .builtIn(.svhn): .svhn
    case .csv: .csv
    case .npz: .npz
    case .npy: .npy
    case .idx: .idx
    }
  }

  /// A short name for datasets and messages: the dataset or file name without extension
  /// (`mnist`, `breast_cancer`).
  public var shortName: String {
    switch self {
    case .builtIn(let name): name.rawValue
    case .csv(let path), .npz(let path), .npy(let path, _), .idx(let path):
      DatasetSchema.baseName(path.hasSuffix("/") ? String(path.dropLast()) : path)
    }
  }
}
