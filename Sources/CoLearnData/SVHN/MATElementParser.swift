/// Reads the tags and `miMATRIX` sub-elements of a MATLAB v5 buffer with bounds checks, in the
/// file's byte order; the building block of ``MATFile``.
struct MATElementParser {
  /// A data element's tag, resolved to where its data lies.
  struct Tag {
    /// The storage type.
    var type: MATDataType
    /// The number of data bytes.
    var byteCount: Int
    /// Where the data starts.
    var dataOffset: Int
    /// `dataOffset + byteCount`.
    var dataEnd: Int { dataOffset + byteCount }
    /// Where the next element starts (after padding; small elements take 8 bytes in all).
    var nextOffset: Int
  }

  /// What precedes the data of a numeric `miMATRIX`.
  struct MatrixHeader {
    var name: String
    var arrayClass: MATArrayClass
    var isComplex: Bool
    var dimensions: [Int]
    var storageType: MATDataType
    /// Where the real part starts.
    var dataOffset: Int
    /// The real part's byte count as announced.
    var dataByteCount: Int

    var elementWidth: Int { storageType.byteWidth ?? 1 }

    /// The number of elements to load given an optional last-dimension limit.
    func elementsToLoad(limit: Int?) -> Int {
      let total = dimensions.reduce(1, *)
      guard let limit, let last = dimensions.last, last > 0 else { return total }
      return total / last * max(0, min(limit, last))
    }

    /// The number of data bytes to load given an optional last-dimension limit.
    func bytesToLoad(limit: Int?) -> Int { elementsToLoad(limit: limit) * elementWidth }
  }

  let bytes: [UInt8]
  let path: String
  let isBigEndian: Bool

  /// A 32-bit word in the file's byte order.
  func word(at offset: Int) -> UInt32 {
    let value =
      UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
      | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24
    return isBigEndian ? value.byteSwapped : value
  }

  /// The tag at `offset`, which must lie within `limit`; `context` names it in messages.
  func tag(at offset: Int, within limit: Int, context: String) throws(DataError) -> Tag {
    guard offset + 8 <= min(limit, bytes.count) else {
      throw .truncatedFile(
        path: path, expectedBytes: offset + 8, actualBytes: min(limit, bytes.count))
    }
    let first = word(at: offset)
    let small = first >> 16
    let rawType = small != 0 ? first & 0xFFFF : first
    guard let type = MATDataType(rawValue: rawType) else {
      throw .malformedMATFile(
        path: path, reason: "\(context) at byte \(offset) has unknown type code \(rawType)")
    }
    if small != 0 {
      guard small <= 4 else {
        throw .malformedMATFile(
          path: path,
          reason: "\(context) at byte \(offset) is a small "
            + "element of \(small) bytes (at most 4 allowed)")
      }
      return Tag(type: type, byteCount: Int(small), dataOffset: offset + 4, nextOffset: offset + 8)
    }
    let count = Int(word(at: offset + 4))
    let padded = type == .compressed ? count : (count + 7) / 8 * 8
    return Tag(
      type: type, byteCount: count, dataOffset: offset + 8, nextOffset: offset + 8 + padded)
  }

  /// Parses the header of the `miMATRIX` element at `offset`, up to the tag of its real part.
  ///
  /// - Returns: `nil` for empty or non-numeric arrays (cells, structures, characters, sparse).
  func matrixHeader(at offset: Int, available: Int) throws(DataError) -> MatrixHeader? {
    let matrix = try tag(at: offset, within: available, context: "array")
    guard matrix.type == .matrix else {
      throw .malformedMATFile(
        path: path,
        reason: "expected an array (miMATRIX) at byte \(offset), "
          + "found type \(matrix.type)")
    }
    guard matrix.byteCount > 0 else { return nil }
    let flags = try tag(at: matrix.dataOffset, within: available, context: "array flags")
    guard flags.type == .uint32, flags.byteCount == 8, flags.dataEnd <= available else {
      throw .malformedMATFile(
        path: path,
        reason: "array flags at byte \(matrix.dataOffset) are "
          + "not 8 bytes of miUINT32")
    }
    let flagWord = word(at: flags.dataOffset)
    guard let arrayClass = MATArrayClass(rawValue: UInt8(flagWord & 0xFF)) else {
      throw .malformedMATFile(
        path: path,
        reason: "unknown array class \(flagWord & 0xFF) at byte "
          + "\(flags.dataOffset)")
    }
    let isComplex = (flagWord >> 8) & 0x08 != 0

    let dimensionTag = try tag(at: flags.nextOffset, within: available, context: "dimensions")
    guard dimensionTag.type == .int32, dimensionTag.byteCount >= 4,
      dimensionTag.byteCount % 4 == 0, dimensionTag.dataEnd <= available
    else {
      throw .malformedMATFile(
        path: path,
        reason: "the dimensions at byte \(flags.nextOffset) "
          + "are not miINT32")
    }
    var dimensions: [Int] = []
    for index in 0..<dimensionTag.byteCount / 4 {
      let value = Int(Int32(bitPattern: word(at: dimensionTag.dataOffset + 4 * index)))
      guard value >= 0 else {
        throw .malformedMATFile(path: path, reason: "negative dimension \(value)")
      }
      dimensions.append(value)
    }

    let nameTag = try tag(at: dimensionTag.nextOffset, within: available, context: "array name")
    guard nameTag.type == .int8 || nameTag.type == .uint8 || nameTag.type == .utf8,
      nameTag.dataEnd <= available
    else {
      throw .malformedMATFile(
        path: path,
        reason: "the array name at byte "
          + "\(dimensionTag.nextOffset) is not miINT8")
    }
    let name = String(decoding: bytes[nameTag.dataOffset..<nameTag.dataEnd], as: UTF8.self)
    guard arrayClass.isNumeric else { return nil }

    let real = try tag(at: nameTag.nextOffset, within: available, context: "real part of '\(name)'")
    guard let width = real.type.byteWidth, real.type != .utf8, real.type != .utf16,
      real.type != .utf32
    else {
      throw .malformedMATFile(
        path: path,
        reason: "the real part of '\(name)' has non-numeric "
          + "storage type \(real.type)")
    }
    let elementCount = dimensions.reduce(1, *)
    guard real.byteCount == elementCount * width else {
      throw .malformedMATFile(
        path: path,
        reason: "'\(name)' has dimensions \(dimensions) "
          + "(\(elementCount) elements) but \(real.byteCount) bytes of \(real.type) data")
    }
    guard real.dataEnd <= matrix.dataEnd else {
      throw .malformedMATFile(path: path, reason: "the data of '\(name)' runs past its array")
    }
    return MatrixHeader(
      name: name, arrayClass: arrayClass, isComplex: isComplex, dimensions: dimensions,
      storageType: real.type, dataOffset: real.dataOffset, dataByteCount: real.byteCount)
  }

  /// The array described by `header`, whose data lies in `storage` (this parser's bytes).
  func array(from header: MatrixHeader, limit: Int?, storage: [UInt8]) throws(DataError)
    -> MATArray
  {
    let count = header.elementsToLoad(limit: limit)
    let end = header.dataOffset + count * header.elementWidth
    guard end <= storage.count else {
      throw .truncatedFile(path: path, expectedBytes: end, actualBytes: storage.count)
    }
    return MATArray(
      name: header.name, arrayClass: header.arrayClass, dimensions: header.dimensions,
      storageType: header.storageType, isComplex: header.isComplex, loadedCount: count,
      storage: storage, dataOffset: header.dataOffset, isBigEndian: isBigEndian)
  }
}
