import ArgumentParser
import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import CoLearnTensor

extension DPSGDSampling: ExpressibleByArgument {}

/// DP-SGD's flags (issue 21): `--privacy dp-sgd` with C, σ or a target ε, and the sampling.
struct DPSGDOptions: ParsableArguments {
  enum Mode: String, ExpressibleByArgument, CaseIterable {
    case none
    case dpSGD = "dp-sgd"
  }

  @Option(
    help: """
      Local training: none (plain SGD, no formal guarantee) or dp-sgd (per-example clipping to \
      --max-grad-norm, discrete Gaussian noise, a Rényi-DP accountant; ε is record-level).
      """)
  var privacy: Mode = .none

  @Option(name: .customLong("max-grad-norm"), help: "DP-SGD: C, each example's gradient L2 bound.")
  var maxGradNorm: Float = 1

  @Option(
    name: .customLong("noise-multiplier"),
    help: "DP-SGD: σ; the noise on the clipped sum has standard deviation σ·C.")
  var noiseMultiplier: Double?

  @Option(
    name: .customLong("target-epsilon"),
    help: "DP-SGD: the ε (at --delta) the whole run may spend; σ is calibrated to it.")
  var targetEpsilon: Double?

  @Option(
    help: """
      DP-SGD batches: poisson (each record joins a batch with probability B/n; the accountant's \
      assumption) or shuffle (disjoint batches, accounted per epoch with replace-one neighbours).
      """)
  var sampling: DPSGDSampling = .poisson

  func validate() throws {
    guard privacy == .dpSGD else {
      if noiseMultiplier != nil || targetEpsilon != nil {
        throw ValidationError("--noise-multiplier and --target-epsilon need --privacy dp-sgd")
      }
      return
    }
    guard (noiseMultiplier == nil) != (targetEpsilon == nil) else {
      throw ValidationError(
        "--privacy dp-sgd needs exactly one of --noise-multiplier σ and --target-epsilon ε")
    }
    if targetEpsilon != nil, sampling == .shuffle {
      throw ValidationError(
        "--target-epsilon calibrates σ for --sampling poisson; with shuffle pass --noise-multiplier")
    }
    if let targetEpsilon, !(targetEpsilon > 0 && targetEpsilon.isFinite) {
      throw ValidationError("invalid --target-epsilon \(targetEpsilon): expected a positive number")
    }
    do {
      _ = try DPSGDConfiguration(
        maxGradientNorm: maxGradNorm, noiseMultiplier: noiseMultiplier ?? 1, sampling: sampling)
    } catch {
      throw ValidationError("\(error)")
    }
  }

  /// The DP-SGD learner for a run of `epochs` epochs over `sampleCount` records, or nil without
  /// --privacy dp-sgd. With --target-epsilon, σ is the smallest whose charged multiplier meets the
  /// target over the run's steps.
  func learner(
    network: Network, configuration: SGDConfiguration, sampleCount: Int, epochs: Int,
    common: PrivacyCommonOptions, seed: UInt64
  ) throws -> DPSGDLearner? {
    guard privacy == .dpSGD else { return nil }
    let source: NoiseSource = common.insecureSeededNoise ? .insecureSeeded(seed) : .secure
    func make(_ sigma: Double) throws -> DPSGDLearner {
      do {
        return try DPSGDLearner(
          network: network, configuration: configuration,
          privacy: DPSGDConfiguration(
            maxGradientNorm: maxGradNorm, noiseMultiplier: sigma, sampling: sampling),
          sampleCount: sampleCount, noiseSource: source)
      } catch {
        throw CLIError("\(error)")
      }
    }
    guard let targetEpsilon else { return try make(noiseMultiplier ?? 0) }
    let probe = try make(1)
    let steps = epochs * probe.trainer.stepsPerEpoch(sampleCount: sampleCount)
    let needed: Double
    do {
      needed = try RDPAccountant.noiseMultiplier(
        targetEpsilon: targetEpsilon, delta: common.delta, samplingRate: probe.samplingRate,
        steps: steps, orders: DPSGDLearner.orders)
    } catch {
      throw CLIError("--target-epsilon \(targetEpsilon): \(error)")
    }
    // The grid charges slightly less than the nominal σ: raise σ until the charge meets it.
    var sigma = needed
    var learner = try make(sigma)
    while learner.chargedNoiseMultiplier < needed {
      sigma *= (needed / learner.chargedNoiseMultiplier) * (1 + 1e-9)
      learner = try make(sigma)
    }
    return learner
  }
}
