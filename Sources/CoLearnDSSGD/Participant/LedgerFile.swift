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

/// A DP-SGD participant's charges on disk (JSON, ``DPSGDCharges``), written durably like
/// ``LedgerFile`` before every upload (``DSSGDTurnRunner/dpsgdCharged``) and read back when the
/// participant restarts, so that no charged step is forgotten.
public enum DPSGDChargesFile {
  /// The file's name in a participant's output directory.
  public static let fileName = "dpsgd-charges.json"

  /// Writes `charges` to `path` durably.
  public static func write(_ charges: DPSGDCharges, to path: String) throws(DurabilityError) {
    let bytes: [UInt8]
    do {
      bytes = Array(try JSONEncoder().encode(charges))
    } catch {
      preconditionFailure("charges always encode: \(error)")
    }
    let directory = (path as NSString).deletingLastPathComponent
    try DurableFile.replace(path, with: bytes, directory: directory.isEmpty ? "." : directory)
  }

  /// The charges at `path`, or nil if there are none.
  public static func read(from path: String) throws(DurabilityError) -> DPSGDCharges? {
    guard let bytes = try DurableFile.read(path) else { return nil }
    guard let charges = try? JSONDecoder().decode(DPSGDCharges.self, from: Data(bytes)) else {
      throw .notAStateFile(path: path)
    }
    return charges
  }
}
