import CoLearnData
import CoLearnPrivacy
import CoLearnSplit
import Foundation

/// The JSON files of a `colearn split simulate` run.
enum SplitRunRecord {
  /// `config.json`: the resolved settings.
  struct Configuration: Encodable {
    var command: String
    var boundary: String
    var epsilon: String
    var split: SplitConfiguration
    var architecture: [String]
    var frontParameters: Int
    var backParameters: Int
    var valuesPerSample: Int
    var dataset: String
    var dataDirectory: String
    var normalization: Normalization
    var partition: String
    var shardSize: Int
    var testSamples: Int
    var epochs: Int
    var evalEvery: Int
    var seed: UInt64
    var threads: Int
    var noise: String
    var evaluation: String
    var blas: String
  }

  /// `summary.json`.
  struct Summary: Encodable {
    var epsilon: String
    var epochs: Int
    var finalTestAccuracy: Double
    var finalTestLoss: Double
    var bestTestAccuracy: Double
    var steps: Int
    var valuesSent: Int
    var frontsIdentical: Bool
    var wallSeconds: Double
  }

  /// One row of a sweep.
  struct SweepRow {
    var epsilon: String
    var finalTestAccuracy: Double
    var bestTestAccuracy: Double
    var wallSeconds: Double
    var directory: String
  }

  /// `privacy.json`: what ε means in this run (three units, composed over the epochs), the
  /// participants' ledgers, and what crossed the boundary besides the noised values.
  struct Privacy: Encodable {
    struct Unit: Encodable {
      var unit: String
      var epsilonPerEpoch: Double?
      var total: PrivacyGuarantee?
    }
    struct Participant: Encodable {
      var id: Int
      var samples: Int
      var ledger: PrivacyLedger
      var basicTotal: PrivacyGuarantee
    }
    /// What every ε below bounds, and what it does not.
    var scope = Self.scope
    var boundary: SplitBoundary
    var noise: String
    var batchSize: Int
    var valuesPerSample: Int
    var epochs: Int
    var deltaPrime: Double
    var units: [Unit]
    var participants: [Participant]
    var auditRows: Int
    var notProtected: [String]

    /// The record of a simulation: every participant's ledger.
    init(
      account: SplitPrivacyAccount, simulation: SplitSimulation, noise: NoiseSource?,
      auditRows: Int
    ) {
      self.init(
        account: account,
        participants: simulation.participants.map {
          Participant(
            id: $0.id, samples: $0.samples.count, ledger: $0.ledger,
            basicTotal: $0.ledger.basicTotal)
        },
        noise: noise, auditRows: auditRows)
    }

    /// The record of `participants` (for `split participate`, its own ledger alone).
    init(
      account: SplitPrivacyAccount, participants: [Participant], noise: NoiseSource?,
      auditRows: Int
    ) {
      boundary = account.boundary
      self.noise = noise?.description ?? "none (ε = inf): values cross unchanged"
      batchSize = account.batchSize
      valuesPerSample = account.valuesPerSample
      epochs = account.epochs
      deltaPrime = account.deltaPrime
      func unit(_ name: String, _ perEpoch: Double?) -> Unit {
        Unit(unit: name, epsilonPerEpoch: perEpoch, total: perEpoch.map { account.total(perEpoch: $0) })
      }
      units = [
        unit("per crossing: one value (the paper's ε)", account.epsilonPerValue),
        unit(
          "per crossing: one sample's own values (basic composition over d)",
          account.epsilonPerSampleOwnValues),
      ]
      if account.boundary == .features {
        units.append(
          unit(
            "per crossing: one sample with BatchNorm's batch coupling (L1 bound 2B per feature "
              + "column)",
            account.epsilonPerSampleWholeBatch))
      }
      self.participants = participants
      self.auditRows = auditRows
      notProtected = [
        "labels: sent to the coordinator in the clear with every batch",
        "front gradients: the sender shares its front gradient (not noised) with the other "
          + "participants so that every front takes the same step",
        "the coordinator's feature gradients are a function of what it received (post-processing)",
      ]
    }

    static let scope =
      "per crossing: each ε bounds one release of noised values at the boundary, excluding the "
      + "front-update channel and the labels. It is NOT an upper bound on what the coordinator "
      + "learns about an image: every participant applies an un-noised front update computed on "
      + "raw images, which changes every feature sent afterwards, and labels cross in the clear."
  }
}

/// `audit.csv` (and, with `--audit-values`, `audit-values.f32` and `audit-labels.i32`): one row
/// per step with what crossed the boundary and its privacy parameters, so that a user can check
/// exactly what the coordinator saw.
final class SplitAudit {
  static let columns = [
    "step", "epoch", "participant", "batch_size", "boundary", "values", "labels_in_clear",
    "epsilon", "center", "bound", "sensitivity", "noise_scale", "applied_scale", "grid_step",
    "gradient_values_returned", "front_gradient_values_shared", "value_offset",
  ]

  private let csv: FileHandle
  private let values: FileHandle?
  private let labels: FileHandle?
  private var valueOffset = 0
  /// Rows written.
  private(set) var rows = 0

  private let extraColumnCount: Int

  /// `extraColumns` follow the standard ones (`split participate` adds the sealed front
  /// update's size and relay sequence number).
  init(directory: URL, dumpValues: Bool, extraColumns: [String] = []) throws {
    extraColumnCount = extraColumns.count
    func create(_ name: String, _ contents: Data = Data()) throws -> FileHandle {
      let path = directory.appendingPathComponent(name).path
      guard FileManager.default.createFile(atPath: path, contents: contents),
        let handle = FileHandle(forWritingAtPath: path)
      else {
        throw CLIError("cannot write \(path): check that the directory is writable")
      }
      handle.seekToEndOfFile()
      return handle
    }
    csv = try create(
      "audit.csv", Data(((Self.columns + extraColumns).joined(separator: ",") + "\n").utf8))
    values = dumpValues ? try create("audit-values.f32") : nil
    labels = dumpValues ? try create("audit-labels.i32") : nil
  }

  /// Appends one crossing.
  func record(_ crossing: BoundaryCrossing, extra: [String] = []) throws {
    precondition(extra.count == extraColumnCount, "audit row with the wrong number of columns")
    let r = crossing.record
    let row: [String] = [
      "\(r.step)", "\(r.epoch)", "\(r.participant)", "\(r.batchSize)", r.boundary.rawValue,
      "\(r.valueCount)", "\(r.labelCount)", r.epsilon.map { "\($0)" } ?? "inf", "\(r.center)",
      "\(r.bound)", "\(r.sensitivity)", "\(r.nominalScale)", "\(r.appliedScale)",
      "\(r.gridStep)", "\(r.gradientValuesReturned)", "\(r.frontGradientValuesShared)",
      values == nil ? "" : "\(valueOffset)",
    ] + extra
    csv.write(Data((row.joined(separator: ",") + "\n").utf8))
    if let values, let labels {
      // Little-endian on every platform colearn builds for (x86-64, arm64).
      values.write(Data(buffer: crossing.values))
      labels.write(Data(buffer: crossing.labels))
      valueOffset += crossing.values.count
    }
    rows += 1
  }

  func close() {
    try? csv.close()
    try? values?.close()
    try? labels?.close()
  }
}
