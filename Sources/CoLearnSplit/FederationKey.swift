import Crypto
import Foundation

/// Why a federation key or a sealed front update was refused.
public enum FrontUpdateError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The key text is not 64 hexadecimal digits.
  case malformedKey(String)
  /// The update's tag did not verify for the sequence number it was relayed under: it was
  /// sealed with another key, altered, or relayed out of order.
  case authenticationFailed(sequence: UInt64)
  /// The update decrypted but its contents are not a front update of this network.
  case malformedUpdate(sequence: UInt64, reason: String)

  public var description: String {
    switch self {
    case .malformedKey(let reason):
      return "invalid federation key: \(reason) (create one with `colearn split keygen --out FILE` "
        + "and give every participant the same file)"
    case .authenticationFailed(let sequence):
      return "front update \(sequence) does not authenticate: it was sealed with another "
        + "federation key, altered, or relayed out of order (check that every participant uses "
        + "the same --key file)"
    case .malformedUpdate(let sequence, let reason):
      return "front update \(sequence) is malformed: \(reason)"
    }
  }
}

/// The 256-bit secret the participants of a networked split-learning federation share out of
/// band (`colearn split keygen`), and never give to the coordinator.
///
/// It does two things:
/// - **seeds the initial front** (``frontSeed``), so that every participant starts from the
///   same front without the coordinator learning it;
/// - **seals the front updates** the participants relay to each other through the coordinator
///   (``seal(rate:gradient:sequence:)``, ``open(_:sequence:expectedCount:)``): AES-256-GCM with a
///   fresh random 96-bit nonce per update and the relay sequence number as associated data. The
///   front gradient is not noised and would reveal a participant's inputs; sealed, the
///   coordinator sees only its length. Binding the sequence number means the coordinator can
///   neither alter, forge, reorder nor replay an update without the receivers noticing.
///
/// Nonces: random 96-bit nonces stay collision-free with overwhelming probability for up to
/// 2³² updates per key (NIST SP 800-38D §8.3); a federation run sends far fewer (about 1,000
/// per MNIST epoch). Use a fresh key per federation.
public struct FederationKey: Sendable {
  /// The key length in bytes.
  public static let byteCount = 32

  let key: SymmetricKey

  /// A new key from the system's secure generator.
  public static func generate() -> FederationKey {
    FederationKey(key: SymmetricKey(size: .bits256))
  }

  private init(key: SymmetricKey) {
    self.key = key
  }

