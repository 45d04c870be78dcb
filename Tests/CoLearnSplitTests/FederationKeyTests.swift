import CoLearnSplit
import Testing

/// Sealing and opening front updates (AES-256-GCM bound to the relay sequence number), the key
/// file's text form, and the initial front every key holder derives.
@Suite struct FederationKeyTests {
  let key = try! FederationKey(hexadecimal: String(repeating: "0123456789abcdef", count: 4))
  let gradient: [Float] = [0.5, -1.25, 3, 0, 1e-7]

  private func seal(_ key: FederationKey, sequence: UInt64) -> [UInt8] {
    gradient.withUnsafeBufferPointer { key.seal(rate: 0.01, gradient: $0, sequence: sequence) }
  }

  @Test func anUpdateOpensUnderItsSequenceNumber() throws {
    let sealed = seal(key, sequence: 7)
    #expect(sealed.count == 4 * gradient.count + 36)
    let opened = try key.open(sealed, sequence: 7, expectedCount: gradient.count)
    #expect(opened.rate == 0.01)
    #expect(opened.gradient == gradient)
    // A fresh nonce each time: sealing the same update twice gives different bytes.
    #expect(seal(key, sequence: 7) != sealed)
  }

  @Test func anotherSequenceKeyOrAlteredByteIsRefused() throws {
    let sealed = seal(key, sequence: 7)
    #expect(throws: FrontUpdateError.authenticationFailed(sequence: 8)) {
      _ = try key.open(sealed, sequence: 8, expectedCount: gradient.count)
    }
    let other = FederationKey.generate()
    #expect(throws: FrontUpdateError.authenticationFailed(sequence: 7)) {
      _ = try other.open(sealed, sequence: 7, expectedCount: gradient.count)
    }
    var altered = sealed
    altered[20] ^= 1
    #expect(throws: FrontUpdateError.authenticationFailed(sequence: 7)) {
      _ = try key.open(altered, sequence: 7, expectedCount: gradient.count)
    }
    #expect(throws: FrontUpdateError.authenticationFailed(sequence: 7)) {
      _ = try key.open([1, 2, 3], sequence: 7, expectedCount: gradient.count)
    }
    #expect(throws: FrontUpdateError.self) {
      _ = try key.open(sealed, sequence: 7, expectedCount: gradient.count + 1)
    }
  }

  @Test func theKeyTextRoundTripsAndBadTextIsRefused() throws {
    let generated = FederationKey.generate()
    let text = generated.hexadecimal
    #expect(text.count == 64)
    let parsed = try FederationKey(hexadecimal: text + "\n")
    #expect(parsed.hexadecimal == text)
    #expect(parsed.frontSeed == generated.frontSeed)
    #expect(throws: FrontUpdateError.self) { _ = try FederationKey(hexadecimal: "abc") }
    #expect(throws: FrontUpdateError.self) {
      _ = try FederationKey(hexadecimal: String(repeating: "g", count: 64))
    }
  }

  @Test func keyHoldersDeriveTheSameInitialFront() throws {
    let architecture = SplitArchitecture.paper
    let a = SplitFront.initialParameters(architecture: architecture, key: key)
    let b = SplitFront.initialParameters(
      architecture: architecture, key: try FederationKey(hexadecimal: key.hexadecimal))
    #expect(a == b)
    #expect(a != SplitFront.initialParameters(architecture: architecture, key: .generate()))
  }
}
