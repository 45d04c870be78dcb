import Foundation

/// A safetensors file (the format of Hugging Face's `safetensors`, read by PyTorch, NumPy and
/// JAX users): an 8-byte little-endian header length N, N bytes of JSON, then the raw tensor
/// bytes. The JSON maps each tensor name to `{"dtype", "shape", "data_offsets": [begin, end]}`
/// (offsets into the byte buffer after the header) and may hold `"__metadata__"`, a map of
/// strings to strings.
///
/// colearn writes and reads float32 (`F32`) tensors only. Reading validates everything a
/// hostile or damaged file could get wrong, each with a ``SavedModelError`` naming the file
/// and the tensor: a header length past the end of the file or above 16 MiB, a header that is
/// not a JSON object of the layout above, another dtype, a shape whose size disagrees with its
/// offsets, offsets outside the buffer, overlapping or leaving holes (the format requires the
/// buffer to be covered exactly), and bytes after the last tensor.
///
/// Writing lays the tensors out in the order given, the header's keys sorted (so the same
/// tensors give the same bytes) and padded with spaces to a multiple of 8 bytes, as the
/// reference implementation does, so that every tensor starts 8-byte aligned.
///
/// Threading: a value type, `Sendable`.
public struct SafeTensors: Sendable, Equatable {
  /// One tensor: a name, its shape and its values in row-major order.
  public struct Tensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    /// A tensor; `values.count` must equal the product of `shape`.
    public init(name: String, shape: [Int], values: [Float]) {
      precondition(shape.reduce(1, *) == values.count, "\(name): shape \(shape) vs \(values.count)")
      self.name = name
      self.shape = shape
      self.values = values
    }
  }

  /// The largest header read (the reference implementation allows 100 MB; colearn's headers
  /// are a few kilobytes plus the model file and the schema).
  public static let maximumHeaderBytes = 16 << 20

  /// The tensors, in file order.
  public var tensors: [Tensor]
  /// `__metadata__`: free-form strings.
  public var metadata: [String: String]

  public init(tensors: [Tensor], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  /// The tensor called `name`, if any.
  public subscript(name: String) -> Tensor? {
    tensors.first { $0.name == name }
  }

  // MARK: - Writing

  /// The file's bytes.
  public func encoded() -> [UInt8] {
    var header: [String: Any] = [:]
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var offset = 0
    for tensor in tensors {
      let end = offset + 4 * tensor.values.count
      header[tensor.name] = [
        "dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, end],
      ] as [String: Any]
      offset = end
    }
    var json = Array(
      (try? JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])) ?? Data())
    while (8 + json.count) % 8 != 0 { json.append(UInt8(ascii: " ")) }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(8 + json.count + offset)
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: json)
    for tensor in tensors {
      for value in tensor.values {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
      }
    }
    return bytes
  }

  // MARK: - Reading

  /// Parses and validates `bytes` (the content of `path`, named in errors).
  ///
  /// - Throws: ``SavedModelError``.
  public init(bytes: [UInt8], path: String) throws(SavedModelError) {
    func fail(_ reason: String) -> SavedModelError { SavedModelError(path: path, reason: reason) }
    guard bytes.count >= 8 else {
      throw fail("the file is \(bytes.count) bytes long, shorter than the 8-byte header length")
    }
    var length: UInt64 = 0
    for index in 0..<8 { length |= UInt64(bytes[index]) << (8 * UInt64(index)) }
    guard length <= UInt64(Self.maximumHeaderBytes) else {
      throw fail("the header length \(length) is above \(Self.maximumHeaderBytes) bytes")
    }
    guard length <= UInt64(bytes.count - 8) else {
      throw fail(
        "the header length \(length) runs past the end of the file (\(bytes.count) bytes): "
          + "the file is truncated or not a safetensors file")
    }
    let start = 8 + Int(length)
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: Data(bytes[8..<start]))
    } catch {
      throw fail("the header is not valid JSON")
    }
    guard let header = object as? [String: Any] else {
      throw fail("the header is not a JSON object")
    }
    var metadata: [String: String] = [:]
    if let value = header["__metadata__"] {
      guard let map = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
      for (key, item) in map {
        guard let text = item as? String else { throw fail("__metadata__.\(key) is not a string") }
        metadata[key] = text
      }
    }
    let bufferLength = bytes.count - start
    var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
    // In name order, so that a file with several faults always gets the same message.
    for (name, value) in header.sorted(by: { $0.key < $1.key }) where name != "__metadata__" {
      func bad(_ reason: String) -> SavedModelError { fail("tensor '\(name)': \(reason)") }
      guard let entry = value as? [String: Any] else { throw bad("not an object") }
      guard let dtype = entry["dtype"] as? String else { throw bad("no dtype") }
      guard dtype == "F32" else {
        throw bad("dtype \(dtype) is not F32 (colearn reads float32 tensors only)")
      }
      guard let shapeValues = entry["shape"] as? [Any], shapeValues.count <= 8 else {
        throw bad("no shape, or more than 8 dimensions")
      }
      var shape: [Int] = []
      var count = 1
      for item in shapeValues {
        guard let number = item as? NSNumber, let dimension = Int(exactly: number.doubleValue),
          dimension >= 0, dimension <= 1 << 31
        else { throw bad("shape \(shapeValues) is not a list of sizes") }
        shape.append(dimension)
        let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
        guard !overflow, product <= bufferLength / 4 + 1 else {
          throw bad("shape \(shape) is larger than the file")
        }
        count = product
      }
      guard let offsets = entry["data_offsets"] as? [Any], offsets.count == 2,
        let beginNumber = offsets[0] as? NSNumber, let endNumber = offsets[1] as? NSNumber,
        let begin = Int(exactly: beginNumber.doubleValue),
        let end = Int(exactly: endNumber.doubleValue)
      else { throw bad("data_offsets is not a pair of integers") }
      guard 0 <= begin, begin <= end, end <= bufferLength else {
        throw bad(
          "data_offsets [\(begin), \(end)] lie outside the \(bufferLength)-byte data buffer")
      }
      guard end - begin == 4 * count else {
        throw bad(
          "shape \(shape) holds \(count) floats (\(4 * count) bytes) but data_offsets span "
            + "\(end - begin) bytes")
      }
      entries.append((name, shape, begin, end))
    }
    entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    var covered = 0
    for entry in entries {
      guard entry.begin == covered else {
        throw fail(
          entry.begin < covered
            ? "tensor '\(entry.name)' overlaps the tensor before it (bytes \(entry.begin)..<"
              + "\(covered))"
            : "bytes \(covered)..<\(entry.begin) of the data buffer belong to no tensor")
      }
      covered = entry.end
    }
    guard covered == bufferLength else {
      throw fail(
        "the data buffer is \(bufferLength) bytes but the tensors cover \(covered): the file "
          + "is truncated or has bytes appended")
    }
    tensors = entries.map { entry in
      let values = bytes.withUnsafeBytes { raw in
        (0..<((entry.end - entry.begin) / 4)).map { index in
          Float(
            bitPattern: UInt32(
              littleEndian: raw.loadUnaligned(
                fromByteOffset: start + entry.begin + 4 * index, as: UInt32.self)))
        }
      }
      return Tensor(name: entry.name, shape: entry.shape, values: values)
    }
    self.metadata = metadata
  }
}
