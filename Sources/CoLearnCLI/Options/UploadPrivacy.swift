import ArgumentParser
import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy

/// The privacy of a DSSGD participant's uploads, chosen once from the shared privacy flags
/// (issue 21, item 5): `--selection svt|exponential` with `--dp-epsilon` (``UploadOptions``),
/// `--privacy dp-sgd` (``DPSGDOptions``) and their common `--delta` and
/// `--insecure-seeded-noise` (``PrivacyCommonOptions``). `simulate` and `participate` validate,
/// build and announce it here, and nowhere else; the ``DSSGDTurnRunner`` then turns the settings
/// into its training and selection stages.
struct UploadPrivacy {
  var upload: UploadOptions
  var dp: DPSGDOptions

  var common: PrivacyCommonOptions { upload.common }

  /// The checks of the privacy flags, the same for `simulate` and `participate`: at most one
  /// mechanism, ε with a private selection and only with one, --insecure-seeded-noise only with
  /// a mechanism.
  func validate() throws {
    try common.requireMechanism(upload.dpEpsilon != nil || dp.privacy == .dpSGD)
    let settings: PrivacySettings?
    do {
      settings = try upload.privacySettings()
      // The upload flags alone (N and θ are checked where they are known).
      _ = try DSSGDConfiguration(
        participants: 1, uploadFraction: 1, selection: upload.selection,
        threshold: upload.threshold, bound: upload.bound, privacy: settings)
    } catch {
      throw ValidationError("\(error)")
    }
    if dp.privacy == .dpSGD, settings != nil {
      throw ValidationError(
        "--privacy dp-sgd and --selection \(upload.selection.rawValue) --dp-epsilon are two "
          + "mechanisms; use one per run (DP-SGD already covers everything uploaded)")
    }
  }

  /// The private selection's settings, nil without --dp-epsilon.
  func selectionSettings() throws -> PrivacySettings? {
    do {
      return try upload.privacySettings()
    } catch {
      throw CLIError("\(error)")
    }
  }

  /// DP-SGD's settings for participants training `network`, nil without --privacy dp-sgd.
  /// With --target-epsilon, σ is calibrated for the participant with the fewest records
  /// (`sampleCounts`, the largest rate q) over the steps of `epochs` epochs of the one with the
  /// most: every participant's ε is then at most the target.
  ///
  /// - Throws: ``CLIError`` for a network that mixes samples or a target that cannot be met.
  func dpsgdSettings(
    network: Network, batchSize: Int, sampleCounts: [Int], epochs: Int
  ) throws -> DPSGDSettings? {
    guard dp.privacy == .dpSGD else { return nil }
    if let layer = network.layers.first(where: { $0.mixesSamples }) {
      throw CLIError("\(DPSGDTrainer.MixedSamplesError(layer: layer.description))")
    }
    return try dp.configuration(
      batchSize: batchSize, sampleCounts: sampleCounts, epochs: epochs,
      dimension: network.parameterCount, delta: common.delta
    ).map { DPSGDSettings(training: $0, insecureSeededNoise: common.insecureSeededNoise) }
  }

  /// Who the statement speaks to.
  enum Audience {
    /// `simulate`: every participant of the federation.
    case simulation
    /// `participate`: this participant.
    case participant
  }

  /// What the run's uploads are protected by, in words, printed once before the first round:
  /// the mechanism with the unit and scope of its ε, or plainly that there is no formal
  /// guarantee; and a warning for seeded noise and for ε = ∞ (DP-SGD with σ = 0).
  static func statement(
    of configuration: DSSGDConfiguration, delta: Double, for audience: Audience
  ) -> [String] {
    statement(
      selection: configuration.selection, privacy: configuration.privacy,
      dpsgd: configuration.dpsgd, delta: delta, for: audience)
  }

  /// The statement for a private `selection` under `privacy`, DP-SGD under `dpsgd`, or neither.
  static func statement(
    selection: SelectionCriterion, privacy: PrivacySettings?, dpsgd: DPSGDSettings?,
    delta: Double, for audience: Audience
  ) -> [String] {
    var lines: [String] = []
    let whose = audience == .simulation ? "each participant's own shard" : "this participant's data"
    if let dpsgd {
      let training = dpsgd.training
      lines.append(
        (audience == .simulation ? "DP-SGD participants: " : "DP-SGD: ")
          + "C = \(training.maxGradientNorm), σ = \(format(training.noiseMultiplier, 4)), "
          + "\(training.sampling.rawValue) sampling; ε is record-level over \(whose) "
          + "(δ = \(delta)); everything uploaded is post-processing of it")
      if training.noiseMultiplier == 0 {
        lines.append(
          "WARNING: σ = 0: DP-SGD clips but adds no noise, so ε = ∞: the uploads carry NO formal "
            + "guarantee")
      }
    } else if let privacy {
      lines.append(
        "privacy: \(selection.rawValue), ε = \(String(format: "%.6g", privacy.epsilon)) "
          + "per participant and epoch"
          + (privacy.budget.map { ", total budget ε = \($0.totalEpsilon)" } ?? "")
          + "; its unit is one participant's parameter changes of an epoch (each bounded by γ), "
          + "NOT one training record")
    } else {
      lines.append(
        audience == .simulation
          ? "privacy: none — what participants share carries no formal guarantee (shared updates "
            + "can reveal training data); see --privacy dp-sgd"
          : "privacy: none — this participant's uploads carry no formal guarantee (shared updates "
            + "can reveal training data); see --privacy dp-sgd")
    }
    if dpsgd?.insecureSeededNoise == true || privacy?.insecureSeededNoise == true {
      lines.append(
        "WARNING: --insecure-seeded-noise: the noise comes from the seeded generator. This run "
          + "is NOT differentially private (anyone with the seed can remove the noise); use it "
          + "only to reproduce experiments.")
    }
    return lines
  }
}
