import CoLearnTensor

/// A malformed encoded sparse vector. Each message says where the bytes went wrong.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The bytes end inside an entry.
  case truncated(at: Int)
  /// A varint longer than 10 bytes or above 2⁶⁴.
  case malformedVarint(at: Int)
  /// More entries announced than the vector has positions.
  case tooManyEntries(count: UInt64, dimension: Int)
  /// More entries announced than the `available` bytes after the count can hold (each entry
  /// takes at least 5: a gap and a value): truncated bytes or a wrong count.
  case entriesExceedBytes(count: UInt64, available: Int)
  /// An index (after undoing the delta encoding) at or beyond the dimension, or a zero gap
  /// (a repeated index).
  case badIndex(entry: Int, dimension: Int)
  /// Bytes after the last value.
  case trailingBytes(count: Int)
  /// The vector's own contents are invalid (NaN/∞ values).
  case invalidContents(SparseVectorProblem)

  public var description: String {
    switch self {
    case .truncated(let offset): return "sparse vector truncated at byte \(offset)"
    case .malformedVarint(let offset): return "malformed varint at byte \(offset)"
    case .tooManyEntries(let count, let dimension):
      return "sparse vector announces \(count) entries for a vector of \(dimension)"
    case .entriesExceedBytes(let count, let available):
      return "sparse vector announces \(count) entries, but the \(available) bytes after its "
        + "count hold at most \(available / 5) (truncated, or a wrong count)"
    case .badIndex(let entry, let dimension):
      return "entry \(entry): index repeats or is outside 0..<\(dimension)"
    case .trailingBytes(let count): return "\(count) unexpected bytes after the sparse vector"
    case .invalidContents(let problem): return "sparse vector: \(problem)"
    }
  }
}

/// The wire format of a ``SparseVector`` (SPEC §10): the entry count as a varint, the indices
/// delta-encoded as varints (the first as is, then each minus the one before, minus 1 — strictly
/// increasing indices make every gap ≥ 0), then the values as little-endian float32.
///
/// A pure function pair with no I/O: `decode(encode(v)) == v`.
public enum SparseCodec {
  /// The number of bytes ``encode(_:)`` produces for `vector`.
  public static func encodedByteCount(_ vector: SparseVector) -> Int {
    var total = Varint.size(of: UInt64(vector.count))
    var previous: Int64 = -1
    for index in vector.indices {
      total += Varint.size(of: UInt64(Int64(index) - previous - 1))
      previous = Int64(index)
    }
    return total + 4 * vector.count
  }

  /// The encoded size of a dense vector of `count` values sent with every index (each gap is
  /// zero: one byte), without building it.
  public static func denseEncodedByteCount(count: Int) -> Int {
    Varint.size(of: UInt64(count)) + 5 * count
  }

  /// Encodes `vector`, whose indices must be strictly increasing and non-negative.
  public static func encode(_ vector: SparseVector) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(encodedByteCount(vector))
    Varint.append(UInt64(vector.count), to: &bytes)
    var previous: Int64 = -1
    for index in vector.indices {
      precondition(Int64(index) > previous, "indices must be strictly increasing")
      Varint.append(UInt64(Int64(index) - previous - 1), to: &bytes)
      previous = Int64(index)
    }
    for value in vector.values {
      let bits = value.bitPattern
      bytes.append(UInt8(truncatingIfNeeded: bits))
      bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
      bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
      bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
    }
    return bytes
  }

  /// Decodes bytes produced by ``encode(_:)`` for a vector of `dimension` positions, checking
  /// everything a hostile sender could get wrong (SPEC §10; issue 5's hostile-input list).
  ///
  /// - Throws: ``WireError`` naming the first problem.
  public static func decode(_ bytes: [UInt8], dimension: Int) throws(WireError) -> SparseVector {
    let result: Result<SparseVector, WireError> = bytes.withUnsafeBytes { raw in
      do throws(WireError) {
        return .success(try decode(raw, dimension: dimension))
      } catch {
        return .failure(error)
      }
    }
    return try result.get()
  }

  private static func decode(
    _ raw: UnsafeRawBufferPointer, dimension: Int
  ) throws(WireError) -> SparseVector {
    var offset = 0
    let count = try Varint.read(raw, at: &offset)
    guard count <= UInt64(dimension) else {
      throw .tooManyEntries(count: count, dimension: dimension)
    }
    // Checked before anything is allocated: a few bytes announcing |w| entries must not make
    // the receiver allocate for |w|.
    guard count <= UInt64((raw.count - offset) / 5) else {
      throw .entriesExceedBytes(count: count, available: raw.count - offset)
    }
    let n = Int(count)
    var indices = [Int32](repeating: 0, count: n)
    var previous: Int64 = -1
    for entry in 0..<n {
      let gap = try Varint.read(raw, at: &offset)
      guard gap < UInt64(dimension) else { throw .badIndex(entry: entry, dimension: dimension) }
      let index = previous + 1 + Int64(gap)
      guard index < Int64(dimension) else { throw .badIndex(entry: entry, dimension: dimension) }
      indices[entry] = Int32(index)
      previous = index
    }
    guard raw.count - offset >= 4 * n else { throw .truncated(at: raw.count) }
    var values = [Float](repeating: 0, count: n)
    for entry in 0..<n {
      let base = offset + 4 * entry
      let bits =
        UInt32(raw[base]) | UInt32(raw[base + 1]) << 8 | UInt32(raw[base + 2]) << 16
        | UInt32(raw[base + 3]) << 24
      values[entry] = Float(bitPattern: bits)
    }
    offset += 4 * n
    guard offset == raw.count else { throw .trailingBytes(count: raw.count - offset) }
    let vector = SparseVector(indices: indices, values: values)
    if let problem = vector.validate(dimension: dimension) { throw .invalidContents(problem) }
    return vector
  }
}
