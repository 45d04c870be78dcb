/// A reader for MATLAB v5/v7 `.mat` files, sufficient for the SVHN cropped-digits files
/// (`train_32x32.mat`, `test_32x32.mat`, `extra_32x32.mat`) and for what `scipy.io.savemat`
/// writes: numeric, real, non-sparse arrays ("MAT-File Format", MathWorks, 2019, chapter 1).
///
/// Layout: a 128-byte header (text starting `MATLAB 5.0 MAT-file`, subsystem offset, version
/// `0x0100`, endian indicator `IM` for little-endian or `MI` for big-endian), then data
/// elements. Each element has an 8-byte tag (type, byte count) or, when its data fits in 4 bytes,
/// the "small data element" form (byte count in the upper and type in the lower 16 bits of one
/// word, data in the next 4 bytes). Elements are padded to 8 bytes, except `miCOMPRESSED`, whose
/// zlib stream holds one `miMATRIX` element. An `miMATRIX` holds sub-elements: array flags
/// (class, complex bit), dimensions (`miINT32`), name (`miINT8`) and the real part in any
/// numeric storage type. Cells, structures, sparse and character arrays are skipped. MATLAB
/// 7.3 files are HDF5 and are rejected with a clear message.
public struct MATFile: Sendable {
  /// The file, for messages.
  public let path: String
  /// The descriptive text of the header, trimmed.
  public let headerText: String
  /// The numeric variables read, in file order.
  public let variables: [MATArray]

  /// The variable called `name`, if it was read.
  public subscript(name: String) -> MATArray? {
    variables.first { $0.name == name }
  }

  /// Reads the file at `path`.
  ///
  /// - Parameters:
  ///   - path: The `.mat` file.
  ///   - names: Read only these variables (all numeric ones when `nil`).
  ///   - lastDimensionLimits: For a variable name, read only this many slices along its last
  ///     dimension (a prefix of samples for SVHN's `X`); a compressed variable is then inflated
  ///     only as far as needed.
  ///   - dataset: Named in the message when the file is missing.
  /// - Throws: ``DataError`` naming the file: missing, truncated, bad header, corrupt zlib
  ///   stream, or ``DataError/malformedMATFile(path:reason:)`` naming the element at fault.
  public init(
    contentsOfFile path: String, names: Set<String>? = nil,
    lastDimensionLimits: [String: Int] = [:], dataset: DatasetName? = nil
  ) throws(DataError) {
    let bytes = try FileIO.readFile(atPath: path, dataset: dataset)
    try self.init(
      contents: bytes, path: path, names: names, lastDimensionLimits: lastDimensionLimits)
  }

  /// Parses the bytes of a `.mat` file; see ``init(contentsOfFile:names:lastDimensionLimits:dataset:)``.
  public init(
    contents bytes: [UInt8], path: String, names: Set<String>? = nil,
    lastDimensionLimits: [String: Int] = [:]
  ) throws(DataError) {
    guard bytes.count >= 128 else {
      throw .truncatedFile(path: path, expectedBytes: 128, actualBytes: bytes.count)
    }
    let text = String(decoding: bytes[0..<116], as: UTF8.self)
    if text.hasPrefix("MATLAB 7.3") {
      throw .malformedMATFile(
        path: path,
        reason: "MATLAB 7.3 (HDF5) files are not supported; "
          + "re-save the variables with save(..., '-v7')")
    }
    guard text.hasPrefix("MATLAB 5.0 MAT-file") else {
      let found = bytes[0..<8].map { hexByte($0) }.joined(separator: " ")
      throw .badMagic(path: path, expected: "MATLAB 5.0 MAT-file", found: found)
    }
    let isBigEndian: Bool
    switch (bytes[126], bytes[127]) {
    case (UInt8(ascii: "I"), UInt8(ascii: "M")): isBigEndian = false
    case (UInt8(ascii: "M"), UInt8(ascii: "I")): isBigEndian = true
    default:
      throw .malformedMATFile(
        path: path,
        reason: "the endian indicator at byte 126 is "
          + "\(hexByte(bytes[126])) \(hexByte(bytes[127])), not 'IM' or 'MI'")
    }
    self.path = path
    self.headerText = text.trimmingTrailing()
    let top = MATElementParser(bytes: bytes, path: path, isBigEndian: isBigEndian)
    var variables: [MATArray] = []
    var offset = 128
    while offset < bytes.count {
      let tag = try top.tag(at: offset, within: bytes.count, context: "top-level element")
      switch tag.type {
      case .compressed:
        guard tag.dataEnd <= bytes.count else {
          throw .truncatedFile(path: path, expectedBytes: tag.dataEnd, actualBytes: bytes.count)
        }
        if let array = try Self.readCompressed(
          bytes: bytes, tag: tag, path: path, isBigEndian: isBigEndian, names: names,
          limits: lastDimensionLimits)
        {
          variables.append(array)
        }
        offset = tag.dataEnd
      case .matrix:
        guard tag.dataEnd <= bytes.count else {
          throw .truncatedFile(path: path, expectedBytes: tag.dataEnd, actualBytes: bytes.count)
        }
        if let header = try top.matrixHeader(at: offset, available: bytes.count),
          names?.contains(header.name) ?? true
        {
          variables.append(
            try top.array(from: header, limit: lastDimensionLimits[header.name], storage: bytes))
        }
        offset = tag.nextOffset
      default:
        offset = tag.nextOffset
      }
    }
    self.variables = variables
  }

  /// Inflates one `miCOMPRESSED` element and reads the array inside, inflating only the header
  /// first so that skipped variables and prefixes cost little.
  private static func readCompressed(
    bytes: [UInt8], tag: MATElementParser.Tag, path: String, isBigEndian: Bool,
    names: Set<String>?, limits: [String: Int]
  ) throws(DataError) -> MATArray? {
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(DataError) -> MATArray? in
        let stream = UnsafeRawBufferPointer(rebasing: raw[tag.dataOffset..<tag.dataEnd])
        let head = try Inflate.inflate(stream, sizeHint: 1024, limit: 1024, path: path)
        let headParser = MATElementParser(bytes: head, path: path, isBigEndian: isBigEndian)
        guard let header = try headParser.matrixHeader(at: 0, available: head.count),
          names?.contains(header.name) ?? true
        else { return nil }
        let limit = limits[header.name]
        let needed = header.dataOffset + header.bytesToLoad(limit: limit)
        let full =
          needed <= head.count
          ? head
          : try Inflate.inflate(stream, sizeHint: needed, limit: needed, path: path)
        guard full.count >= needed else {
          throw .malformedMATFile(
            path: path,
            reason: "variable '\(header.name)' announces "
              + "\(needed) bytes but its compressed element holds \(full.count)")
        }
        let parser = MATElementParser(bytes: full, path: path, isBigEndian: isBigEndian)
        return try parser.array(from: header, limit: limit, storage: full)
      }
    }
    return try result.get()
  }
}

extension String {
  /// The string without trailing spaces and NUL characters (MATLAB pads its header text).
  fileprivate func trimmingTrailing() -> String {
    var result = Substring(self)
    while let last = result.last, last == " " || last == "\0" { result = result.dropLast() }
    return String(result)
  }
}
