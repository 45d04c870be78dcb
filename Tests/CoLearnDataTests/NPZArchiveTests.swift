import CoLearnData
import Foundation
import Testing

@Suite struct NPZArchiveTests {
  func fixture(_ name: String) -> String { TestFiles.fixture(name) }

  /// `np.savez`: stored entries.
  @Test func readsStoredEntries() throws {
    let archive = try NPZArchive(contentsOfFile: fixture("npz_stored.npz"))
    #expect(archive.arrayNames == ["x_train", "y_train", "x_test", "y_test"])
    let x = try archive.array(named: "x_train")
    #expect(x.shape == [6, 2, 2])
    #expect(x.floatValues() == (0..<6).flatMap { n in (0..<4).map { Float(n * 10 + $0) } })
    #expect(try archive.array(named: "y_test").integerValues() == [2, 1, 0])
  }

  /// `np.savez_compressed`: deflated entries, inflated as raw deflate.
  @Test func readsDeflatedEntries() throws {
    let archive = try NPZArchive(contentsOfFile: fixture("npz_deflated.npz"))
    #expect(archive.arrayNames == ["x", "y"])
    let x = try archive.array(named: "x")
    #expect(x.elementType == .float64)
    #expect(x.shape == [4, 3])
    #expect(x.floatValues() == (0..<12).map { Float($0) / 4 })
    #expect(try archive.array(named: "y").integerValues() == [5, 7, 5, 7])
  }

  /// A directory whose sizes and offsets are all in ZIP64 extra fields.
  @Test func readsZIP64Directories() throws {
    let archive = try NPZArchive(contentsOfFile: fixture("npz_zip64.npz"))
    #expect(archive.arrayNames == ["x", "y"])
    #expect(try archive.array(named: "x").floatValues() == [1, 2, 3, 4])
    #expect(try archive.array(named: "y").integerValues() == [0, 1])
  }

  @Test func missingArrayListsWhatTheArchiveHas() throws {
    let path = fixture("npz_missing_y.npz")
    #expect(throws: DataError.missingArray(path: path, array: "y_train", available: ["x_train"])) {
      try ArraySamples.load(npz: path)
    }
    let message = DataError.missingArray(path: path, array: "y_train", available: ["x_train"])
      .description
    #expect(message.contains("no array 'y_train' (it holds x_train)"))
    let stored = fixture("npz_stored.npz")
    #expect(
      throws: DataError.missingArray(
        path: stored, array: "labels", available: ["x_train", "y_train", "x_test", "y_test"])
    ) {
      try NPZArchive(contentsOfFile: stored).array(named: "labels")
    }
  }

  @Test func damagedArchivesAreRefused() throws {
    let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture("npz_stored.npz"))))
    // Cut in the middle: no end-of-directory record any more.
    do {
      _ = try NPZArchive(bytes: Array(bytes.prefix(500)), path: "cut.npz")
      Issue.record("a cut archive was accepted")
    } catch {
      #expect(error.description.hasPrefix("cut.npz is not a ZIP archive"))
    }
    // A flipped byte inside x_train's data fails the CRC-32 check.
    let archive = try NPZArchive(bytes: bytes, path: "ok.npz")
    #expect(try archive.array(named: "x_train").elementCount == 24)
    var flipped = bytes
    // The local header's name (11 bytes), its 20-byte ZIP64 extra field, the 128-byte .npy
    // header, then the 24 pixel bytes.
    let data = try #require(findSubsequence(Array("x_train.npy".utf8), in: flipped)) + 11 + 20 + 130
    flipped[data] ^= 0xFF
    do {
      _ = try NPZArchive(bytes: flipped, path: "bad.npz").array(named: "x_train")
      Issue.record("a damaged entry was accepted")
    } catch {
      #expect(error.description.contains("CRC-32"), "\(error)")
    }
    // Not a ZIP at all.
    #expect(throws: DataError.self) {
      try NPZArchive(bytes: Array("hello, this is a csv file with no zip".utf8), path: "t.npz")
    }
  }

  /// The first position of `needle` in `haystack`.
  func findSubsequence(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
    guard haystack.count >= needle.count else { return nil }
    return (0...(haystack.count - needle.count)).first {
      Array(haystack[$0..<$0 + needle.count]) == needle
    }
  }
}
