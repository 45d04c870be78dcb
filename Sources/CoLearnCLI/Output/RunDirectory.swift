import CoLearnData
import CoLearnModelIO
import CoLearnNN
import Foundation

/// A run's output directory: the resolved configuration, a per-epoch (or per-round) CSV, and a
/// JSON summary. Files are written whole through a temporary file and a rename, so an
/// interrupted run never leaves a half-written JSON; the CSV is appended and flushed per row so
/// that a crashed run keeps its finished rows.
struct RunDirectory {
  let url: URL
  private let csv: FileHandle

  /// Creates the directory (and parents) and a CSV file `metrics.csv` with `columns`; with
  /// `resume`, an existing `metrics.csv` is kept and appended to — with `keepingRowsThrough`,
  /// only its rows up to that round (first column), those after it being redone.
  /// - Throws: `ValidationError`-style messages naming the path when it cannot be created.
  init(
    path: String, columns: [String], resume: Bool = false, keepingRowsThrough lastRow: Int? = nil
  ) throws {
    url = URL(fileURLWithPath: path)
    let manager = FileManager.default
    do {
      try manager.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot create output directory \(path): \(error.localizedDescription)")
    }
    let csvURL = url.appendingPathComponent("metrics.csv")
    let keep = resume && manager.fileExists(atPath: csvURL.path)
    if keep { try Self.checkHeader(of: csvURL, is: columns) }
    if keep, let lastRow {
      try Self.truncateRows(of: csvURL, through: lastRow)
    }
    guard
      keep
        || manager.createFile(
          atPath: csvURL.path, contents: Data((columns.joined(separator: ",") + "\n").utf8)),
      let handle = try? FileHandle(forWritingTo: csvURL)
    else {
      throw CLIError("cannot write \(csvURL.path): check that the directory is writable")
    }
    handle.seekToEndOfFile()
    csv = handle
  }

  /// Refuses to append to a `metrics.csv` whose header is not `columns` (one written by another
  /// version or command): its rows would be misread.
  private static func checkHeader(of url: URL, is columns: [String]) throws {
    guard let handle = try? FileHandle(forReadingFrom: url) else {
      throw CLIError("cannot read \(url.path) to resume: check its permissions")
    }
    defer { try? handle.close() }
    let head = (try? handle.read(upToCount: 4096)) ?? Data()
    let firstLine = String(decoding: head.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    let expected = columns.joined(separator: ",")
    guard firstLine == expected else {
      throw CLIError(
        "\(url.path) has the columns '\(firstLine.prefix(200))', not this command's "
          + "'\(expected)' (written by another command or colearn version): move it away or "
          + "write to another output directory")
    }
  }

  /// Rewrites `url` with its header and the rows whose first field is at most `lastRow`.
  private static func truncateRows(of url: URL, through lastRow: Int) throws {
    guard let text = try? String(contentsOf: url, encoding: .utf8) else {
      throw CLIError("cannot read \(url.path) to resume: check that it is a colearn metrics file")
    }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: true)
    guard !lines.isEmpty else { return }
    let header = lines.removeFirst()
    let kept = lines.filter { line in
      line.split(separator: ",", maxSplits: 1).first.flatMap { Int($0) }.map { $0 <= lastRow }
        ?? false
    }
    do {
      try Data(([header] + kept).map { $0 + "\n" }.joined().utf8).write(to: url, options: .atomic)
    } catch {
      throw CLIError("cannot rewrite \(url.path) to resume: \(error.localizedDescription)")
    }
  }

  /// Appends one CSV row.
  func append(row: [String]) {
    csv.write(Data((row.joined(separator: ",") + "\n").utf8))
  }

  /// Writes the dataset schema the run standardised its data with to `schema.json`, so that a
  /// trained model can be used on new data (and a deployment can share it).
  func writeSchema(_ schema: DatasetSchema) throws {
    do {
      try schema.write(toPath: url.appendingPathComponent("schema.json").path)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Writes a trained model as `name` (safetensors with the model file and `schema`, issue 18)
  /// atomically: a kill mid-write leaves the previous file or none.
  func writeModel(
    _ spec: ModelSpec, parameters: [Float], schema: DatasetSchema, to name: String,
    source: String
  ) throws {
    let saved = SavedModel(
      spec: spec, schema: schema, parameters: parameters, information: ["source": source])
    do {
      try saved.write(toPath: url.appendingPathComponent(name).path)
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// Writes `value` as pretty-printed JSON to `name` atomically.
  func writeJSON(_ value: some Encodable, to name: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let target = url.appendingPathComponent(name)
    do {
      try encoder.encode(value).write(to: target, options: .atomic)
    } catch {
      throw CLIError("cannot write \(target.path): \(error.localizedDescription)")
    }
  }

  func close() {
    try? csv.close()
  }
}

/// A user-facing failure of a command: the message says what went wrong and what to do.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) {
    self.description = description
  }
}
