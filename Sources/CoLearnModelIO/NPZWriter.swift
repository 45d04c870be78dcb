import CZlib

/// Writes tensors as a NumPy `.npz` archive (issue 18, `colearn export --format npz`): a ZIP
/// file, entries stored uncompressed, one `NAME.npy` per tensor (format 1.0, little-endian
/// float32 `<f4`, C order), so `numpy.load(path)["0.weight"]` returns the tensor in its
/// documented shape. Metadata does not fit the format; the safetensors file keeps it.
///
/// Threading: a namespace of pure functions.
enum NPZWriter {
  /// The archive's bytes.
  ///
  /// - Throws: ``SavedModelError`` (path `path`) if an entry or the archive passes the 4 GiB of
  ///   the ZIP format without its ZIP64 extension, which this writer does not produce.
  static func archive(_ tensors: [SafeTensors.Tensor], path: String) throws(SavedModelError) -> [UInt8] {
    var bytes: [UInt8] = []
    var directory: [UInt8] = []
    for tensor in tensors {
      let name = Array("\(tensor.name).npy".utf8)
      let data = npy(tensor)
      guard bytes.count + data.count + 30 + name.count < Int(UInt32.max) else {
        throw SavedModelError(
          path: path, reason: "the model is too large for an .npz without ZIP64; use safetensors")
      }
      let checksum = data.withUnsafeBufferPointer {
        UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count)))
      }
      let offset = UInt32(bytes.count)
      // Local file header.
      append32(0x0403_4b50, to: &bytes)
      append16s([20, 0, 0, 0, 0], to: &bytes)  // version needed, flags, method stored, time, date
      append32(checksum, to: &bytes)
      append32(UInt32(data.count), to: &bytes)
      append32(UInt32(data.count), to: &bytes)
      append16s([UInt16(name.count), 0], to: &bytes)
      bytes += name
      bytes += data
      // Its central-directory record.
      append32(0x0201_4b50, to: &directory)
      append16s([20, 20, 0, 0, 0, 0], to: &directory)  // made by, needed, flags, method, time, date
      append32(checksum, to: &directory)
      append32(UInt32(data.count), to: &directory)
      append32(UInt32(data.count), to: &directory)
      append16s([UInt16(name.count), 0, 0, 0, 0], to: &directory)  // name, extra, comment, disk, internal
      append32(0, to: &directory)  // external attributes
      append32(offset, to: &directory)
      directory += name
    }
    let directoryOffset = UInt32(bytes.count)
    bytes += directory
    append32(0x0605_4b50, to: &bytes)
    append16s([0, 0, UInt16(tensors.count), UInt16(tensors.count)], to: &bytes)
    append32(UInt32(directory.count), to: &bytes)
    append32(directoryOffset, to: &bytes)
    append16s([0], to: &bytes)
    return bytes
  }

  /// One tensor as a `.npy` file: the magic, version 1.0, the header dictionary padded with
  /// spaces to a multiple of 64 bytes, then the little-endian float32 values.
  static func npy(_ tensor: SafeTensors.Tensor) -> [UInt8] {
    let shape =
      tensor.shape.count == 1
      ? "(\(tensor.shape[0]),)" : "(\(tensor.shape.map(String.init).joined(separator: ", ")))"
    var header = Array("{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }".utf8)
    let unpadded = 10 + header.count + 1
    header += [UInt8](repeating: 0x20, count: (64 - unpadded % 64) % 64) + [0x0a]
    var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
    append16s([UInt16(header.count)], to: &bytes)
    bytes += header
    bytes.reserveCapacity(bytes.count + 4 * tensor.values.count)
    for value in tensor.values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
    return bytes
  }

  private static func append32(_ value: UInt32, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
  }

  private static func append16s(_ values: [UInt16], to bytes: inout [UInt8]) {
    for value in values { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
  }
}
