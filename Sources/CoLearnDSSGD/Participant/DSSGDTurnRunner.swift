import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import CoLearnWire

/// One participant's side of distributed selective SGD (SPEC §6, paper §5.1), against any
/// ``ParameterServerClient``: download θ_d of w_global over the local model → one local epoch →
/// Δw = w_new − w_old → select at most k = ⌈θ_u·|w|⌉ entries → bound by γ → upload.
///
/// A runner owns the workspaces of a turn (network, trainer, the Δw buffer, selection state) and can run the turns of any number of participants one after the other, so a
/// simulation needs one runner per worker, not per participant.
///
/// Threading: one thread at a time.
public final class DSSGDTurnRunner: @unchecked Sendable {
  /// The DSSGD settings.
  public let configuration: DSSGDConfiguration
  private let trainer: Trainer
  /// The DP-SGD trainer, with ``DSSGDConfiguration/dpsgd``; each participant's
  /// ``Participant/dpsgd`` holds its noise and charges.
  public let privateTrainer: DPSGDTrainer?
  private var selector: any UpdateSelector
  private var sparseVector = SparseVectorTechnique()
  private var exponential = ExponentialMechanism()
  /// Δw of the turn: the trainer writes the change of every parameter over the epoch.
  private var delta: [Float]
  /// Counts of the turns since the last ``takeStatistics()``.
  private var statistics = RoundStatistics(round: 0)

  /// Called with the participant's ledger after a private selection charged it and before the
  /// upload leaves: a deployed participant writes it durably here, so that no crash after the
  /// upload can resume with a ledger that lacks the epoch. An error stops the turn before the
  /// upload.
  public var ledgerCharged: ((PrivacyLedger) throws -> Void)?

  /// Called with the participant's DP-SGD charges after its epoch of DP-SGD and before the
  /// upload leaves (as ``ledgerCharged`` for the private selections): a deployed participant
  /// writes them durably here. An error stops the turn before the upload.
  public var dpsgdCharged: ((DPSGDCharges) throws -> Void)?

  /// A runner training `network` (whose parameter count is |w|).
  public init(network: Network, training: SGDConfiguration, configuration: DSSGDConfiguration) {
    self.configuration = configuration
    trainer = Trainer(network: network, configuration: training)
    privateTrainer = configuration.dpsgd.map { dpsgd in
      guard
        let trainer = try? DPSGDTrainer(
          network: network, configuration: training, privacy: dpsgd.training)
      else {
        preconditionFailure("DP-SGD on a network that mixes samples: check network.mixesSamples first")
      }
      return trainer
    }
    switch configuration.selection {
    case .largest: selector = LargestSelector()
    case .threshold: selector = ThresholdSelector(threshold: configuration.threshold)
    case .svt, .exponential: selector = LargestSelector()  // unused: see privateSelection
    }
    delta = [Float](repeating: 0, count: network.parameterCount)
  }

  /// |w|.
  public var dimension: Int { delta.count }

  /// Runs one turn of `participant`.
  ///
  /// - Parameters:
  ///   - server: receives the upload; also serves the download unless `downloadFrom` is given.
  ///   - downloadFrom: another view of the server to download from (`async` uses the previous
  ///     round's state for stale downloads).
  /// - Returns: the server's sequence number of the upload.
  /// - Throws: whatever the server throws; when the download or upload fails, the participant's
  ///   model may have been trained but nothing was added to the server.
  @discardableResult
  public func takeTurn(
    _ participant: inout Participant, server: some ParameterServerClient,
    downloadFrom: (any ParameterServerClient)? = nil
  ) throws -> UInt64 {
    precondition(server.dimension == dimension, "the server has |w| = \(server.dimension)")
    guard configuration.order != .async else {
      return try turn(&participant, server: server, downloadFrom: downloadFrom)
    }
    // round-robin and random-order: the server is held from the download to the upload (a
    // remote server's lease; nothing in process, where turns already run one at a time), and
    // given back even when the turn fails.
    try server.beginTurn()
    let sequence: UInt64
    do {
      sequence = try turn(&participant, server: server, downloadFrom: downloadFrom)
    } catch {
      try? server.endTurn()
      throw error
    }
    try server.endTurn()
    return sequence
  }

