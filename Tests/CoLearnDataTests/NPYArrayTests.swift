import CoLearnData
import Foundation
import Testing

/// Golden values: the fixtures of `Tests/Fixtures/data/make_numpy_fixtures.py` are simple
/// formulas, recomputed here.
@Suite struct NPYArrayTests {
  func fixture(_ name: String) -> String { TestFiles.fixture(name) }

  @Test func readsTheThreeFormatVersions() throws {
    let expected: [Float] = (0..<6).map { Float($0) * 0.5 - 1 }
    let v1 = try NPYArray(contentsOfFile: fixture("npy_f4_v1.npy"))
    #expect(v1.name == "npy_f4_v1")
    #expect(v1.elementType == .float32)
    #expect(v1.shape == [3, 2])
    #expect(v1.floatValues() == expected)
    let v2 = try NPYArray(contentsOfFile: fixture("npy_f8_v2.npy"))
    #expect(v2.elementType == .float64)
    #expect(v2.shape == [3, 2])
    #expect(v2.floatValues() == expected)
    let v3 = try NPYArray(contentsOfFile: fixture("npy_u1_v3.npy"))
    #expect(v3.elementType == .uint8)
    #expect(v3.shape == [2, 2, 2])
    #expect(v3.floatValues() == (0..<8).map { Float($0 * 30) })
  }

  @Test func readsIntegerAndBoolArrays() throws {
    let i8 = try NPYArray(contentsOfFile: fixture("npy_i8.npy"))
    #expect(i8.elementType == .int64)
    #expect(try i8.integerValues() == [3, 1, 2, 3])
    let i4 = try NPYArray(contentsOfFile: fixture("npy_i4.npy"))
    #expect(i4.elementType == .int32)
    #expect(try i4.integerValues() == [-1, 0, 7, 1000])
    #expect(i4.floatValues() == [-1, 0, 7, 1000])
    let b1 = try NPYArray(contentsOfFile: fixture("npy_b1.npy"))
    #expect(b1.elementType == .bool)
    #expect(try b1.integerValues() == [1, 0, 1])
    // Whole floats are labels; others are not.
    #expect(try NPYArray(contentsOfFile: fixture("npy_f8_v2.npy")).floatValues().count == 6)
    do {
      _ = try NPYArray(contentsOfFile: fixture("npy_f8_v2.npy")).integerValues()
      Issue.record("-0.5 was accepted as a label")
    } catch {
      #expect(error.description.contains("element 1 is -0.5"))
    }
  }

  @Test func fortranOrderAndBigEndianAreRefusedWithTheFix() throws {
    do {
      _ = try NPYArray(contentsOfFile: fixture("npy_fortran.npy"))
      Issue.record("Fortran order was accepted")
    } catch {
      #expect(error.description.contains("array 'npy_fortran'"))
      #expect(error.description.contains("np.ascontiguousarray"))
    }
    do {
      _ = try NPYArray(contentsOfFile: fixture("npy_bigendian.npy"))
      Issue.record("a big-endian array was accepted")
    } catch {
      #expect(error.description.contains("'>f4' is big-endian"))
    }
  }

  @Test func truncatedDataNamesTheArrayAndTheByteCounts() throws {
    let path = fixture("npy_truncated.npy")
    #expect(
      throws: DataError.truncatedArray(
        path: path, array: "npy_truncated", expectedBytes: 24, actualBytes: 19)
    ) {
      try NPYArray(contentsOfFile: path)
    }
    #expect(
      DataError.truncatedArray(path: "a.npz", array: "x", expectedBytes: 24, actualBytes: 19)
        .description.contains("announces 24 bytes of data, the file holds 19"))
  }

  @Test func badMagicAndBadHeadersAreRefused() throws {
    do {
      _ = try NPYArray(contents: Array("PK\u{3}\u{4}not numpy".utf8), path: "x.npy", name: "x")
      Issue.record("bad magic was accepted")
    } catch {
      #expect(error.description.contains("x.npy (array 'x') is not a NumPy .npy"))
      #expect(error.description.contains("50 4b 03 04"))
    }
    var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("npy_f4_v1.npy"))))
    bytes[6] = 9
    #expect(throws: DataError.self) { try NPYArray(contents: bytes, path: "v.npy", name: "v") }
    let header = "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"
    var complex: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0]
    complex += Array(header.utf8) + [UInt8](repeating: 0, count: 8)
    do {
      _ = try NPYArray(contents: complex, path: "c.npy", name: "c")
      Issue.record("a complex dtype was accepted")
    } catch {
      #expect(error.description.contains("'<c8' is not supported"))
    }
  }
}
