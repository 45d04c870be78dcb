/// The element (storage) types of a MATLAB v5 file, the `miXXX` codes of a data element's tag
/// ("MAT-File Format", MathWorks, 2019, Table 1-1).
///
/// The storage type of an array's data need not match its class: MATLAB writes a `double` array
/// whose values are small integers with a narrower storage type such as `miUINT8`, and a reader
/// must promote the values back to the class (``MATArray/doubleValues()`` does).
public enum MATDataType: UInt32, Sendable {
  case int8 = 1
  case uint8 = 2
  case int16 = 3
  case uint16 = 4
  case int32 = 5
  case uint32 = 6
  case single = 7
  case double = 9
  case int64 = 12
  case uint64 = 13
  /// An array (header sub-elements, then the data).
  case matrix = 14
  /// A zlib stream holding one further element (MATLAB v7 compression).
  case compressed = 15
  case utf8 = 16
  case utf16 = 17
  case utf32 = 18

  /// The size of one element in bytes, or `nil` for the container types.
  public var byteWidth: Int? {
    switch self {
    case .int8, .uint8, .utf8: 1
    case .int16, .uint16, .utf16: 2
    case .int32, .uint32, .single, .utf32: 4
    case .double, .int64, .uint64: 8
    case .matrix, .compressed: nil
    }
  }
}

/// The class of a MATLAB array (`mxXXX_CLASS`), the low byte of its array-flags sub-element.
public enum MATArrayClass: UInt8, Sendable {
  case cell = 1
  case structure = 2
  case object = 3
  case char = 4
  case sparse = 5
  case double = 6
  case single = 7
  case int8 = 8
  case uint8 = 9
  case int16 = 10
  case uint16 = 11
  case int32 = 12
  case uint32 = 13
  case int64 = 14
  case uint64 = 15

  /// Whether the array holds plain numbers that ``MATArray`` can read.
  public var isNumeric: Bool { rawValue >= MATArrayClass.double.rawValue }
}
