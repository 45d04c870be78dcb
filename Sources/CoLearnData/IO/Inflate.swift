import CZlib

/// Decompression of gzip, zlib and raw deflate streams with zlib's `inflate`, for IDX `.gz`
/// files, the `miCOMPRESSED` elements of MATLAB files and the deflated entries of `.npz` (ZIP)
/// archives.
///
/// The output goes into one pre-sized array (the gzip trailer's size, or the caller's hint) that
/// grows only if the hint was short, so inflating MNIST's 47 MB of training images costs one
/// allocation. Headers are detected automatically (zlib `windowBits` 15 + 32): gzip and zlib
/// streams both work, and zlib checks the CRC-32 or Adler-32 trailer. Concatenated gzip members
/// are not supported (no dataset file uses them); bytes after the first member are ignored.
enum Inflate {
  /// Whether `bytes` starts with the gzip magic number `1f 8b`.
  static func isGzip(_ bytes: UnsafeRawBufferPointer) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
  }

  /// The uncompressed size a gzip member announces in its trailer (ISIZE, size mod 2³²),
  /// bounded by deflate's maximum ratio so that a damaged trailer cannot ask for terabytes.
  static func gzipSizeHint(_ bytes: UnsafeRawBufferPointer) -> Int {
    guard bytes.count >= 18 else { return 0 }
    let end = bytes.count
    let size =
      Int(bytes[end - 4]) | Int(bytes[end - 3]) << 8 | Int(bytes[end - 2]) << 16
      | Int(bytes[end - 1]) << 24
    return min(size, bytes.count * 1032)
  }

  /// Inflates a gzip or zlib stream.
  ///
  /// - Parameters:
  ///   - input: The compressed stream, starting with its gzip or zlib header.
  ///   - sizeHint: The expected uncompressed size (the output grows beyond it if needed).
  ///   - limit: Stop after this many output bytes and return them (for reading a prefix);
  ///     `nil` inflates to the end of the stream.
  ///   - path: The file, for messages.
  ///   - raw: `true` for a raw deflate stream without header or trailer (a ZIP entry,
  ///     zlib `windowBits` −15); `false` detects a gzip or zlib header.
  /// - Returns: The uncompressed bytes (at most `limit` of them).
  /// - Throws: ``DataError/corruptCompressedData(path:reason:)`` when the stream is damaged or
  ///   ends before its end marker.
  static func inflate(
    _ input: UnsafeRawBufferPointer, sizeHint: Int, limit: Int? = nil, path: String,
    raw: Bool = false
  ) throws(DataError) -> [UInt8] {
    guard let inputBase = input.baseAddress, !input.isEmpty else {
      throw .corruptCompressedData(path: path, reason: "the compressed stream is empty")
    }
    var stream = z_stream()
    let initStatus = inflateInit2_(
      &stream, raw ? -15 : 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
    guard initStatus == Z_OK else {
      throw .corruptCompressedData(path: path, reason: "zlib could not start (code \(initStatus))")
    }
    defer { inflateEnd(&stream) }
    stream.next_in = UnsafeMutablePointer(
      mutating: inputBase.assumingMemoryBound(to: Bytef.self))
    stream.avail_in = UInt32(clamping: input.count)
    var consumedBeforeWindow = 0

    var capacity = max(sizeHint, 1024)
    if let limit { capacity = min(capacity, max(limit, 1)) }
    var output = [UInt8](repeating: 0, count: capacity)
    var produced = 0
    while true {
      if let limit, produced >= limit { break }
      if produced == output.count {
        let grown = max(output.count * 2, 1 << 16)
        output.append(contentsOf: repeatElement(0, count: grown - output.count))
      }
      let room = min(output.count, limit ?? Int.max) - produced
      var status: Int32 = Z_OK
      output.withUnsafeMutableBufferPointer { buffer in
        guard let base = buffer.baseAddress else { return }
        stream.next_out = base + produced
        stream.avail_out = UInt32(clamping: room)
        let before = Int(stream.avail_out)
        status = CZlib.inflate(&stream, Z_NO_FLUSH)
        produced += before - Int(stream.avail_out)
      }
      // Feed the next 4 GiB window of input once zlib has consumed the current one.
      if stream.avail_in == 0 {
        consumedBeforeWindow += Int(UInt32(clamping: input.count - consumedBeforeWindow))
        let remaining = input.count - consumedBeforeWindow
        if remaining > 0 {
          stream.next_in = UnsafeMutablePointer(
            mutating: (inputBase + consumedBeforeWindow).assumingMemoryBound(to: Bytef.self))
          stream.avail_in = UInt32(clamping: remaining)
          if status == Z_BUF_ERROR { continue }
        }
      }
      switch status {
      case Z_STREAM_END:
        output.removeLast(output.count - produced)
        return output
      case Z_OK:
        continue
      case Z_BUF_ERROR where stream.avail_in == 0:
        throw .corruptCompressedData(
          path: path,
          reason: "the compressed stream ends early after \(produced) uncompressed bytes "
            + "(file truncated?)")
      case Z_BUF_ERROR:
        continue
      default:
        let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
        throw .corruptCompressedData(path: path, reason: message)
      }
    }
    output.removeLast(output.count - produced)
    return output
  }
}
