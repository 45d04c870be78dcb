import CoLearnPrivacy
import Foundation

/// A participant's privacy ledger on disk (JSON), written durably: a temporary file, fsync,
/// rename, fsync of the directory. A deployed participant writes it after every charge and
/// before the upload that the charge pays for leaves (``DSSGDTurnRunner/ledgerCharged``).
public enum LedgerFile {
  /// The file's name in a participant's output directory.
  public static let fileName = "privacy-ledger.json"

  /// Writes `ledger` to `path` durably.
  ///
  /// - Throws: ``DurabilityError`` naming the file when it cannot be written.
  public static func write(_ ledger: PrivacyLedger, to path: String) throws(DurabilityError) {
    let bytes: [UInt8]
    do {
      bytes = Array(try JSONEncoder().encode(ledger))
    } catch {
      preconditionFailure("a ledger always encodes: \(error)")
    }
    let directory = (path as NSString).deletingLastPathComponent
    try DurableFile.replace(path, with: bytes, directory: directory.isEmpty ? "." : directory)
  }

  /// The ledger at `path`, or nil if there is none.
  ///
  /// - Throws: ``DurabilityError/notAStateFile(path:)`` for a file that is not a ledger, or an
  ///   I/O error.
  public static func read(from path: String) throws(DurabilityError) -> PrivacyLedger? {
    guard let bytes = try DurableFile.read(path) else { return nil }
    guard let ledger = try? JSONDecoder().decode(PrivacyLedger.self, from: Data(bytes)) else {
      throw .notAStateFile(path: path)
    }
    return ledger
  }
}
