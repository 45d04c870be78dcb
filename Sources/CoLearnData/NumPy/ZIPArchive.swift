import CZlib

/// A ZIP archive read from its central directory (PKWARE APPNOTE 6.3), as `np.savez` and
/// `np.savez_compressed` write `.npz` files.
///
/// The reader finds the end-of-central-directory record (scanning back over an archive
/// comment), follows ZIP64's locator and record when the 32-bit fields are saturated, and lists
/// the entries with their method, sizes, CRC-32 and local-header offset (sizes and offset from
/// the ZIP64 extra field when saturated; NumPy writes every entry with `force_zip64`). Entry
/// contents are extracted on demand: method 0 (stored) is copied, method 8 (deflated) is
/// inflated as raw deflate with zlib; every extraction is checked against its size and CRC-32.
/// Encrypted entries and other methods get a ``DataError/malformedArchive(path:reason:)``.
///
/// Threading: a value type, `Sendable`.
struct ZIPArchive: Sendable {
  /// One entry of the central directory.
  struct Entry: Sendable, Equatable {
    /// The file name inside the archive.
    var name: String
    /// 0 stored, 8 deflated.
    var method: Int
    /// General-purpose flags (bit 0: encrypted).
    var flags: Int
    /// The CRC-32 of the uncompressed content.
    var crc32: UInt32
    /// Bytes of (compressed) data.
    var compressedSize: Int
    /// Bytes after decompression.
    var uncompressedSize: Int
    /// Where the entry's local header starts.
    var localHeaderOffset: Int
  }

  /// The archive, for messages.
  let path: String
  /// The whole file.
  let bytes: [UInt8]
  /// The entries in directory order.
  let entries: [Entry]

  /// Reads the archive at `path` and its central directory.
  ///
  /// - Throws: ``DataError`` naming the file: missing, unreadable, or a directory that cannot
  ///   be parsed.
  init(contentsOfFile path: String) throws(DataError) {
    try self.init(bytes: FileIO.readFile(atPath: path), path: path)
  }

