/// A decoded IDX file (LeCun's format for MNIST and its relatives: Fashion-MNIST, KMNIST, EMNIST).
///
/// Layout (big-endian): two zero bytes, an element-type code (`0x08` unsigned byte, `0x09`
/// signed byte, `0x0B` int16, `0x0C` int32, `0x0D` float32, `0x0E` float64), the number of
/// dimensions, one `UInt32` per dimension, then the elements in row-major order. Files may be
/// gzip-compressed (detected by the magic `1f 8b`, not by the name). Only unsigned bytes are
/// decoded, which is what every image and label file of this family uses.
///
/// The payload stays in the buffer it was read or inflated into (no copy); ``payload`` exposes
/// it without the header.
public struct IDXFile: Sendable {
  /// The file the bytes came from, for messages.
  public let path: String
  /// The dimensions from the header, outermost first (`[60000, 28, 28]`).
  public let dimensions: [Int]
  /// The uncompressed file content, header included.
  public let contents: [UInt8]
  /// Where the elements start in ``contents``.
  public let payloadOffset: Int

  /// The number of elements, the product of ``dimensions``.
  public var elementCount: Int { dimensions.reduce(1, *) }

  /// The elements, row-major, without the header.
  public var payload: ArraySlice<UInt8> { contents[payloadOffset...] }

  /// Reads and decodes the IDX file at `path`, raw or gzip-compressed.
  ///
  /// - Parameters:
  ///   - path: The file.
  ///   - dataset: Named in the message when the file is missing.
  /// - Throws: ``DataError`` naming the file: missing, unreadable, corrupt gzip, bad magic,
  ///   unsupported element type, truncated (expected vs actual bytes) or trailing bytes.
  /// - Complexity: one read, at most one inflate, O(1) header parsing.
  public init(contentsOfFile path: String, dataset: DatasetName? = nil) throws(DataError) {
    let raw = try FileIO.readFile(atPath: path, dataset: dataset)
    let isGzip = raw.withUnsafeBytes { Inflate.isGzip($0) }
    if isGzip {
      let inflated = raw.withUnsafeBytes { bytes in
        Result { () throws(DataError) -> [UInt8] in
          try Inflate.inflate(bytes, sizeHint: Inflate.gzipSizeHint(bytes), path: path)
        }
      }
      try self.init(contents: inflated.get(), path: path)
    } else {
      try self.init(contents: raw, path: path)
    }
  }

  /// Decodes an uncompressed IDX buffer.
  ///
  /// - Throws: ``DataError/badMagic(path:expected:found:)``,
  ///   ``DataError/unsupportedElementType(path:found:supported:)``,
  ///   ``DataError/truncatedFile(path:expectedBytes:actualBytes:)`` or
  ///   ``DataError/malformedFile(path:reason:)`` for trailing bytes.
  public init(contents: [UInt8], path: String) throws(DataError) {
    guard contents.count >= 4 else {
      throw .truncatedFile(path: path, expectedBytes: 4, actualBytes: contents.count)
    }
    let magic = contents[0..<4].map { hexByte($0) }.joined(separator: " ")
    let typeCode = contents[2]
    let dimensionCount = Int(contents[3])
    guard contents[0] == 0, contents[1] == 0, dimensionCount > 0,
      IDXFile.elementTypeNames[typeCode] != nil
    else {
      throw .badMagic(path: path, expected: "IDX (00 00 <type> <dims>)", found: magic)
    }
    guard typeCode == 0x08 else {
      let name = IDXFile.elementTypeNames[typeCode] ?? "unknown"
      throw .unsupportedElementType(
        path: path, found: "\(name) (type code 0x\(hexByte(typeCode)))",
        supported: "unsigned bytes (0x08)")
    }
    let headerSize = 4 + 4 * dimensionCount
    guard contents.count >= headerSize else {
      throw .truncatedFile(path: path, expectedBytes: headerSize, actualBytes: contents.count)
    }
    var dimensions: [Int] = []
    dimensions.reserveCapacity(dimensionCount)
    var elementCount = 1
    for axis in 0..<dimensionCount {
      let offset = 4 + 4 * axis
      let value =
        Int(contents[offset]) << 24 | Int(contents[offset + 1]) << 16
        | Int(contents[offset + 2]) << 8 | Int(contents[offset + 3])
      dimensions.append(value)
      let (product, overflow) = elementCount.multipliedReportingOverflow(by: value)
      guard !overflow, product <= Int(Int32.max) * 64 else {
        throw .malformedFile(path: path, reason: "dimensions \(dimensions) are implausibly large")
      }
      elementCount = product
    }
    let expected = headerSize + elementCount
    guard contents.count >= expected else {
      throw .truncatedFile(path: path, expectedBytes: expected, actualBytes: contents.count)
    }
    guard contents.count == expected else {
      throw .malformedFile(
        path: path,
        reason: "\(contents.count - expected) unexpected bytes after the \(expected) bytes that "
          + "the header \(dimensions) announces")
    }
    self.path = path
    self.dimensions = dimensions
    self.contents = contents
    self.payloadOffset = headerSize
  }

  /// Human names of the IDX element-type codes, for messages.
  static let elementTypeNames: [UInt8: String] = [
    0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
    0x0D: "float32", 0x0E: "float64",
  ]
}

/// Two lowercase hexadecimal digits.
func hexByte(_ byte: UInt8) -> String {
  let digits = Array("0123456789abcdef")
  return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
}
