import Foundation
import Synchronization

/// What the server knows of each participant for the operator (`colearn status`, the run
/// record's reported-accuracy columns, `/metrics`): when it joined, its last upload, how many
/// uploads were applied, its latest self-reported figures (colearn.proto's Report) — and the
/// global model's evaluations. Kept in memory since the process started; a restart begins a new
/// roster (the idempotency record, which survives, still gives each participant's last round).
///
/// Threading: a leaf lock of its own, so reading it never waits for a turn or an upload.
public final class ParticipantRoster: Sendable {
  /// One participant's row.
  public struct Entry: Sendable, Equatable {
    public var name: String
    public var joined: Bool
    public var joinedAt: Date
    public var lastUploadAt: Date?
    public var uploads: UInt64 = 0
    public var report: Colearn_V1_ReportRequest?
    public var reportedAt: Date?
  }

  /// The figures of the latest reports, over the participants that sent one.
  public struct ReportedAccuracy: Sendable, Equatable {
    public var reports: Int
    public var mean: Double
    public var min: Double
    public var max: Double
  }

  /// The most global evaluations kept (the oldest go first).
  public static let evaluationLimit = 1_000

  private struct State {
    var entries: [Entry] = []
    var indexByName: [String: Int] = [:]
    var evaluations: [Colearn_V1_GlobalEvaluation] = []
  }

  private let state = Mutex(State())
  private let now: @Sendable () -> Date

  /// A roster whose clock is `now` (tests pass a fixed one).
  public init(now: @escaping @Sendable () -> Date = Date.init) {
    self.now = now
  }

  func joined(_ name: String) {
    let time = now()
    state.withLock { state in
      if let index = state.indexByName[name] {
        state.entries[index].joined = true
      } else {
        state.indexByName[name] = state.entries.count
        state.entries.append(Entry(name: name, joined: true, joinedAt: time))
      }
    }
  }

  func left(_ name: String) {
    state.withLock { state in
      if let index = state.indexByName[name] { state.entries[index].joined = false }
    }
  }

  func uploaded(_ name: String) {
    let time = now()
    state.withLock { state in
      guard let index = state.indexByName[name] else { return }
      state.entries[index].uploads += 1
      state.entries[index].lastUploadAt = time
    }
  }

  /// Keeps `report` (already validated, without its participant id) as `name`'s latest.
  func reported(_ name: String, _ report: Colearn_V1_ReportRequest) {
    let time = now()
    state.withLock { state in
      guard let index = state.indexByName[name] else { return }
      state.entries[index].report = report
      state.entries[index].reportedAt = time
    }
  }

  /// Records the global model's accuracy and loss after `round` completed rounds.
  public func evaluated(round: UInt64, accuracy: Double, loss: Double) {
    var evaluation = Colearn_V1_GlobalEvaluation()
    evaluation.round = round
    evaluation.accuracy = accuracy
    evaluation.loss = loss
    state.withLock { state in
      state.evaluations.append(evaluation)
      if state.evaluations.count > Self.evaluationLimit {
        state.evaluations.removeFirst(state.evaluations.count - Self.evaluationLimit)
      }
    }
  }

  /// Every participant seen since the start, in join order.
  public var entries: [Entry] { state.withLock { $0.entries } }

  /// The global evaluations kept, oldest first.
  public var evaluations: [Colearn_V1_GlobalEvaluation] { state.withLock { $0.evaluations } }

  /// Mean, minimum and maximum of every participant's latest reported accuracy — those that
  /// have left included, so that the last round's figures do not depend on who left first
  /// (nil: none has reported).
  public var reportedAccuracy: ReportedAccuracy? {
    let accuracies = entries.compactMap { $0.report?.testAccuracy }
    guard let first = accuracies.first else { return nil }
    return ReportedAccuracy(
      reports: accuracies.count, mean: accuracies.reduce(0, +) / Double(accuracies.count),
      min: accuracies.reduce(first, Swift.min), max: accuracies.reduce(first, Swift.max))
  }

  /// What is wrong with a report's figures (nil: nothing).
  static func problem(with report: Colearn_V1_ReportRequest) -> String? {
    if !(0...1).contains(report.testAccuracy) {
      return "test_accuracy \(report.testAccuracy) is outside [0, 1]"
    }
    if report.testLoss.isNaN || report.testLoss < 0 {
      return "test_loss \(report.testLoss) is not a number ≥ 0 (+∞ for a diverged model)"
    }
    if report.hasEpsilon, !report.epsilon.isFinite || report.epsilon < 0 {
      return "epsilon \(report.epsilon) is not a finite number ≥ 0 (leave it unset without DP)"
    }
    if !(report.delta >= 0 && report.delta < 1) {
      return "delta \(report.delta) is outside [0, 1)"
    }
    if report.privacyUnit.utf8.count > 200 {
      return "privacy_unit is \(report.privacyUnit.utf8.count) bytes long, more than 200"
    }
    return nil
  }
}

extension ParticipantRoster.Entry {
  /// colearn.proto's ParticipantStatus, with `lastRound` from the idempotency record.
  func proto(lastRound: UInt64) -> Colearn_V1_ParticipantStatus {
    var status = Colearn_V1_ParticipantStatus()
    status.name = name
    status.joined = joined
    status.joinedUnixMs = Int64(joinedAt.timeIntervalSince1970 * 1000)
    status.lastUploadUnixMs = lastUploadAt.map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
    status.uploads = uploads
    status.lastRound = lastRound
    if let report { status.report = report }
    status.reportUnixMs = reportedAt.map { Int64($0.timeIntervalSince1970 * 1000) } ?? 0
    return status
  }
}
