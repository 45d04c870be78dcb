import CoLearnData
import Testing

/// NIST FIPS 180-4 example vectors (csrc.nist.gov, "SHA256.pdf" and the "abc" /
/// 448-bit / one-million-'a' messages of the SHA test suite).
@Suite struct SHA256Tests {
  @Test func emptyMessage() {
    #expect(
      SHA256.hexDigest([UInt8]())
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  }

  @Test func abc() {
    #expect(
      SHA256.hexDigest(Array("abc".utf8))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  }

  @Test func twoBlockMessage448Bits() {
    let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    #expect(
      SHA256.hexDigest(Array(message.utf8))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  @Test func oneMillionA() {
    let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
    #expect(
      SHA256.hexDigest(message)
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  /// Feeding the message in uneven pieces gives the same digest as one call.
  @Test func incrementalUpdatesMatchOneShot() {
    let message = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
    var hasher = SHA256()
    var start = 0
    for size in [1, 3, 63, 64, 65, 127, 200, 477] where start < message.count {
      let end = min(start + size, message.count)
      message[start..<end].withUnsafeBytes { hasher.update($0) }
      start = end
    }
    #expect(hasher.finalize() == SHA256.hash(message))
  }
}
