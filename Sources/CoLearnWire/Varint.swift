/// LEB128 unsigned varints: 7 bits per byte, least significant group first, high bit set on all
/// but the last byte (the protobuf encoding). Pure functions, no I/O.
enum Varint {
  /// The number of bytes `value` takes.
  static func size(of value: UInt64) -> Int {
    var value = value
    var bytes = 1
    while value >= 0x80 {
      value >>= 7
      bytes += 1
    }
    return bytes
  }

  /// Appends `value` to `bytes`.
  static func append(_ value: UInt64, to bytes: inout [UInt8]) {
    var value = value
    while value >= 0x80 {
      bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
      value >>= 7
    }
    bytes.append(UInt8(value))
  }

  /// Reads a varint at `offset`, advancing it.
  /// - Throws: ``WireError/truncated`` or ``WireError/malformedVarint`` (more than 10 bytes).
  static func read(_ bytes: UnsafeRawBufferPointer, at offset: inout Int) throws(WireError) -> UInt64 {
    var result: UInt64 = 0
    var shift: UInt64 = 0
    while true {
      guard offset < bytes.count else { throw .truncated(at: offset) }
      let byte = bytes[offset]
      offset += 1
      guard shift < 64, !(shift == 63 && byte > 1) else { throw .malformedVarint(at: offset - 1) }
      result |= UInt64(byte & 0x7F) << shift
      if byte & 0x80 == 0 { return result }
      shift += 7
    }
  }
}
