import CoLearnPrivacy
import Foundation

/// A participant's privacy ledger on disk (JSON), written durably: a temporary file, fsync,
/// rename, fsync of the directory. A deployed participant writes it after every charge and
/// before the upload that the charge pays for leaves (``DSSGDTurnRunner/ledgerCharged``).
public enum LedgerFile {
  /// The file's name in a participant's output directory.
  public static let fileName = "privacy-ledger.json"

  /// Writes `ledger` to `path` durably, with a `unit` field stating what its ε protects
  /// (``PrivateUploadSelection/unit``; ignored when the file is read back).
  ///
  /// - Throws: ``DurabilityError`` naming the file when it cannot be written.
  public static func write(_ ledger: PrivacyLedger, to path: String) throws(DurabilityError) {
    try DurableJSON.write(StatedLedger(ledger: ledger), to: path)
  }

  /// The ledger's own fields and `unit`.
  private struct StatedLedger: Encodable {
    var ledger: PrivacyLedger
    enum Key: String, CodingKey { case unit }
    func encode(to encoder: any Encoder) throws {
      try ledger.encode(to: encoder)
      var container = encoder.container(keyedBy: Key.self)
      try container.encode(PrivateUploadSelection.unit, forKey: .unit)
    }
  }

  /// The ledger at `path`, or nil if there is none.
  ///
  /// - Throws: ``DurabilityError/notAStateFile(path:)`` for a file that is not a ledger, or an
  ///   I/O error.
  public static func read(from path: String) throws(DurabilityError) -> PrivacyLedger? {
    try DurableJSON.read(PrivacyLedger.self, from: path)
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
    try DurableJSON.write(charges, to: path)
  }

  /// The charges at `path`, or nil if there are none.
  public static func read(from path: String) throws(DurabilityError) -> DPSGDCharges? {
    try DurableJSON.read(DPSGDCharges.self, from: path)
  }
}

/// A value as a JSON file replaced durably (a temporary file, fsync, rename, fsync of the
/// directory), and read back with a file that does not decode named.
enum DurableJSON {
  static func write(_ value: some Encodable, to path: String) throws(DurabilityError) {
    let bytes: [UInt8]
    do {
      bytes = Array(try JSONEncoder().encode(value))
    } catch {
      preconditionFailure("\(type(of: value)) always encodes: \(error)")
    }
    let directory = (path as NSString).deletingLastPathComponent
    try DurableFile.replace(path, with: bytes, directory: directory.isEmpty ? "." : directory)
  }

  static func read<Value: Decodable>(_ type: Value.Type, from path: String) throws(DurabilityError)
    -> Value?
  {
    guard let bytes = try DurableFile.read(path) else { return nil }
    guard let value = try? JSONDecoder().decode(type, from: Data(bytes)) else {
      throw .notAStateFile(path: path)
    }
    return value
  }
}
