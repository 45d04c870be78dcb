/// Everything that can go wrong while finding, reading, decoding, fetching or verifying a dataset.
///
/// Every case carries the file (or URL) concerned, and ``description`` says what was wrong and
/// what to do about it (STYLE §10). The command-line interface prints the description as is.
public enum DataError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A dataset file does not exist. `dataset` (when known) lets the message suggest the right
  /// `colearn data fetch` command.
  case missingFile(path: String, dataset: DatasetName?)

  /// A file exists but could not be read or written (permissions, a directory in the way, a
  /// full disk). `reason` is the operating system's message.
  case ioFailure(path: String, reason: String)

  /// A file (or the content of a compressed file) is shorter than its header announces.
  case truncatedFile(path: String, expectedBytes: Int, actualBytes: Int)

  /// The first bytes of a file are not the magic number of the expected format.
  case badMagic(path: String, expected: String, found: String)

  /// The file is well formed but holds an element type this reader does not decode (for example
  /// an IDX file of 32-bit integers where unsigned bytes are expected).
  case unsupportedElementType(path: String, found: String, supported: String)

  /// The file's dimensions are not the ones the dataset needs (for example 3-dimensional IDX
  /// images that are not 28 × 28).
  case unexpectedShape(path: String, expected: String, found: [Int])

  /// The image file and the label file disagree on the number of samples.
  case countMismatch(imagesPath: String, imageCount: Int, labelsPath: String, labelCount: Int)

  /// A label is outside the dataset's class range.
  case labelOutOfRange(path: String, index: Int, label: Int, classCount: Int)

  /// Bytes that follow the announced payload, or another structural error that is not covered
  /// by a more specific case.
  case malformedFile(path: String, reason: String)

  /// A gzip or zlib stream is corrupt or ends before its end marker.
  case corruptCompressedData(path: String, reason: String)

  /// A MATLAB v5 `.mat` file could not be parsed; `reason` names the element that failed.
  case malformedMATFile(path: String, reason: String)

  /// A MATLAB file does not contain a variable the dataset needs.
  case missingVariable(path: String, name: String)

  /// The SHA-256 of a file's (uncompressed) content is not the published one.
  case checksumMismatch(path: String, expected: String, actual: String)

  /// None of the download mirrors could be reached; `attempts` lists each URL with its failure.
  case mirrorsUnreachable(dataset: DatasetName, attempts: [String])

  /// A mirror answered but the download failed (HTTP status, short body, write error).
  case downloadFailed(url: String, reason: String)

  /// Arrays handed to ``Dataset/init(name:sampleShape:features:labels:classCount:)`` (or a load
  /// request) do not fit together.
  case invalidDataset(name: String, reason: String)

  // MARK: - Bring-your-own data (DataSource, CSV, NumPy, schema)

  /// A `--data` / `--test-data` spelling that is not one of the accepted forms, or a load
  /// request whose options contradict each other (`reason` names the options).
  case invalidDataSource(spelling: String, reason: String)

  /// A CSV file that cannot be read as a table: no header, no data rows, an unterminated quoted
  /// field, a duplicate or empty column name, or an unknown label column. `line` is 1-based
  /// (the header is line 1); 0 when the problem is not on one line.
  case malformedCSV(path: String, line: Int, reason: String)

  /// A CSV data row with more or fewer cells than the header has columns.
  case raggedRow(path: String, line: Int, expected: Int, found: Int)

  /// An empty cell (or a NaN in a numeric column) where a value is needed.
  case missingValue(path: String, line: Int, column: String)

  /// A cell of a numeric column that is not a finite number (text, or ±infinity).
  case unparseableCell(path: String, line: Int, column: String, value: String)

  /// A NumPy array whose header is malformed or that this reader does not decode (Fortran
  /// order, big-endian, an unsupported dtype, a shape that is not samples × …).
  case unsupportedArray(path: String, array: String, reason: String)

  /// A NumPy array (or a ZIP entry) whose data is shorter than its header announces.
  case truncatedArray(path: String, array: String, expectedBytes: Int, actualBytes: Int)

  /// An `.npz` archive without an array the loader needs; `available` lists what it has.
  case missingArray(path: String, array: String, available: [String])

  /// A ZIP (`.npz`) archive whose directory or entries cannot be read.
  case malformedArchive(path: String, reason: String)

  /// Data that does not match the dataset schema in force (a missing or extra column, an
  /// unknown category or label, another sample shape). `path` is the data file; `reason`
  /// names it and the difference.
  case schemaMismatch(path: String, reason: String)

  /// A schema file that cannot be decoded or is of an unknown format version.
  case invalidSchema(path: String, reason: String)

  public var description: String {
    switch self {
    case .missingFile(let path, let dataset):
      let fetch = dataset.map { ", or run `colearn data fetch \($0.rawValue)`" } ?? ""
      return "\(path) not found; pass --data-dir, set COLEARN_DATA_DIR\(fetch)"
    case .ioFailure(let path, let reason):
      return "\(path): \(reason); check that the path is a readable file and the disk has space"
    case .truncatedFile(let path, let expected, let actual):
      return "\(path) is truncated: expected \(expected) bytes, got \(actual); "
        + "the download was probably interrupted, fetch the file again"
    case .badMagic(let path, let expected, let found):
      return "\(path) is not a \(expected) file (its first bytes are \(found)); "
        + "check that the right file sits under this name"
    case .unsupportedElementType(let path, let found, let supported):
      return "\(path) holds \(found) elements, but only \(supported) are supported"
    case .unexpectedShape(let path, let expected, let found):
      let dims = found.map(String.init).joined(separator: " × ")
      return "\(path) has dimensions \(dims), expected \(expected)"
    case .countMismatch(let imagesPath, let imageCount, let labelsPath, let labelCount):
      return
        "\(imagesPath) holds \(imageCount) images but \(labelsPath) holds \(labelCount) labels; "
        + "the two files come from different datasets or splits"
    case .labelOutOfRange(let path, let index, let label, let classCount):
      return "\(path): label \(label) of sample \(index) is outside 0..<\(classCount)"
    case .malformedFile(let path, let reason):
      return "\(path) is malformed: \(reason)"
    case .corruptCompressedData(let path, let reason):
      return "\(path) is corrupt (\(reason)); delete it and fetch it again"
    case .malformedMATFile(let path, let reason):
      return "\(path) is not a readable MATLAB v5 file: \(reason); "
        + "download the official cropped-digits file again"
    case .missingVariable(let path, let name):
      return "\(path) has no variable '\(name)'; is this an SVHN cropped-digits (*_32x32.mat) file?"
    case .checksumMismatch(let path, let expected, let actual):
      return "\(path): SHA-256 of the content is \(actual), expected \(expected); "
        + "the file is damaged or is not the original, delete it and fetch it again"
    case .mirrorsUnreachable(let dataset, let attempts):
      let name = dataset.displayName
      let files = dataset == .mnist ? "the four files" : "the files"
      return "could not reach any \(name) mirror (\(attempts.joined(separator: "; "))): "
        + "this machine looks offline. Copy \(files) from a machine that has them and run "
        + "`colearn data fetch \(dataset.rawValue) --from DIR`"
    case .downloadFailed(let url, let reason):
      return "downloading \(url) failed: \(reason); try again, or fetch with --from DIR"
    case .invalidDataset(let name, let reason):
      return "dataset '\(name)': \(reason)"
    case .invalidDataSource(let spelling, let reason):
      return "invalid data source '\(spelling)': \(reason)"
    case .malformedCSV(let path, let line, let reason):
      let place = line > 0 ? "\(path), line \(line)" : path
      return "\(place): \(reason)"
    case .raggedRow(let path, let line, let expected, let found):
      return "\(path), line \(line): \(found) cells but the header has \(expected) columns; "
        + "quote cells that contain commas (\"a,b\") and give every row one cell per column"
    case .missingValue(let path, let line, let column):
      return "\(path), line \(line), column '\(column)': missing value; fill it in, drop the "
        + "row, or pass --impute mean to use the training mean of a numeric column"
    case .unparseableCell(let path, let line, let column, let value):
      return "\(path), line \(line), column '\(column)': '\(value)' is not a finite number, "
        + "but other cells of this numeric column are numbers; fix the cell (a column is "
        + "categorical only when none of its cells is a number)"
    case .unsupportedArray(let path, let array, let reason):
      return "\(path), array '\(array)': \(reason)"
    case .truncatedArray(let path, let array, let expected, let actual):
      return "\(path), array '\(array)' is truncated: its header announces \(expected) bytes "
        + "of data, the file holds \(actual); write the array again (np.save / np.savez)"
    case .missingArray(let path, let array, let available):
      let list = available.isEmpty ? "no arrays" : available.joined(separator: ", ")
      return "\(path) has no array '\(array)' (it holds \(list)); save the samples as "
        + "x_train/y_train (optionally x_test/y_test) or x/y, e.g. np.savez(path, x=X, y=Y)"
    case .malformedArchive(let path, let reason):
      return "\(path) is not a readable .npz (ZIP) archive: \(reason); write it again with "
        + "np.savez or np.savez_compressed"
    case .schemaMismatch(_, let reason):
      return "\(reason); the data must match the federation's dataset schema (its columns, "
        + "categories, classes and sample shape)"
    case .invalidSchema(let path, let reason):
      return "\(path) is not a usable dataset schema: \(reason); write it again with "
        + "`colearn data describe --out`"
    }
  }
}
