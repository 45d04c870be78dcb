import CoLearnData
import Testing

/// The MATLAB v5 reader on the fixtures of Tests/Fixtures/data/make_svhn_fixtures.py.
@Suite struct MATFileTests {
  @Test(arguments: [
    "svhn_small_uncompressed.mat", "svhn_small_compressed.mat", "svhn_small_matlab_style.mat",
    "svhn_small_bigendian.mat",
  ])
  func readsXAndY(fixture: String) throws {
    let file = try MATFile(contentsOfFile: TestFiles.fixture(fixture))
    let x = try #require(file["X"])
    let y = try #require(file["y"])
    #expect(x.arrayClass == .uint8)
    #expect(x.storageType == .uint8)
    #expect(x.dimensions == [32, 32, 3, 6])
    #expect(x.loadedCount == 6 * 3072)
    #expect(y.arrayClass == .double)
    #expect(y.dimensions == [6, 1])
    #expect(y.doubleValues() == [10, 1, 2, 3, 9, 10])
    // Pixel (0, 0) of sample 0 is pure red, (0, 1) pure green: column-major, so green is at
    // linear index 0 + 32·1 + 1024·1.
    let red = x.withUInt8Elements { [$0[0], $0[1024], $0[2048]] }
    let green = x.withUInt8Elements { [$0[32], $0[32 + 1024], $0[32 + 2048]] }
    #expect(red == [255, 0, 0])
    #expect(green == [0, 255, 0])
  }

  @Test func doubleStoredAsUInt8IsPromoted() throws {
    let file = try MATFile(contentsOfFile: TestFiles.fixture("svhn_small_matlab_style.mat"))
    let y = try #require(file["y"])
    #expect(y.arrayClass == .double)
    #expect(y.storageType == .uint8)
    #expect(y.doubleValues() == [10, 1, 2, 3, 9, 10])
  }

  @Test func skipsCharAndStructVariables() throws {
    let file = try MATFile(contentsOfFile: TestFiles.fixture("svhn_small_uncompressed.mat"))
    #expect(file.variables.map(\.name) == ["X", "y"])
    #expect(file.headerText.hasPrefix("MATLAB 5.0 MAT-file"))
  }

  @Test(arguments: ["svhn_small_uncompressed.mat", "svhn_small_compressed.mat"])
  func lastDimensionLimitLoadsAPrefix(fixture: String) throws {
    let file = try MATFile(
      contentsOfFile: TestFiles.fixture(fixture), names: ["X"], lastDimensionLimits: ["X": 2])
    let x = try #require(file["X"])
    #expect(file["y"] == nil)
    #expect(x.dimensions == [32, 32, 3, 6])
    #expect(x.loadedCount == 2 * 3072)
    let full = try #require(try MATFile(contentsOfFile: TestFiles.fixture(fixture))["X"])
    #expect(x.withUInt8Elements { Array($0) } == full.withUInt8Elements { Array($0.prefix(6144)) })
  }

  @Test func truncatedCompressedElement() throws {
    let path = TestFiles.fixture("svhn_small_truncated.mat")
    let error = #expect(throws: DataError.self) { try MATFile(contentsOfFile: path) }
    guard case .truncatedFile(let errorPath, let expected, let actual) = error else {
      Issue.record("expected truncatedFile, got \(String(describing: error))")
      return
    }
    #expect(errorPath == path)
    #expect(expected > actual)
  }

  @Test func corruptCompressedElement() throws {
    let path = TestFiles.fixture("svhn_small_corrupt.mat")
    let error = #expect(throws: DataError.self) { try MATFile(contentsOfFile: path) }
    guard case .corruptCompressedData(let errorPath, _) = error else {
      Issue.record("expected corruptCompressedData, got \(String(describing: error))")
      return
    }
    #expect(errorPath == path)
  }

  @Test func badHeader() throws {
    let path = TestFiles.fixture("svhn_small_badheader.mat")
    let error = #expect(throws: DataError.self) { try MATFile(contentsOfFile: path) }
    guard case .badMagic(let errorPath, let expected, _) = error else {
      Issue.record("expected badMagic, got \(String(describing: error))")
      return
    }
    #expect(errorPath == path)
    #expect(expected == "MATLAB 5.0 MAT-file")
  }

  @Test func shortFile() {
    #expect(throws: DataError.truncatedFile(path: "short", expectedBytes: 128, actualBytes: 3)) {
      try MATFile(contents: [1, 2, 3], path: "short")
    }
  }

  @Test func hdf5FilesGetAClearMessage() {
    var bytes = Array("MATLAB 7.3 MAT-file, Platform: GLNXA64".utf8)
    bytes += [UInt8](repeating: 0x20, count: 128 - bytes.count)
    let error = #expect(throws: DataError.self) { try MATFile(contents: bytes, path: "v73.mat") }
    #expect(error?.description.contains("-v7") == true)
  }
}
