/// CRC-32 (the zlib/IEEE polynomial, as the state files and checkpoints use), for tests that
/// craft a file whose checksum must still match after they changed a field.
public func crc32(_ bytes: some Sequence<UInt8>) -> UInt32 {
  var crc: UInt32 = 0xFFFF_FFFF
  for byte in bytes {
    crc ^= UInt32(byte)
    for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
  }
  return ~crc
}

/// `bytes` with its last four bytes replaced by the little-endian CRC-32 of the others.
public func withTrailingCRC32(_ bytes: [UInt8]) -> [UInt8] {
  var bytes = bytes
  let checksum = crc32(bytes.dropLast(4))
  for shift in 0..<4 {
    bytes[bytes.count - 4 + shift] = UInt8(truncatingIfNeeded: checksum >> (8 * shift))
  }
  return bytes
}

/// Writes `value` little-endian into `bytes[offset..<offset + width]`.
public func putLittleEndian(
  _ value: UInt64, into bytes: inout [UInt8], at offset: Int, width: Int
) {
  for shift in 0..<width {
    bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * shift))
  }
}