  /// Parses the central directory of an archive held in memory.
  ///
  /// - Throws: ``DataError/malformedArchive(path:reason:)`` or
  ///   ``DataError/badMagic(path:expected:found:)`` when there is no end-of-directory record.
  init(bytes: [UInt8], path: String) throws(DataError) {
    self.path = path
    self.bytes = bytes
    let reader = LittleEndianReader(bytes: bytes, path: path)
    guard let end = Self.endOfDirectoryOffset(bytes) else {
      let found = bytes.prefix(4).map { hexByte($0) }.joined(separator: " ")
      throw .badMagic(
        path: path, expected: "ZIP archive (.npz; an end-of-central-directory record)",
        found: found.isEmpty ? "nothing: the file is empty" : found)
    }
    var entryCount = Int(try reader.uint16(at: end + 10))
    var directorySize = Int(try reader.uint32(at: end + 12))
    var directoryOffset = Int(try reader.uint32(at: end + 16))
    if entryCount == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
      // ZIP64: the locator sits just before the end record and points at the ZIP64 record.
      let locator = end - 20
      guard locator >= 0, try reader.uint32(at: locator) == 0x0706_4b50 else {
        throw .malformedArchive(path: path, reason: "a ZIP64 archive without its locator")
      }
      let record = try reader.offset(at: locator + 8)
      guard try reader.uint32(at: record) == 0x0606_4b50 else {
        throw .malformedArchive(path: path, reason: "the ZIP64 end record is not at \(record)")
      }
      entryCount = try reader.offset(at: record + 32)
      directorySize = try reader.offset(at: record + 40)
      directoryOffset = try reader.offset(at: record + 48)
    }
    guard directoryOffset + directorySize <= bytes.count else {
      throw .malformedArchive(
        path: path,
        reason: "the central directory (\(directorySize) bytes at \(directoryOffset)) lies "
          + "beyond the end of the \(bytes.count)-byte file (truncated?)")
    }
    var entries: [Entry] = []
    var position = directoryOffset
    for _ in 0..<entryCount {
      guard try reader.uint32(at: position) == 0x0201_4b50 else {
        throw .malformedArchive(
          path: path, reason: "central directory entry \(entries.count) at \(position) is damaged")
      }
      let nameLength = Int(try reader.uint16(at: position + 28))
      let extraLength = Int(try reader.uint16(at: position + 30))
      let commentLength = Int(try reader.uint16(at: position + 32))
      let name = String(decoding: try reader.slice(position + 46, count: nameLength), as: UTF8.self)
      var entry = Entry(
        name: name, method: Int(try reader.uint16(at: position + 10)),
        flags: Int(try reader.uint16(at: position + 8)), crc32: try reader.uint32(at: position + 16),
        compressedSize: Int(try reader.uint32(at: position + 20)),
        uncompressedSize: Int(try reader.uint32(at: position + 24)),
        localHeaderOffset: Int(try reader.uint32(at: position + 42)))
      try Self.applyZIP64Extra(
        reader.slice(position + 46 + nameLength, count: extraLength), to: &entry, path: path)
      entries.append(entry)
      position += 46 + nameLength + extraLength + commentLength
    }
    self.entries = entries
  }

  /// The offset of the end-of-central-directory record, searched backwards over at most a
  /// 64 KiB comment.
  static func endOfDirectoryOffset(_ bytes: [UInt8]) -> Int? {
    guard bytes.count >= 22 else { return nil }
    let lowest = max(0, bytes.count - 22 - 0xFFFF)
    var offset = bytes.count - 22
    while offset >= lowest {
      if bytes[offset] == 0x50, bytes[offset + 1] == 0x4b, bytes[offset + 2] == 5,
        bytes[offset + 3] == 6
      {
        return offset
      }
      offset -= 1
    }
    return nil
  }

  /// Replaces saturated sizes and offset with the values of the ZIP64 extra field (id 1), which
  /// holds, in this order, only the fields that are saturated.
  static func applyZIP64Extra(_ extra: ArraySlice<UInt8>, to entry: inout Entry, path: String)
    throws(DataError)
  {
    let reader = LittleEndianReader(bytes: Array(extra), path: path)
    var position = 0
    while position + 4 <= extra.count {
      let id = try reader.uint16(at: position)
      let size = Int(try reader.uint16(at: position + 2))
      if id == 1 {
        var field = position + 4
        if entry.uncompressedSize == 0xFFFF_FFFF {
          entry.uncompressedSize = try reader.offset(at: field)
          field += 8
        }
        if entry.compressedSize == 0xFFFF_FFFF {
          entry.compressedSize = try reader.offset(at: field)
          field += 8
        }
        if entry.localHeaderOffset == 0xFFFF_FFFF {
          entry.localHeaderOffset = try reader.offset(at: field)
        }
        return
      }
      position += 4 + size
    }
  }

  /// The uncompressed content of `entry`, checked against its size and CRC-32.
  ///
  /// - Parameter displayName: The name used in messages (the array name for `.npz` entries).
  /// - Throws: ``DataError/truncatedArray(path:array:expectedBytes:actualBytes:)`` when the
  ///   data runs past the end of the file, ``DataError/corruptCompressedData(path:reason:)``
  ///   for a damaged deflate stream, ``DataError/malformedArchive(path:reason:)`` otherwise.
  func contents(of entry: Entry, displayName: String) throws(DataError) -> [UInt8] {
    let reader = LittleEndianReader(bytes: bytes, path: path)
    let header = entry.localHeaderOffset
    guard try reader.uint32(at: header) == 0x0403_4b50 else {
      throw .malformedArchive(
        path: path, reason: "entry '\(entry.name)' has no local header at \(header)")
    }
    guard entry.flags & 1 == 0 else {
      throw .malformedArchive(path: path, reason: "entry '\(entry.name)' is encrypted")
    }
    let start =
      header + 30 + Int(try reader.uint16(at: header + 26)) + Int(try reader.uint16(at: header + 28))
    let available = max(0, bytes.count - start)
    guard available >= entry.compressedSize else {
      throw .truncatedArray(
        path: path, array: displayName, expectedBytes: entry.compressedSize,
        actualBytes: available)
    }
    let stored = bytes[start..<start + entry.compressedSize]
    let content: [UInt8]
    switch entry.method {
    case 0:
      content = Array(stored)
    case 8:
      let inflated = stored.withUnsafeBytes { raw in
        Result { () throws(DataError) -> [UInt8] in
          try Inflate.inflate(
            raw, sizeHint: entry.uncompressedSize, path: "\(path) (entry '\(entry.name)')",
            raw: true)
        }
      }
      content = try inflated.get()
    default:
      throw .malformedArchive(
        path: path,
        reason: "entry '\(entry.name)' uses compression method \(entry.method); only stored (0) "
          + "and deflated (8) entries are read")
    }
    guard content.count == entry.uncompressedSize else {
      throw .truncatedArray(
        path: path, array: displayName, expectedBytes: entry.uncompressedSize,
        actualBytes: content.count)
    }
    let checksum = content.withUnsafeBufferPointer { buffer -> UInt32 in
      var crc = CZlib.crc32(0, nil, 0)
      var offset = 0
      while offset < buffer.count {
        let chunk = min(buffer.count - offset, 1 << 30)
        crc = CZlib.crc32(crc, buffer.baseAddress.map { $0 + offset }, UInt32(chunk))
        offset += chunk
      }
      return UInt32(truncatingIfNeeded: crc)
    }
    guard checksum == entry.crc32 else {
      throw .malformedArchive(
        path: path,
        reason: "entry '\(entry.name)' fails its CRC-32 check (the archive is damaged)")
    }
    return content
  }
}

/// Bounds-checked little-endian reads from a byte array; out-of-range reads throw
/// ``DataError/malformedArchive(path:reason:)``.
struct LittleEndianReader {
  let bytes: [UInt8]
  let path: String

  func slice(_ offset: Int, count: Int) throws(DataError) -> ArraySlice<UInt8> {
    guard offset >= 0, count >= 0, offset + count <= bytes.count else {
      throw .malformedArchive(
        path: path,
        reason: "a record at offset \(offset) runs past the end of the \(bytes.count)-byte file "
          + "(truncated?)")
    }
    return bytes[offset..<offset + count]
  }

  func uint16(at offset: Int) throws(DataError) -> UInt16 {
    let part = try slice(offset, count: 2)
    return UInt16(part[offset]) | UInt16(part[offset + 1]) << 8
  }

  func uint32(at offset: Int) throws(DataError) -> UInt32 {
    let part = try slice(offset, count: 4)
    var value: UInt32 = 0
    for index in (0..<4).reversed() { value = value << 8 | UInt32(part[offset + index]) }
    return value
  }

  /// A 64-bit size or offset, which must fit in `Int`.
  func offset(at offset: Int) throws(DataError) -> Int {
    let part = try slice(offset, count: 8)
    var value: UInt64 = 0
    for index in (0..<8).reversed() { value = value << 8 | UInt64(part[offset + index]) }
    guard value <= UInt64(Int32.max) * 64 else {
      throw .malformedArchive(path: path, reason: "a ZIP64 size \(value) is implausibly large")
    }
    return Int(value)
  }
}
