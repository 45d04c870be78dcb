import ArgumentParser
import CoLearnPrivacy
import Foundation

/// `colearn bench noise`: how fast the exact discrete Gaussian is drawn — the reference sampler
/// (``DiscreteGaussian/sample(using:)``, CKS 2020 Algorithm 3) against the prepared one
/// (``DiscreteGaussianSampler``) in the same run, at the σ DP-SGD uses.
struct BenchNoiseCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "noise",
    abstract: "Measure exact discrete Gaussian noise: samples/s of the reference and the fast sampler.",
    discussion: """
      Draws --count values of N_ℤ(0, σ²) (σ in grid units) with each sampler, alternating \
      in --rounds rounds on one thread, and prints samples/s per round and the ratio fast / \
      reference of that round (the VM's speed drifts: compare figures of one round). The default \
      σ = 524288 = 2¹⁹ is what DP-SGD on mnist-mlp uses at σ = 1 and C = 1. --seed uses the \
      seeded (non-private) generator; the default is the OS generator, as private runs use.
      """)

  @Option(help: "σ of the discrete Gaussian, in grid units (at least 2⁻⁵).")
  var sigma: Double = 524_288

  @Option(help: "Values drawn per sampler and round.")
  var count: Int = 1_000_000

  // Not --passes: `colearn bench` itself has that option, and takes it first.
  @Option(help: "Rounds (each measures both samplers).")
  var rounds: Int = 3

  @Option(help: "Draw from the seeded generator with this seed (NOT private) instead of the OS generator.")
  var seed: UInt64?

  func validate() throws {
    guard sigma.isFinite, DiscreteGaussian.variance(roundingUp: sigma) != nil else {
      throw ValidationError("--sigma must be a finite σ between 2⁻⁵ and about 2²², got \(sigma)")
    }
    guard count >= 1 else { throw ValidationError("--count must be at least 1, got \(count)") }
    guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1, got \(rounds)") }
  }

  func run() throws {
    #if DEBUG
      print("warning: this is a debug build; numbers are 10-100× too slow. Use `swift build -c release`.")
    #endif
    let law = DiscreteGaussian(sigma: sigma)
    let sampler = DiscreteGaussianSampler(law)
    var noise = seed.map { NoiseSource.insecureSeeded($0) } ?? .secure
    print("σ² = \(law.varianceNumerator)/\(law.varianceDenominator), noise: \(noise)")
    if let blocks = sampler.blocks {
      print("fast path: blocks of 2^\(blocks.widthExponent) units, \(blocks.count) in the table")
    } else {
      print("fast path: no (this σ falls back to the reference sampler)")
    }
    print("round | reference samples/s | fast samples/s | fast / reference")
    for round in 1...rounds {
      let reference = try Self.rate(count: count) { () throws(PrivacyError) in
        try law.sample(using: &noise)
      }
      let fast = try Self.rate(count: count) { () throws(PrivacyError) in
        try sampler.sample(using: &noise)
      }
      print(
        "\(round) | \(format(reference, 0)) | \(format(fast, 0)) | \(format(fast / reference, 2))×")
    }
  }

  /// Samples/s of `draw` over `count` calls (the sum of the draws is kept so that the work is
  /// not optimised away).
  static func rate(count: Int, _ draw: () throws(PrivacyError) -> Int64) throws -> Double {
    var total: Int64 = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<count { total &+= try draw() }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    if total == .min { print("") }  // keeps `total` alive
    return Double(count) / seconds
  }
}
