import ArgumentParser

/// The flags every private mechanism shares (issue 21, item 5): the δ of its (ε, δ) figures and
/// where its noise comes from. Declared once; `UploadOptions` (svt, exponential) and
/// `DPSGDOptions` (DP-SGD) read the same values.
struct PrivacyCommonOptions: ParsableArguments {
  @Option(
    help: """
      δ of the (ε, δ) figures: DP-SGD's guarantee, and δ′ of the advanced-composition totals of \
      --selection svt and exponential.
      """)
  var delta: Double = 1e-5

  @Flag(
    name: .customLong("insecure-seeded-noise"),
    help: """
      Draw privacy noise (and DP-SGD's batches) from the seeded generator (reproducible runs). \
      The result is NOT differentially private: anyone with the seed can remove the noise.
      """)
  var insecureSeededNoise = false

  /// Refuses --insecure-seeded-noise in a run without a private mechanism (it would mean
  /// nothing, and suggests a guarantee the run does not have).
  func requireMechanism(_ present: Bool) throws {
    if insecureSeededNoise, !present {
      throw ValidationError(
        "--insecure-seeded-noise needs a private mechanism: --privacy dp-sgd, or --selection svt "
          + "or exponential with --dp-epsilon")
    }
  }

  func validate() throws {
    guard delta > 0, delta < 1 else {
      throw ValidationError("invalid --delta \(delta): expected a number in (0, 1)")
    }
  }
}
