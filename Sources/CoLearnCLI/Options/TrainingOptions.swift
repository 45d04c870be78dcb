import ArgumentParser
import CoLearnNN

extension ModelSpec {
  /// `--model`'s parser: a preset name or a model file (whose errors name the file and layer).
  static func argument(_ text: String) throws -> ModelSpec {
    do {
      return try ModelSpec.resolve(text)
    } catch {
      throw ValidationError(error.description)
    }
  }
}

/// The model and local-training flags shared by every command that trains (SPEC §11).
struct TrainingOptions: ParsableArguments {
  @Option(
    name: .customLong("model"),
    help: ArgumentHelp(
      "Model: a preset (mnist-mlp, svhn-mlp, mnist-cnn, svhn-cnn) or a model file "
        + "(.toml or .json; `colearn model init` writes one). Default: mnist-mlp; for "
        + "`participate`, the model the server publishes.", valueName: "preset|file"),
    transform: ModelSpec.argument)
  var givenModel: ModelSpec?

  /// `--model`, or mnist-mlp.
  var model: ModelSpec { givenModel ?? .mnistMLP }

  @Option(name: .customLong("batch-size"), help: "Mini-batch size M.")
  var batchSize: Int = 32

  @Option(help: "Learning rate α.")
  var lr: Float = 0.01

  @Option(name: .customLong("lr-decay"), help: "Torch7 learning-rate decay d: α_t = α / (1 + t·d).")
  var lrDecay: Float = 1e-7

  @Option(help: "Seed of every random choice (initialisation, shuffling).")
  var seed: UInt64 = 1

  @Option(help: "Threads for the linear algebra (default: all cores).")
  var threads: Int?

  /// The validated SGD configuration.
  func sgdConfiguration(selectFraction: Double = 1) throws -> SGDConfiguration {
    do {
      return try SGDConfiguration(
        learningRate: lr, learningRateDecay: lrDecay, batchSize: batchSize,
        selectFraction: selectFraction)
    } catch {
      throw ValidationError(error.description)
    }
  }

  func validate() throws {
    _ = try sgdConfiguration()
    if let threads, threads < 1 {
      throw ValidationError("invalid --threads \(threads): expected an integer ≥ 1")
    }
  }
}
