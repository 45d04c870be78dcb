import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor
import CoLearnWire

/// One participant's side of distributed selective SGD (SPEC §6, paper §5.1), against any
/// ``ParameterServerClient``: download θ_d of w_global over the local model → one local epoch →
/// Δw = w_new − w_old → select at most k = ⌈θ_u·|w|⌉ entries → bound by γ → upload.
///
/// A turn is a pipeline of two stages chosen once, when the runner is made, from the
/// configuration: the local training (``PlainLocalTraining``, or ``DPSGDLocalTraining`` with
/// ``DSSGDConfiguration/dpsgd``) and the upload selection (``SelectorUpload`` for `largest` and
/// `threshold`, ``PrivateUploadSelection`` for `svt` and `exponential`). Privacy is one of those
/// stages, not a branch of the turn: a non-private turn never tests a privacy setting.
///
/// A runner owns the workspaces of a turn (network, trainer, the Δw buffer, selection state)
/// and can run the turns of any number of participants one after the other, so a simulation
/// needs one runner per worker, not per participant.
///
/// Threading: one thread at a time.
public final class DSSGDTurnRunner: @unchecked Sendable {
  /// The DSSGD settings.
  public let configuration: DSSGDConfiguration
  /// Steps 2–3, chosen once: plain SGD or DP-SGD.
  private let training: any LocalTraining
  /// Steps 4–5, chosen once: `largest`, `threshold`, or a private selection.
  private let selection: any UploadSelection
  /// The same stages when they are the private ones, for their hooks.
  private let dpsgdTraining: DPSGDLocalTraining?
  private let privateSelection: PrivateUploadSelection?
  /// Δw of the turn: the training writes the change of every parameter over the epoch.
  private var delta: [Float]
  /// Counts of the turns since the last ``takeStatistics()``.
  private var statistics = RoundStatistics(round: 0)

  /// The DP-SGD trainer, with ``DSSGDConfiguration/dpsgd``; each participant's
  /// ``Participant/dpsgd`` holds its noise and charges.
  public var privateTrainer: DPSGDTrainer? { dpsgdTraining?.trainer }

  /// Called with the participant's ledger after a private selection charged it and before the
  /// upload leaves: a deployed participant writes it durably here, so that no crash after the
  /// upload can resume with a ledger that lacks the epoch. An error stops the turn before the
  /// upload. (Never called without `svt` or `exponential`.)
  public var ledgerCharged: ((PrivacyLedger) throws -> Void)? {
    get { privateSelection?.charged }
    set { privateSelection?.charged = newValue }
  }

  /// Called with the participant's DP-SGD charges after its epoch of DP-SGD and before the
  /// upload leaves (as ``ledgerCharged`` for the private selections): a deployed participant
  /// writes them durably here. An error stops the turn before the upload. (Never called without
  /// DP-SGD.)
  public var dpsgdCharged: ((DPSGDCharges) throws -> Void)? {
    get { dpsgdTraining?.charged }
    set { dpsgdTraining?.charged = newValue }
  }

  /// A runner training `network` (whose parameter count is |w|), with the stages
  /// `configuration` names.
  ///
  /// - Precondition: `configuration` is as ``DSSGDConfiguration/init(participants:uploadFraction:downloadFraction:selection:threshold:bound:statDecay:order:staleProbability:privacy:dpsgd:)``
  ///   validates it (ε and γ with `svt` and `exponential`), and with DP-SGD `network` does not
  ///   mix samples (check ``Network/mixesSamples`` of its layers first).
  public init(network: Network, training: SGDConfiguration, configuration: DSSGDConfiguration) {
    self.configuration = configuration
    if let dpsgd = configuration.dpsgd {
      guard
        let stage = try? DPSGDLocalTraining(
          network: network, configuration: training, privacy: dpsgd.training)
      else {
        preconditionFailure("DP-SGD on a network that mixes samples: check network.mixesSamples first")
      }
      dpsgdTraining = stage
      self.training = stage
    } else {
      dpsgdTraining = nil
      self.training = PlainLocalTraining(network: network, configuration: training)
    }
    switch configuration.selection {
    case .largest:
      privateSelection = nil
      selection = SelectorUpload(LargestSelector(), bound: configuration.bound)
    case .threshold:
      privateSelection = nil
      selection = SelectorUpload(
        ThresholdSelector(threshold: configuration.threshold), bound: configuration.bound)
    case .svt, .exponential:
      guard let privacy = configuration.privacy, let gamma = configuration.bound else {
        preconditionFailure("--selection \(configuration.selection.rawValue) without ε and γ")
      }
      let stage = PrivateUploadSelection(
        configuration.selection == .svt
          ? .sparseVector(threshold: configuration.threshold) : .exponential,
        epsilon: privacy.epsilon, bound: gamma)
      privateSelection = stage
      selection = stage
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
    try delta.withUnsafeMutableBufferPointer { changes in
      try training.trainEpoch(&participant, changes: changes)
    }
    let selectStart = monotonicSeconds()
    statistics.trainSeconds += selectStart - trainStart
    // 4–5. Select, bound, upload.
    guard
      let upload = try delta.withUnsafeBufferPointer({ d in
        try selection.upload(from: d, count: k, participant: &participant)
      })
    else {
      // The participant's privacy budget is spent: it keeps training, and uploads nothing.
      statistics.selectSeconds += monotonicSeconds() - selectStart
      return 0
    }
    let uploadStart = monotonicSeconds()
    statistics.selectSeconds += uploadStart - selectStart
    let sequence = try server.upload(upload)
    statistics.exchangeSeconds += monotonicSeconds() - uploadStart
    statistics.uploadedParameters += upload.count
    statistics.uploadBytes += SparseCodec.encodedByteCount(upload)
    return sequence
  }

  /// The counts (training seconds, parameters and bytes both ways) of the turns since the last
  /// call, then resets them.
  public func takeStatistics() -> RoundStatistics {
    defer { statistics = RoundStatistics(round: 0) }
    return statistics
  }
}