  /// The key written as 64 lowercase hexadecimal digits (the key file's content).
  ///
  /// - Throws: ``FrontUpdateError/malformedKey(_:)`` for anything but 64 hex digits
  ///   (surrounding white space is ignored).
  public init(hexadecimal text: String) throws(FrontUpdateError) {
    let digits = Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
    guard digits.count == 2 * Self.byteCount else {
      throw .malformedKey(
        "expected \(2 * Self.byteCount) hexadecimal digits, found \(digits.count) characters")
    }
    func nibble(_ c: UInt8) -> UInt8? {
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
      default: return nil
      }
    }
    var bytes: [UInt8] = []
    for pair in stride(from: 0, to: digits.count, by: 2) {
      guard let high = nibble(digits[pair]), let low = nibble(digits[pair + 1]) else {
        throw .malformedKey("not a hexadecimal digit near position \(pair)")
      }
      bytes.append(high << 4 | low)
    }
    key = SymmetricKey(data: bytes)
  }

  /// The key as 64 lowercase hexadecimal digits.
  public var hexadecimal: String {
    key.withUnsafeBytes { bytes in
      bytes.map { byte in
        let text = String(byte, radix: 16)
        return byte < 16 ? "0" + text : text
      }.joined()
    }
  }

  /// The seed of the initial front: the first 8 bytes (little-endian) of
  /// SHA-256("colearn.v1.split.front-init" ‖ key). Every holder of the key derives the same
  /// front; the coordinator cannot.
  public var frontSeed: UInt64 {
    var hash = SHA256()
    hash.update(data: Array("colearn.v1.split.front-init".utf8))
    key.withUnsafeBytes { hash.update(bufferPointer: $0) }
    let digest = Array(hash.finalize())
    return (0..<8).reduce(UInt64(0)) { $0 | UInt64(digest[$1]) << (8 * UInt64($1)) }
  }

  private static func associatedData(sequence: UInt64) -> [UInt8] {
    Array("colearn.v1.split.front-update".utf8)
      + (0..<8).map { UInt8(truncatingIfNeeded: sequence >> (8 * $0)) }
  }

  /// Seals one front update, to be published under relay sequence number `sequence`.
  ///
  /// Plaintext: rate (float32 LE) ‖ count (uint32 LE) ‖ count gradient values (float32 LE);
  /// result: nonce (12) ‖ ciphertext ‖ tag (16), 4·count + 36 bytes.
  ///
  /// - Complexity: O(count).
  public func seal(rate: Float, gradient: UnsafeBufferPointer<Float>, sequence: UInt64) -> [UInt8] {
    var plaintext = [UInt8]()
    plaintext.reserveCapacity(8 + 4 * gradient.count)
    withUnsafeBytes(of: rate.bitPattern.littleEndian) { plaintext.append(contentsOf: $0) }
    withUnsafeBytes(of: UInt32(gradient.count).littleEndian) { plaintext.append(contentsOf: $0) }
    for value in gradient {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { plaintext.append(contentsOf: $0) }
    }
    do {
      let box = try AES.GCM.seal(
        plaintext, using: key, authenticating: Self.associatedData(sequence: sequence))
      guard let combined = box.combined else {
        preconditionFailure("AES.GCM with the default 12-byte nonce always has a combined form")
      }
      return Array(combined)
    } catch {
      // Sealing fails only for an invalid key size or nonce, both fixed here.
      preconditionFailure("AES-GCM sealing failed: \(error)")
    }
  }

  /// Opens a relayed update and checks it is a front update of `expectedCount` finite values.
  ///
  /// - Throws: ``FrontUpdateError`` when the tag does not verify for `sequence` or the contents
  ///   are malformed.
  public func open(
    _ sealed: [UInt8], sequence: UInt64, expectedCount: Int
  ) throws(FrontUpdateError) -> (rate: Float, gradient: [Float]) {
    let plaintext: [UInt8]
    do {
      let box = try AES.GCM.SealedBox(combined: sealed)
      plaintext = Array(
        try AES.GCM.open(box, using: key, authenticating: Self.associatedData(sequence: sequence)))
    } catch {
      throw .authenticationFailed(sequence: sequence)
    }
    func word(at offset: Int) -> UInt32 {
      (0..<4).reduce(UInt32(0)) { $0 | UInt32(plaintext[offset + $1]) << (8 * UInt32($1)) }
    }
    guard plaintext.count >= 8 else {
      throw .malformedUpdate(sequence: sequence, reason: "\(plaintext.count) bytes")
    }
    let rate = Float(bitPattern: word(at: 0))
    let count = Int(word(at: 4))
    guard count == expectedCount, plaintext.count == 8 + 4 * count else {
      throw .malformedUpdate(
        sequence: sequence,
        reason: "\(count) values in \(plaintext.count) bytes, expected \(expectedCount) values")
    }
    guard rate.isFinite, rate >= 0 else {
      throw .malformedUpdate(sequence: sequence, reason: "learning rate \(rate)")
    }
    var gradient = [Float](repeating: 0, count: count)
    for j in 0..<count {
      let value = Float(bitPattern: word(at: 8 + 4 * j))
      guard value.isFinite else {
        throw .malformedUpdate(sequence: sequence, reason: "value \(j) is \(value)")
      }
      gradient[j] = value
    }
    return (rate, gradient)
  }
}
