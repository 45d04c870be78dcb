/// A decoded NumPy `.npy` array (format versions 1.0, 2.0 and 3.0), as `np.save` writes it and as
/// every entry of an `.npz` archive is stored.
///
/// Layout: the magic `93 'NUMPY'`, the major and minor version bytes, the header length
/// (little-endian `UInt16` in version 1, `UInt32` in versions 2 and 3), the header (a Python
/// dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, ASCII in
/// versions 1 and 2, UTF-8 in 3, padded with spaces and a newline), then the elements in the
/// order the header says.
///
/// Decoded: C order only, little-endian (or byte-sized) elements of the types in
/// ``ElementType``. Fortran order, big-endian elements, structured or object dtypes get a
/// ``DataError/unsupportedArray(path:array:reason:)`` that says how to convert the array; data
/// shorter than the header announces gets ``DataError/truncatedArray(path:array:expectedBytes:actualBytes:)``.
///
/// Threading: a value type, `Sendable`.
public struct NPYArray: Sendable {
  /// The element types this reader decodes, by their NumPy `descr` spelling.
  public enum ElementType: String, Sendable, CaseIterable {
    /// `float32`.
    case float32 = "<f4"
    /// `float64`.
    case float64 = "<f8"
    /// `uint8`.
    case uint8 = "|u1"
    /// `int8`.
    case int8 = "|i1"
    /// `int32`.
    case int32 = "<i4"
    /// `int64`.
    case int64 = "<i8"
    /// `bool` (one byte, 0 or 1).
    case bool = "|b1"

    /// Bytes per element.
    public var byteCount: Int {
      switch self {
      case .uint8, .int8, .bool: 1
      case .float32, .int32: 4
      case .float64, .int64: 8
      }
    }

    /// Whether the elements are floating-point numbers.
    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }

