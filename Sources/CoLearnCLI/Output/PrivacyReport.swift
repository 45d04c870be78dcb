import CoLearnDSSGD
import CoLearnPrivacy
import Foundation

/// What `colearn simulate` tells about privacy: a loud warning for seeded noise, a line when a
/// participant's budget stops it, and at the end `privacy-ledger.json` and a short table.
struct PrivacyReport {
  let settings: PrivacySettings
  let selection: SelectionCriterion
  /// Participants already reported as stopped.
  private var announced = Set<Int>()

  init(settings: PrivacySettings, selection: SelectionCriterion) {
    self.settings = settings
    self.selection = selection
  }

  /// What protects the uploads, with the unit of ε, and a loud warning for seeded noise.
  var banner: String {
    UploadPrivacy.statement(
      selection: selection, privacy: settings, dpsgd: nil, delta: settings.delta, for: .simulation
    ).joined(separator: "\n")
  }

  /// Lines for participants that stopped uploading since the last call.
  mutating func newStops(in participants: [Participant], round: Int) -> [String] {
    var lines: [String] = []
    for participant in participants {
      guard let reason = participant.privacy?.ledger.stopReason,
        announced.insert(participant.id).inserted
      else { continue }
      lines.append("participant \(participant.id) stopped uploading in round \(round): \(reason)")
    }
    return lines
  }

  /// One participant's account, as written to `privacy-ledger.json`.
  struct Entry: Encodable {
    var participant: Int
    var epochs: Int
    var uploads: Int
    /// The guarantee by basic composition: Σ ε over every epoch in which the mechanism ran.
    var totalEpsilon: Double
    /// Advanced composition (Dwork–Rothblum–Vadhan) for ``delta``; nil when it overflows (e^ε
    /// for a large per-epoch ε), where basic composition is the bound.
    var advancedEpsilon: Double?
    var advancedDelta: Double
    /// The paper's bookkeeping (ε/c per upload); not a guarantee.
    var uploadCharges: Double
    var stopReason: String?
    var ledger: PrivacyLedger
  }

  struct Ledger: Encodable {
    /// What ε protects, and over what.
    var unit = PrivateUploadSelection.unit
    var selection: String
    var epsilonPerEpoch: Double
    /// ε/c, the paper's Figure 13 axis.
    var epsilonPerUpload: Double
    var budget: Double?
    var delta: Double
    var secureNoise: Bool
    var participants: [Entry]
  }

  func ledger(for participants: [Participant], capacity: Int) -> Ledger {
    let entries = participants.compactMap { participant -> Entry? in
      guard let ledger = participant.privacy?.ledger else { return nil }
      let advanced = ledger.advancedTotal(deltaPrime: settings.delta)
      return Entry(
        participant: participant.id, epochs: ledger.epochs.count, uploads: ledger.uploads,
        totalEpsilon: ledger.spentEpsilon,
        advancedEpsilon: advanced.epsilon.isFinite ? advanced.epsilon : nil,
        advancedDelta: advanced.delta, uploadCharges: ledger.uploadCharges,
        stopReason: ledger.stopReason?.description, ledger: ledger)
    }
    return Ledger(
      selection: selection.rawValue, epsilonPerEpoch: settings.epsilon,
      epsilonPerUpload: settings.epsilon / Double(capacity),
      budget: settings.budget?.totalEpsilon, delta: settings.delta,
      secureNoise: !settings.insecureSeededNoise, participants: entries)
  }

  /// The end-of-run table: one row per participant for small federations, else the range over
  /// participants.
  func table(_ ledger: Ledger) -> String {
    var table = Table(headers: [
      "participant", "epochs", "uploads", "ε/epoch", "ε/c", "total ε (basic)",
      "total ε (advanced, δ=\(ledger.delta))", "paper's Σ ε/c", "stopped",
    ])
    func range(_ values: [Double], _ digits: Int) -> String {
      let low = values.min() ?? 0
      let high = values.max() ?? 0
      return low == high ? format(low, digits) : "\(format(low, digits))–\(format(high, digits))"
    }
    let perUpload = String(format: "%.3g", ledger.epsilonPerUpload)
    let perEpoch = String(format: "%.6g", ledger.epsilonPerEpoch)
    let entries = ledger.participants
    if entries.count <= 10 {
      for entry in entries {
        table.add([
          "\(entry.participant)", "\(entry.epochs)", "\(entry.uploads)",
          perEpoch, perUpload, format(entry.totalEpsilon, 3),
          entry.advancedEpsilon.map { format($0, 3) } ?? "∞", format(entry.uploadCharges, 3),
          entry.stopReason == nil ? "no" : "yes",
        ])
      }
    } else {
      table.add([
        "all \(entries.count)", range(entries.map { Double($0.epochs) }, 0),
        range(entries.map { Double($0.uploads) }, 0), perEpoch, perUpload,
        range(entries.map(\.totalEpsilon), 3),
        range(entries.map { $0.advancedEpsilon ?? .infinity }, 3),
        range(entries.map(\.uploadCharges), 3),
        "\(entries.filter { $0.stopReason != nil }.count)",
      ])
    }
    let noise = ledger.secureNoise ? "secure noise" : "SEEDED NOISE: NOT PRIVATE"
    return "privacy ledger (\(ledger.selection), \(noise)) — ε is \(ledger.unit):\n" + table.render()
  }
}