  private func turn(
    _ participant: inout Participant, server: some ParameterServerClient,
    downloadFrom: (any ParameterServerClient)?
  ) throws -> UInt64 {
    let k = fractionCount(configuration.uploadFraction, of: dimension)
    let downloadStart = monotonicSeconds()
    // 1. Download θ_d of the global parameters over the local model.
    let received = try participant.model.parameters.withUnsafeMutableBufferPointer { w in
      try (downloadFrom ?? server).download(fraction: configuration.downloadFraction, into: w)
    }
    statistics.downloadedParameters += received.parameters
    statistics.downloadBytes += received.bytes
    // 2–3. One local epoch, and Δw = w_new − w_old for every parameter (w_old: the local
    // model after the download), which the trainer produces with the epoch's write-back.
    let trainStart = monotonicSeconds()
    statistics.exchangeSeconds += trainStart - downloadStart
    if let privateTrainer {
      // DP-SGD: Δw = w_new − w_old around the epoch (every upload is post-processing of it).
      guard var state = participant.dpsgd else {
        preconditionFailure("a DP-SGD run with a participant without DP-SGD state")
      }
      delta.withUnsafeMutableBufferPointer { d in
        participant.model.parameters.withUnsafeBufferPointer { d.baseAddress!.update(from: $0.baseAddress!, count: d.count) }
      }
      defer { participant.dpsgd = state }
      _ = try state.trainEpoch(
        privateTrainer, &participant.model, on: participant.samples, using: &participant.generator)
      participant.model.parameters.withUnsafeBufferPointer { w in
        for j in 0..<delta.count { delta[j] = w[j] - delta[j] }
      }
      try dpsgdCharged?(state.charges)
    } else {
      delta.withUnsafeMutableBufferPointer { changes in
        _ = trainer.trainEpoch(
          &participant.model, on: participant.samples, using: &participant.generator,
          changes: changes)
      }
    }
    let selectStart = monotonicSeconds()
    statistics.trainSeconds += selectStart - trainStart
    // 4–5. Select, bound, upload.
    let upload: SparseVector
    if configuration.selection.isPrivate {
      guard let chosen = try privateSelection(&participant, count: k) else {
        // The participant's privacy budget is spent: it keeps training, and uploads nothing.
        statistics.selectSeconds += monotonicSeconds() - selectStart
        return 0
      }
      upload = chosen
      if let ledger = participant.privacy?.ledger { try ledgerCharged?(ledger) }
    } else {
      upload = delta.withUnsafeBufferPointer { d in
        selector.select(
          from: d, count: k, bound: configuration.bound, using: &participant.generator)
      }
    }
    let uploadStart = monotonicSeconds()
    statistics.selectSeconds += uploadStart - selectStart
    let sequence = try server.upload(upload)
    statistics.exchangeSeconds += monotonicSeconds() - uploadStart
    statistics.uploadedParameters += upload.count
    statistics.uploadBytes += SparseCodec.encodedByteCount(upload)
    return sequence
  }

  /// The sparse vector technique or the exponential mechanism on Δw, charged to the
  /// participant's ledger; nil when the ledger refuses the epoch (budget spent).
  private func privateSelection(_ participant: inout Participant, count k: Int) throws
    -> SparseVector?
  {
    guard var privacy = participant.privacy, let settings = configuration.privacy,
      let gamma = configuration.bound
    else {
      preconditionFailure("a private selection criterion without privacy settings and γ")
    }
    defer { participant.privacy = privacy }
    guard privacy.ledger.beginEpoch(epsilon: settings.epsilon, capacity: k) else { return nil }
    let (vector, report) = try delta.withUnsafeBufferPointer { d throws(PrivacyError) in
      configuration.selection == .svt
        ? try sparseVector.select(
          delta: d, count: k, bound: gamma, threshold: configuration.threshold,
          epsilon: settings.epsilon, noise: &privacy.noise)
        : try exponential.select(
          delta: d, count: k, bound: gamma, epsilon: settings.epsilon, noise: &privacy.noise)
    }
    privacy.ledger.record(report)
    return vector
  }

  /// The counts (training seconds, parameters and bytes both ways) of the turns since the last
  /// call, then resets them.
  public func takeStatistics() -> RoundStatistics {
    defer { statistics = RoundStatistics(round: 0) }
    return statistics
  }
}
