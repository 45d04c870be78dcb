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

  /// The DP-SGD settings, or nil without --privacy dp-sgd. With --target-epsilon, σ is the
  /// smallest whose charged multiplier (on the noise grid for `dimension` coordinates) meets the
  /// target for every learner: the rate q of the one with the fewest records (`sampleCounts`)
  /// over the steps of `epochs` epochs of the one with the most.
  func configuration(
    batchSize: Int, sampleCounts: [Int], epochs: Int, dimension: Int, delta: Double
  ) throws -> DPSGDConfiguration? {
    guard privacy == .dpSGD else { return nil }
    let q = DPSGDTrainer.samplingRate(batchSize: batchSize, sampleCount: sampleCounts.min() ?? 1)
    let steps =
      epochs * DPSGDTrainer.stepsPerEpoch(batchSize: batchSize, sampleCount: sampleCounts.max() ?? 1)
    func make(_ sigma: Double) throws -> DPSGDConfiguration {
      do {
        return try DPSGDConfiguration(
          maxGradientNorm: maxGradNorm, noiseMultiplier: sigma, sampling: sampling)
      } catch {
        throw CLIError("\(error)")
      }
    }
    guard let targetEpsilon else { return try make(noiseMultiplier ?? 0) }
    let needed: Double
    do {
      needed = try RDPAccountant.noiseMultiplier(
        targetEpsilon: targetEpsilon, delta: delta, samplingRate: q, steps: steps,
        orders: DPSGDCharges.orders)
    } catch {
      throw CLIError("--target-epsilon \(targetEpsilon): \(error)")
    }
    guard needed > 0 else { return try make(0) }
    // The grid charges slightly less than the nominal σ: raise σ until the charge meets it.
    func charged(_ sigma: Double) throws -> Double {
      do {
        return try DiscreteGaussianGradientNoise(
          clipNorm: Double(maxGradNorm), noiseMultiplier: sigma, dimension: dimension,
          source: .insecureSeeded(0)
        ).effectiveNoiseMultiplier
      } catch {
        throw CLIError("--target-epsilon \(targetEpsilon): \(error)")
      }
    }
    var sigma = needed
    while try charged(sigma) < needed { sigma *= try (needed / charged(sigma)) * (1 + 1e-9) }
    return try make(sigma)
  }

  /// The DP-SGD learner for a run of `epochs` epochs over `sampleCount` records, or nil without
  /// --privacy dp-sgd.
  func learner(
    network: Network, configuration sgd: SGDConfiguration, sampleCount: Int, epochs: Int,
    common: PrivacyCommonOptions, seed: UInt64
  ) throws -> DPSGDLearner? {
    guard
      let privacy = try configuration(
        batchSize: sgd.batchSize, sampleCounts: [sampleCount], epochs: epochs,
        dimension: network.parameterCount, delta: common.delta)
    else { return nil }
    do {
      return try DPSGDLearner(
        network: network, configuration: sgd, privacy: privacy, sampleCount: sampleCount,
        noiseSource: common.insecureSeededNoise ? .insecureSeeded(seed) : .secure)
    } catch {
      throw CLIError("\(error)")
    }
  }
}
