import CoLearnData
import Testing

/// IDX decoding, raw and gzip'd, and every failure naming the file and what was wrong.
@Suite struct IDXFileTests {
  let payload: [UInt8] = (0..<24).map { UInt8($0 * 10) }

  @discardableResult
  func withFile<R>(
    _ bytes: [UInt8], name: String = "file-idx3-ubyte",
    _ body: (String) throws -> R
  ) throws -> R {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    let path = directory + "/" + name
    try TestFiles.write(bytes, to: path)
    return try body(path)
  }

  @Test func readsRawFile() throws {
    let bytes = TestFiles.idx(dimensions: [2, 3, 4], payload: payload)
    let file = try withFile(bytes) { try IDXFile(contentsOfFile: $0) }
    #expect(file.dimensions == [2, 3, 4])
    #expect(file.elementCount == 24)
    #expect(Array(file.payload) == payload)
  }

  @Test func readsGzipFileByMagicNotName() throws {
    let bytes = try TestFiles.gzip(TestFiles.idx(dimensions: [2, 3, 4], payload: payload))
    let file = try withFile(bytes, name: "no-suffix") { try IDXFile(contentsOfFile: $0) }
    #expect(file.dimensions == [2, 3, 4])
    #expect(Array(file.payload) == payload)
  }

  @Test func readsLargeGzipFileWhoseSizeHintIsExact() throws {
    let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
    let bytes = try TestFiles.gzip(TestFiles.idx(dimensions: [300, 1000], payload: big))
    let file = try withFile(bytes) { try IDXFile(contentsOfFile: $0) }
    #expect(Array(file.payload) == big)
  }

  @Test func truncatedPayloadReportsExpectedAndActualBytes() throws {
    let bytes = Array(TestFiles.idx(dimensions: [2, 3, 4], payload: payload).dropLast(5))
    try withFile(bytes) { path in
      #expect(throws: DataError.truncatedFile(path: path, expectedBytes: 40, actualBytes: 35)) {
        try IDXFile(contentsOfFile: path)
      }
    }
  }

  @Test func truncatedHeader() throws {
    try withFile([0, 0, 8, 3, 0, 0]) { path in
      #expect(throws: DataError.truncatedFile(path: path, expectedBytes: 16, actualBytes: 6)) {
        try IDXFile(contentsOfFile: path)
      }
    }
  }

  @Test func badMagic() throws {
    try withFile([0x50, 0x4B, 3, 4] + payload) { path in
      let error = #expect(throws: DataError.self) { try IDXFile(contentsOfFile: path) }
      #expect(
        error
          == .badMagic(
            path: path, expected: "IDX (00 00 <type> <dims>)",
            found: "50 4b 03 04"))
      #expect(error?.description.contains(path) == true)
    }
  }

  @Test func unsupportedElementType() throws {
    let bytes = TestFiles.idx(dimensions: [6], payload: payload, typeCode: 0x0C)
    try withFile(bytes) { path in
      let error = #expect(throws: DataError.self) { try IDXFile(contentsOfFile: path) }
      guard case .unsupportedElementType(let errorPath, let found, _) = error else {
        Issue.record("expected unsupportedElementType, got \(String(describing: error))")
        return
      }
      #expect(errorPath == path)
      #expect(found.contains("int32"))
    }
  }

  @Test func trailingBytesAreAnError() throws {
    let bytes = TestFiles.idx(dimensions: [2, 3, 4], payload: payload + [1, 2])
    try withFile(bytes) { path in
      #expect(throws: DataError.self) { try IDXFile(contentsOfFile: path) }
    }
  }

  @Test func corruptGzipNamesTheFile() throws {
    var bytes = try TestFiles.gzip(TestFiles.idx(dimensions: [2, 3, 4], payload: payload))
    for index in 12..<min(bytes.count - 8, 24) { bytes[index] ^= 0xA5 }
    try withFile(bytes) { path in
      let error = #expect(throws: DataError.self) { try IDXFile(contentsOfFile: path) }
      guard case .corruptCompressedData(let errorPath, _) = error else {
        Issue.record("expected corruptCompressedData, got \(String(describing: error))")
        return
      }
      #expect(errorPath == path)
    }
  }

  @Test func truncatedGzipSaysTheStreamEndsEarly() throws {
    let big = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 % 97) }
    let bytes = try TestFiles.gzip(TestFiles.idx(dimensions: [5000], payload: big))
    try withFile(Array(bytes.prefix(bytes.count / 2))) { path in
      let error = #expect(throws: DataError.self) { try IDXFile(contentsOfFile: path) }
      guard case .corruptCompressedData(_, let reason) = error else {
        Issue.record("expected corruptCompressedData, got \(String(describing: error))")
        return
      }
      #expect(reason.contains("ends early"))
    }
  }

  @Test func missingFile() {
    #expect(throws: DataError.missingFile(path: "/nonexistent/x-idx1-ubyte", dataset: .mnist)) {
      try IDXFile(contentsOfFile: "/nonexistent/x-idx1-ubyte", dataset: .mnist)
    }
  }
}
