import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Downloads a dataset from its public mirrors, or imports local copies, verifying every file
/// (``DatasetFile/verify(contents:path:)``) before writing it atomically into
/// `<data>/<dataset>/` (SPEC §3). Backs `colearn data fetch`.
///
/// Files already present and valid are kept. Mirrors are tried in order with a short timeout, so
/// an offline machine fails within seconds with ``DataError/mirrorsUnreachable(dataset:attempts:)``,
/// whose message explains how to import copies with `--from DIR` instead.
///
/// Threading: `Sendable`; `progress` is called from whichever task runs the fetch.
public struct DatasetFetcher: Sendable {
  /// What happened to one file.
  public enum Outcome: String, Sendable {
    /// It was already present and valid.
    case alreadyPresent = "already present"
    /// It was downloaded from a mirror.
    case downloaded
    /// It was copied from a local directory.
    case imported
  }

  /// One file's result.
  public struct Result: Sendable {
    /// The file's path in the data directory.
    public let path: String
    /// What happened.
    public let outcome: Outcome
    /// Where it came from (a URL, a local path, or the destination itself).
    public let source: String
  }

  /// The mirror directory URLs, tried in order.
  public var mirrors: [String]
  /// The files to get and how to check them (by default ``DatasetFile/files(of:)``).
  public var files: [DatasetFile]
  /// Seconds to wait for a connection or for data before giving up on a mirror.
  public var timeout: Double
  /// Download or import every file again even if a valid copy is present.
  public var force: Bool

  /// A fetcher for `dataset` with its default mirrors and files.
  public init(dataset: DatasetName, timeout: Double = 10, force: Bool = false) {
    self.mirrors = DatasetFile.mirrors(of: dataset)
    self.files = DatasetFile.files(of: dataset)
    self.timeout = timeout
    self.force = force
  }

  /// Downloads the files of `dataset` that are missing or invalid into the data directory.
  ///
  /// - Parameters:
  ///   - dataset: Which dataset.
  ///   - dataDirectory: Where to write (`<path>/<dataset>/`).
  ///   - includeOptional: Also get files that are not fetched by default (SVHN `extra`).
  ///   - progress: Called with one line per event, for the command line.
  /// - Returns: What happened to each file.
  /// - Throws: ``DataError/mirrorsUnreachable(dataset:attempts:)`` when no mirror answers,
  ///   ``DataError/downloadFailed(url:reason:)`` or a verification error otherwise.
  public func fetch(
    _ dataset: DatasetName, into dataDirectory: DataDirectory, includeOptional: Bool = false,
    progress: @Sendable (String) -> Void = { _ in }
  ) async throws(DataError) -> [Result] {
    let directory = dataDirectory.directory(for: dataset)
    try FileIO.createDirectory(atPath: directory)
    let configuration = URLSessionConfiguration.ephemeral
    configuration.timeoutIntervalForRequest = timeout
    configuration.timeoutIntervalForResource = max(timeout, 3600)
    let session = URLSession(configuration: configuration)
    defer { session.finishTasksAndInvalidate() }

    var results: [Result] = []
    for file in files where file.isDefault || includeOptional {
      if !force, let present = Self.validCopy(of: file, in: directory) {
        progress("\(present): already present and valid")
        results.append(Result(path: present, outcome: .alreadyPresent, source: present))
        continue
      }
      var attempts: [String] = []
      var reachedAny = false
      var saved: Result?
      for mirror in mirrors {
        let address = mirror + file.remoteName
        guard let url = URL(string: address) else { continue }
        progress("downloading \(address)")
        let body: [UInt8]
        do {
          let (data, response) = try await session.data(from: url)
          reachedAny = true
          if let http = response as? HTTPURLResponse, !(200..<300).contains(http.statusCode) {
            attempts.append("\(address): HTTP \(http.statusCode)")
            continue
          }
          body = [UInt8](data)
        } catch {
          attempts.append("\(address): \(Self.describe(error))")
          continue
        }
        let isGzip = body.withUnsafeBytes { Inflate.isGzip($0) }
        let destination = FileIO.join(
          directory,
          isGzip && file.remoteName.hasSuffix(".gz")
            ? file.remoteName : file.name)
        do {
          try file.verify(contents: body, path: address)
        } catch {
          attempts.append("\(address): \(error)")
          continue
        }
        try FileIO.writeAtomically(body, toPath: destination)
        progress("\(destination): verified and saved")
        saved = Result(path: destination, outcome: .downloaded, source: address)
        break
      }
      guard let saved else {
        if !reachedAny { throw .mirrorsUnreachable(dataset: dataset, attempts: attempts) }
        throw .downloadFailed(
          url: mirrors.first.map { $0 + file.remoteName } ?? file.remoteName,
          reason: attempts.joined(separator: "; "))
      }
      results.append(saved)
    }
    return results
  }

  /// Copies the files of `dataset` from a local directory (raw or `.gz`), verifying each, into
  /// the data directory.
  ///
  /// - Parameters:
  ///   - dataset: Which dataset.
  ///   - source: The directory holding the copies.
  ///   - dataDirectory: Where to write (`<path>/<dataset>/`).
  ///   - includeOptional: Also import files that are not fetched by default, when present.
  ///   - progress: Called with one line per file.
  /// - Returns: What happened to each file.
  /// - Throws: ``DataError/missingFile(path:dataset:)`` for a required file that is not in
  ///   `source`, or the verification error of a damaged copy; nothing is written for it.
  public func importFiles(
    _ dataset: DatasetName, from source: String, into dataDirectory: DataDirectory,
    includeOptional: Bool = false, progress: (String) -> Void = { _ in }
  ) throws(DataError) -> [Result] {
    let directory = dataDirectory.directory(for: dataset)
    try FileIO.createDirectory(atPath: directory)
    var results: [Result] = []
    for file in files {
      let sourcePath = FileIO.preferredPath(file.name, in: source)
      if !file.isDefault, !includeOptional || !FileIO.fileExists(atPath: sourcePath) { continue }
      let contents = try FileIO.readFile(atPath: sourcePath, dataset: dataset)
      try file.verify(contents: contents, path: sourcePath)
      let name = String(sourcePath.split(separator: "/").last ?? Substring(file.name))
      let destination = FileIO.join(directory, name)
      if Self.sameFile(sourcePath, destination) {
        progress("\(destination): already in place and valid")
        results.append(Result(path: destination, outcome: .alreadyPresent, source: sourcePath))
        continue
      }
      try FileIO.writeAtomically(contents, toPath: destination)
      progress("\(destination): verified and imported from \(sourcePath)")
      results.append(Result(path: destination, outcome: .imported, source: sourcePath))
    }
    return results
  }

  /// The path of a present, valid copy of `file` in `directory`, if any.
  static func validCopy(of file: DatasetFile, in directory: String) -> String? {
    let path = FileIO.preferredPath(file.name, in: directory)
    guard FileIO.fileExists(atPath: path),
      let contents = try? FileIO.readFile(atPath: path),
      (try? file.verify(contents: contents, path: path)) != nil
    else { return nil }
    return path
  }

  /// Whether two paths name the same file after standardisation.
  static func sameFile(_ first: String, _ second: String) -> Bool {
    URL(fileURLWithPath: first).standardizedFileURL.resolvingSymlinksInPath().path
      == URL(fileURLWithPath: second).standardizedFileURL.resolvingSymlinksInPath().path
  }

  /// A short description of a networking error.
  static func describe(_ error: any Error) -> String {
    if let urlError = error as? URLError {
      return "\(urlError.localizedDescription) (URLError \(urlError.code.rawValue))"
    }
    return "\(error)"
  }
}
