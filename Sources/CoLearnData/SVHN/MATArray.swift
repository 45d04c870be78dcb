/// One numeric variable read from a MATLAB v5 file: its name, class, dimensions and the real
/// part of its data, kept in the storage type the file used (see ``MATDataType``).
///
/// MATLAB stores arrays column-major: element `(i, j, k, …)` of an `m × n × p × …` array is at
/// linear index `i + m·(j + n·(k + …))`. The data stays in the buffer it was read or inflated
/// into; nothing is converted until asked for.
public struct MATArray: Sendable {
  /// The variable name.
  public let name: String
  /// The MATLAB class (`double`, `uint8`, …).
  public let arrayClass: MATArrayClass
  /// The dimensions as stored in the file (at least two).
  public let dimensions: [Int]
  /// How the elements are stored in the file (possibly narrower than the class).
  public let storageType: MATDataType
  /// Whether the file also holds an imaginary part (ignored by this reader).
  public let isComplex: Bool
  /// How many elements were loaded: the product of ``dimensions``, or fewer when the reader was
  /// asked for a prefix along the last dimension.
  public let loadedCount: Int

  /// The buffer holding the data.
  let storage: [UInt8]
  /// Where the real part starts in ``storage``.
  let dataOffset: Int
  /// Whether multi-byte elements are big-endian.
  let isBigEndian: Bool

  init(
    name: String, arrayClass: MATArrayClass, dimensions: [Int], storageType: MATDataType,
    isComplex: Bool, loadedCount: Int, storage: [UInt8], dataOffset: Int, isBigEndian: Bool
  ) {
    self.name = name
    self.arrayClass = arrayClass
    self.dimensions = dimensions
    self.storageType = storageType
    self.isComplex = isComplex
    self.loadedCount = loadedCount
    self.storage = storage
    self.dataOffset = dataOffset
    self.isBigEndian = isBigEndian
  }

  /// The product of ``dimensions``.
  public var elementCount: Int { dimensions.reduce(1, *) }

  /// The loaded elements as `Double`, promoted from whatever storage type the file used, in
  /// MATLAB's column-major order.
  ///
  /// - Complexity: O(loadedCount).
  public func doubleValues() -> [Double] {
    storage.withUnsafeBytes { bytes in
      let base = UnsafeRawBufferPointer(rebasing: bytes[dataOffset...])
      return (0..<loadedCount).map { element(at: $0, in: base) }
    }
  }

  /// Calls `body` with the loaded elements as bytes when they are stored as `miUINT8`, the fast
  /// path for images; returns `nil` for other storage types.
  public func withUInt8Elements<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result)
    -> Result?
  {
    guard storageType == .uint8 else { return nil }
    return storage.withUnsafeBufferPointer { buffer in
      body(UnsafeBufferPointer(rebasing: buffer[dataOffset..<dataOffset + loadedCount]))
    }
  }

  /// Element `index` of the real part, converted to `Double`.
  private func element(at index: Int, in bytes: UnsafeRawBufferPointer) -> Double {
    switch storageType {
    case .int8: Double(Int8(bitPattern: bytes[index]))
    case .uint8, .utf8: Double(bytes[index])
    case .int16: Double(Int16(bitPattern: load(UInt16.self, index, bytes)))
    case .uint16, .utf16: Double(load(UInt16.self, index, bytes))
    case .int32: Double(Int32(bitPattern: load(UInt32.self, index, bytes)))
    case .uint32, .utf32: Double(load(UInt32.self, index, bytes))
    case .single: Double(Float(bitPattern: load(UInt32.self, index, bytes)))
    case .double: Double(bitPattern: load(UInt64.self, index, bytes))
    case .int64: Double(Int64(bitPattern: load(UInt64.self, index, bytes)))
    case .uint64: Double(load(UInt64.self, index, bytes))
    case .matrix, .compressed: .nan
    }
  }

  /// Loads an unaligned integer and puts it in host byte order.
  private func load<Integer: FixedWidthInteger>(
    _ type: Integer.Type, _ index: Int, _ bytes: UnsafeRawBufferPointer
  ) -> Integer {
    let value = bytes.loadUnaligned(fromByteOffset: index * MemoryLayout<Integer>.size, as: type)
    return isBigEndian ? Integer(bigEndian: value) : Integer(littleEndian: value)
  }
}
