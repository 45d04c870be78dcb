import ArgumentParser
import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy

extension SelectionCriterion: ExpressibleByArgument {}

/// What a participant uploads each round (SPEC §6 step 4–5, §8): the selection criterion with
/// its τ and γ, and the differential-privacy settings of the private criteria. Declared once,
/// shared by `simulate` and `participate` (SPEC §11).
struct UploadOptions: ParsableArguments {
  @Option(
    help: """
      Selection criterion: largest, threshold, svt (the sparse vector technique, differentially \
      private) or exponential (the exponential mechanism, differentially private).
      """)
  var selection: SelectionCriterion = .largest

  @Option(help: "τ for --selection threshold and svt.")
  var threshold: Float = 1e-4

  @Option(help: "γ: bound every uploaded value to [−γ, γ] (default: no bound).")
  var bound: Float?

  @Option(
    name: .customLong("dp-epsilon"),
    help: """
      ε per participant and epoch, for --selection svt or exponential. Its unit: neighbouring \
      datasets differ in one participant's parameter changes of that epoch (SPEC §8), not in \
      one training record.
      """)
  var dpEpsilon: Double?

  @Option(
    name: .customLong("dp-budget"),
    help: """
      Total ε per participant over the run (basic composition); a participant stops uploading \
      before the epoch that would exceed it.
      """)
  var dpBudget: Double?

  @OptionGroup var common: PrivacyCommonOptions

  /// The validated privacy settings, nil without --dp-epsilon.
  ///
  /// - Throws: ``ConfigurationError`` naming the flag.
  func privacySettings() throws(ConfigurationError) -> PrivacySettings? {
    if dpEpsilon == nil, let dpBudget {
      throw ConfigurationError.outOfRange(
        setting: "dp-budget", value: "\(dpBudget)", expected: "--dp-epsilon with it")
    }
    return try dpEpsilon.map { epsilon throws(ConfigurationError) in
      try PrivacySettings(
        epsilon: epsilon, budget: dpBudget, delta: common.delta,
        insecureSeededNoise: common.insecureSeededNoise)
    }
  }
}