    /// The type for a `descr` string; `<u1`/`<i1`/`<b1` (the byte order of a byte is moot) are
    /// accepted as their `|` spellings.
    init?(descr: String) {
      if let type = ElementType(rawValue: descr) {
        self = type
      } else if descr.count == 3, descr.first == "<" || descr.first == "=",
        let type = ElementType(rawValue: "|" + descr.dropFirst())
      {
        self = type
      } else {
        return nil
      }
    }
  }

  /// The file (or the `.npz` archive) the array came from, for messages.
  public let path: String
  /// The array's name: the archive entry without `.npy`, or the file name.
  public let name: String
  /// The element type.
  public let elementType: ElementType
  /// The dimensions, outermost first (`[]` for a scalar).
  public let shape: [Int]
  /// The file content; the elements start at ``dataOffset``.
  let contents: [UInt8]
  /// Where the elements start in ``contents``.
  let dataOffset: Int

  /// The number of elements, the product of ``shape``.
  public var elementCount: Int { shape.reduce(1, *) }

  /// The magic number that starts every `.npy` file.
  static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

  /// Reads and decodes the `.npy` file at `path`.
  ///
  /// - Throws: ``DataError`` naming the file: missing, unreadable, bad magic, an unsupported
  ///   header or dtype, or truncated data (expected vs actual bytes).
  public init(contentsOfFile path: String) throws(DataError) {
    let bytes = try FileIO.readFile(atPath: path)
    let fileName = path.split(separator: "/").last.map(String.init) ?? path
    let name = fileName.hasSuffix(".npy") ? String(fileName.dropLast(4)) : fileName
    try self.init(contents: bytes, path: path, name: name)
  }

  /// Decodes the bytes of an `.npy` file.
  ///
  /// - Parameters:
  ///   - contents: The whole file.
  ///   - path: The file or archive, for messages.
  ///   - name: The array's name, for messages.
  /// - Throws: ``DataError/badMagic(path:expected:found:)``,
  ///   ``DataError/unsupportedArray(path:array:reason:)``,
  ///   ``DataError/truncatedArray(path:array:expectedBytes:actualBytes:)``.
  public init(contents: [UInt8], path: String, name: String) throws(DataError) {
    self.path = path
    self.name = name
    guard contents.count >= 10, Array(contents[0..<6]) == Self.magic else {
      let found = contents.prefix(8).map { hexByte($0) }.joined(separator: " ")
      throw .badMagic(
        path: "\(path) (array '\(name)')", expected: "NumPy .npy (93 4e 55 4d 50 59)",
        found: found.isEmpty ? "nothing: the file is empty" : found)
    }
    let major = contents[6]
    let headerLength: Int
    let headerStart: Int
    switch major {
    case 1:
      headerLength = Int(contents[8]) | Int(contents[9]) << 8
      headerStart = 10
    case 2, 3:
      guard contents.count >= 12 else {
        throw .truncatedArray(
          path: path, array: name, expectedBytes: 12, actualBytes: contents.count)
      }
      headerLength =
        Int(contents[8]) | Int(contents[9]) << 8 | Int(contents[10]) << 16
        | Int(contents[11]) << 24
      headerStart = 12
    default:
      throw .unsupportedArray(
        path: path, array: name,
        reason: "format version \(major).\(contents[7]) is not one of 1.0, 2.0, 3.0")
    }
    guard contents.count >= headerStart + headerLength else {
      throw .truncatedArray(
        path: path, array: name, expectedBytes: headerStart + headerLength,
        actualBytes: contents.count)
    }
    let header = String(decoding: contents[headerStart..<headerStart + headerLength], as: UTF8.self)
    let fields = try NPYHeader(parsing: header, path: path, array: name)
    guard let type = ElementType(descr: fields.descr) else {
      let endian = fields.descr.first == ">"
      let supported = ElementType.allCases.map(\.rawValue).joined(separator: " ")
      throw .unsupportedArray(
        path: path, array: name,
        reason: endian
          ? "dtype '\(fields.descr)' is big-endian; save x.astype(x.dtype.newbyteorder('<'))"
          : "dtype '\(fields.descr)' is not supported (use one of \(supported))")
    }
    guard !fields.fortranOrder else {
      throw .unsupportedArray(
        path: path, array: name,
        reason: "the array is stored in Fortran (column-major) order; save "
          + "np.ascontiguousarray(x) instead")
    }
    var count = 1
    for dimension in fields.shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow, product <= Int(Int32.max) * 16 else {
        throw .unsupportedArray(
          path: path, array: name, reason: "shape \(fields.shape) is implausibly large")
      }
      count = product
    }
    let dataOffset = headerStart + headerLength
    let expected = count * type.byteCount
    let actual = contents.count - dataOffset
    guard actual >= expected else {
      throw .truncatedArray(path: path, array: name, expectedBytes: expected, actualBytes: actual)
    }
    guard actual == expected else {
      throw .unsupportedArray(
        path: path, array: name,
        reason: "\(actual - expected) bytes follow the \(expected) bytes of data that shape "
          + "\(fields.shape) announces")
    }
    self.elementType = type
    self.shape = fields.shape
    self.contents = contents
    self.dataOffset = dataOffset
  }

  /// The elements converted to `Float`, in C order (bools as 0 and 1; `int64` and `float64`
  /// rounded to the nearest `Float`).
  ///
  /// - Complexity: O(elementCount).
  public func floatValues() -> [Float] {
    let count = elementCount
    let type = elementType
    return contents.withUnsafeBytes { raw in
      let base = raw.baseAddress.map { UnsafeRawPointer($0) + dataOffset }
      return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        defer { initialized = count }
        guard let base, let out = buffer.baseAddress else { return }
        for index in 0..<count {
          let value: Float
          switch type {
          case .uint8, .bool:
            value = Float(base.load(fromByteOffset: index, as: UInt8.self))
          case .int8:
            value = Float(base.load(fromByteOffset: index, as: Int8.self))
          case .float32:
            value = Float(
              bitPattern: UInt32(
                littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
          case .float64:
            value = Float(
              Double(
                bitPattern: UInt64(
                  littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
          case .int32:
            value = Float(
              Int32(
                littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
          case .int64:
            value = Float(
              Int64(
                littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: Int64.self)))
          }
          (out + index).initialize(to: value)
        }
      }
    }
  }

  /// The elements as integers, for labels: integer and bool arrays as they are, floating-point
  /// arrays only when every element is a whole number.
  ///
  /// - Throws: ``DataError/unsupportedArray(path:array:reason:)`` naming the first element that
  ///   is not a whole number.
  /// - Complexity: O(elementCount).
  public func integerValues() throws(DataError) -> [Int64] {
    let count = elementCount
    var values = [Int64](repeating: 0, count: count)
    var bad: (index: Int, value: Double)?
    contents.withUnsafeBytes { raw in
      guard let start = raw.baseAddress else { return }
      let base = UnsafeRawPointer(start) + dataOffset
      for index in 0..<count {
        switch elementType {
        case .uint8, .bool:
          values[index] = Int64(base.load(fromByteOffset: index, as: UInt8.self))
        case .int8:
          values[index] = Int64(base.load(fromByteOffset: index, as: Int8.self))
        case .int32:
          values[index] = Int64(
            Int32(littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: Int32.self)))
        case .int64:
          values[index] = Int64(
            littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: Int64.self))
        case .float32, .float64:
          let value =
            elementType == .float32
            ? Double(
              Float(
                bitPattern: UInt32(
                  littleEndian: base.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))))
            : Double(
              bitPattern: UInt64(
                littleEndian: base.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
          guard let whole = Int64(exactly: value) else {
            if bad == nil { bad = (index, value) }
            continue
          }
          values[index] = whole
        }
      }
    }
    if let bad {
      throw .unsupportedArray(
        path: path, array: name,
        reason: "element \(bad.index) is \(bad.value), not a whole number; labels must be "
          + "integers (class indices)")
    }
    return values
  }
}

/// The three fields of an `.npy` header dict.
struct NPYHeader {
  /// The dtype spelling, e.g. `<f4`.
  var descr: String
  /// Whether the data is column-major.
  var fortranOrder: Bool
  /// The dimensions.
  var shape: [Int]

  /// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
  ///
  /// - Throws: ``DataError/unsupportedArray(path:array:reason:)`` naming the field that is
  ///   missing or malformed.
  init(parsing header: String, path: String, array: String) throws(DataError) {
    func failure(_ reason: String) -> DataError {
      .unsupportedArray(path: path, array: array, reason: "header \(reason): \(header)")
    }
    func value(of key: String) -> Substring? {
      for quote in ["'", "\""] {
        if let range = header.range(of: quote + key + quote) {
          var rest = header[range.upperBound...].drop { $0 == " " }
          guard rest.first == ":" else { return nil }
          rest = rest.dropFirst().drop { $0 == " " }
          return rest
        }
      }
      return nil
    }
    guard let descrText = value(of: "descr") else { throw failure("has no 'descr'") }
    guard let quote = descrText.first, quote == "'" || quote == "\"" else {
      throw failure(
        "'descr' is not a simple dtype (structured arrays are not supported; save one plain "
          + "array per name)")
    }
    let afterQuote = descrText.dropFirst()
    guard let end = afterQuote.firstIndex(of: quote) else { throw failure("'descr' is unterminated") }
    descr = String(afterQuote[..<end])
    guard let orderText = value(of: "fortran_order") else {
      throw failure("has no 'fortran_order'")
    }
    if orderText.hasPrefix("True") {
      fortranOrder = true
    } else if orderText.hasPrefix("False") {
      fortranOrder = false
    } else {
      throw failure("'fortran_order' is neither True nor False")
    }
    guard let shapeText = value(of: "shape"), shapeText.first == "(",
      let close = shapeText.firstIndex(of: ")")
    else { throw failure("has no 'shape' tuple") }
    var dimensions: [Int] = []
    for part in shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",") {
      let trimmed = part.filter { $0 != " " && $0 != "L" }
      if trimmed.isEmpty { continue }
      guard let dimension = Int(trimmed), dimension >= 0 else {
        throw failure("'shape' holds '\(part)', not a dimension")
      }
      dimensions.append(dimension)
    }
    shape = dimensions
  }
}
