/// A NumPy `.npz` archive: a ZIP file whose entries are `.npy` arrays named `<name>.npy`, written
/// by `np.savez` (entries stored) or `np.savez_compressed` (entries deflated).
///
/// Opening reads the file and its central directory only; ``array(named:)`` extracts and
/// decodes one array.
///
/// Threading: a value type, `Sendable`.
public struct NPZArchive: Sendable {
  /// The archive, for messages.
  public var path: String { archive.path }
  /// The ZIP directory and bytes.
  let archive: ZIPArchive

  /// Reads the archive at `path` and lists its arrays.
  ///
  /// - Throws: ``DataError`` naming the file: missing, unreadable, not a ZIP archive, or a
  ///   damaged directory.
  public init(contentsOfFile path: String) throws(DataError) {
    archive = try ZIPArchive(contentsOfFile: path)
  }

  /// Parses an archive held in memory.
  ///
  /// - Throws: ``DataError`` as ``init(contentsOfFile:)``.
  public init(bytes: [UInt8], path: String) throws(DataError) {
    archive = try ZIPArchive(bytes: bytes, path: path)
  }

  /// The names of the arrays, in archive order, without the `.npy` suffix.
  public var arrayNames: [String] {
    archive.entries.map { Self.arrayName(ofEntry: $0.name) }
  }

  /// Whether the archive holds an array called `name`.
  public func contains(_ name: String) -> Bool { arrayNames.contains(name) }

  /// Extracts and decodes the array called `name`.
  ///
  /// - Throws: ``DataError/missingArray(path:array:available:)`` listing the arrays the archive
  ///   has, or the extraction and decoding errors of ``NPYArray`` (naming the array).
  /// - Complexity: one copy (stored) or one inflate (deflated) of the entry, one CRC-32 pass.
  public func array(named name: String) throws(DataError) -> NPYArray {
    guard let entry = archive.entries.first(where: { Self.arrayName(ofEntry: $0.name) == name })
    else {
      throw .missingArray(path: path, array: name, available: arrayNames)
    }
    let bytes = try archive.contents(of: entry, displayName: name)
    return try NPYArray(contents: bytes, path: path, name: name)
  }

  /// `x_train` for the entry `x_train.npy`.
  static func arrayName(ofEntry entry: String) -> String {
    entry.hasSuffix(".npy") ? String(entry.dropLast(4)) : entry
  }
}
