import ArgumentParser
import CoLearnData
import CoLearnNN
import CoLearnTensor
import Foundation

/// `colearn train`: centralized training of one model on a whole dataset — the paper's
/// centralized baseline (§6.4) and its single-learner selective SGD (§4, Table 4).
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train one model centrally (plain or selective SGD).",
    discussion: """
      Trains --model on the dataset it is built for (MNIST or SVHN) from the data directory, \
      evaluates the test set after every --eval-every epochs, and writes config.json, \
      metrics.csv, summary.json, schema.json, model.safetensors (the final model) and \
      best-model.safetensors (the best on the test set) into --out. With --select-fraction θ < 1 every step \
      updates only the θ fraction of parameters with the largest gradients (selective SGD). \

      Settings can also come from --config FILE (flat YAML or TOML; keys are the flag \
      names without dashes); flags on the command line win over the file.
      """)

  @OptionGroup var training: TrainingOptions
  @OptionGroup var data: DataOptions
  @OptionGroup var source: DataSourceOptions

  @Option(help: "Passes over the training set.")
  var epochs: Int = 10

  @Option(
    name: .customLong("select-fraction"),
    help: "θ of selective SGD: fraction of parameters updated per step, in (0, 1].")
  var selectFraction: Double = 1

  @Option(name: .customLong("eval-every"), help: "Evaluate the test set every this many epochs.")
  var evalEvery: Int = 1

  @Option(name: .customLong("train-limit"), help: "Use only the first N training samples.")
  var trainLimit: Int?

  @Option(name: .customLong("test-limit"), help: "Evaluate only the first N test samples.")
  var testLimit: Int?

  @Option(
    name: .customLong("svhn-train-size"),
    help: ArgumentHelp(
      "SVHN training samples: train_32x32.mat, then extra_32x32.mat, up to this count.",
      discussion: "Default: train_32x32.mat alone (73,257). The paper uses 100,000."))
  var svhnTrainSize: Int?

  @Option(help: "Output directory (default: runs/train-MODEL-SEED).")
  var out: String?

  @OptionGroup(title: "Differential privacy (DP-SGD)") var dp: DPSGDOptions
  @OptionGroup var privacyCommon: PrivacyCommonOptions

  func validate() throws {
    try privacyCommon.requireMechanism(dp.privacy == .dpSGD)
    _ = try training.sgdConfiguration(selectFraction: selectFraction)
    try requireAtLeast(1, epochs, flag: "epochs")
    try requireAtLeast(1, evalEvery, flag: "eval-every")
    try requireAtLeast(1, trainLimit, flag: "train-limit")
    try requireAtLeast(1, testLimit, flag: "test-limit")
    try requireAtLeast(1, svhnTrainSize, flag: "svhn-train-size")
    if dp.privacy == .dpSGD, selectFraction < 1 {
      throw ValidationError("--privacy dp-sgd updates every parameter; leave out --select-fraction")
    }
  }

  func run() throws {
    try execute(observer: .console)
  }

  /// Trains into the output directory, reporting to `observer` (the console for `colearn
  /// train`, a progress closure for `colearn reproduce`, which runs many in process).
  func execute(observer: RunObserver) throws {
    let spec = training.model
    let configuration = try training.sgdConfiguration(selectFraction: selectFraction)
    let threads = training.threads ?? ProcessInfo.processInfo.activeProcessorCount
    BLAS.setThreadCount(threads)

    let directory = data.dataDirectory
    let loaded = try source.load(
      for: spec, directory: directory, seed: training.seed,
      options: DatasetLoadOptions(
        svhnTraining: svhnTrainSize.map { .trainAndExtra(count: $0) } ?? .train,
        trainLimit: trainLimit, testLimit: testLimit))
    let train = loaded.train.labeledSamples
    let test = loaded.test.labeledSamples

    let outPath = out ?? "runs/train-\(spec.name)-\(training.seed)"
    let run = try RunDirectory(
      path: outPath,
      columns: [
        "epoch", "seconds", "train_seconds", "learning_rate", "train_loss", "train_accuracy",
        "test_loss", "test_accuracy",
      ] + (dp.privacy == .dpSGD ? ["epsilon"] : []))
    defer { run.close() }
    let record = TrainRecord.Configuration(
      command: "train", model: spec.name, parameterCount: spec.parameterCount,
      modelHash: spec.specificationHash, dataset: loaded.source.description,
      dataDirectory: directory.path, trainSamples: train.count, testSamples: test.count,
      normalizationMean: loaded.normalization?.mean,
      normalizationStandardDeviation: loaded.normalization?.standardDeviation,
      schemaFingerprint: loaded.schema.fingerprint,
      epochs: epochs, batchSize: configuration.batchSize, lr: configuration.learningRate,
      lrDecay: configuration.learningRateDecay, selectFraction: selectFraction,
      seed: training.seed, threads: threads, blas: BLAS.configuration)
    try run.writeJSON(record, to: "config.json")
    try run.writeSchema(loaded.schema)

    var generator = SeededGenerator(seed: training.seed)
    let network = spec.makeNetwork()
    var parameters = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&parameters, using: &generator)
    var model = LocalModel(parameters: parameters)
    let trainer = Trainer(network: network, configuration: configuration)
    let learner = try dp.learner(
      network: network, configuration: configuration, sampleCount: train.count, epochs: epochs,
      common: privacyCommon, seed: training.seed)
    let trainingSamples = learner == nil ? network.trainingSamples(train) : train
    // DP-SGD's batches must be secret for subsampling to amplify privacy: drawn from a
    // generator seeded by the OS unless the run is declared insecure and reproducible.
    var system = SystemRandomNumberGenerator()
    var batchGenerator = SeededGenerator(
      seed: privacyCommon.insecureSeededNoise ? training.seed ^ 0x6470_7367_6400 : system.next())
    // Evaluation on every core, a first dense layer reading the test set's listed entries.
    let evaluator = Evaluator(spec)
    let evaluationSet = evaluator.prepared(test)

    let progress = RunConsole(observer: observer, total: epochs * train.count, unit: "samples")
    progress.say(
      "colearn train: \(spec) (|w| = \(network.parameterCount)), \(train.count) training / "
        + "\(test.count) test samples, M = \(configuration.batchSize), α = \(configuration.learningRate)"
        + (selectFraction < 1 ? ", θ = \(selectFraction)" : "") + ", \(threads) thread(s)")
    if let learner {
      let privacy = learner.trainer.privacy
      progress.say(
        "DP-SGD: C = \(privacy.maxGradientNorm), σ = \(format(privacy.noiseMultiplier, 4)) (charged "
          + "\(format(learner.chargedNoiseMultiplier, 4))), \(privacy.sampling.rawValue) sampling, "
          + "q = \(format(learner.samplingRate, 6)), δ = \(privacyCommon.delta)"
          + (privacyCommon.insecureSeededNoise
            ? "; WARNING: --insecure-seeded-noise: NOT private, the seed reveals the noise" : ""))
    }
    progress.say("output: \(run.url.path)")
    let start = monotonicSeconds()
    var trainSeconds = 0.0
    var best: (accuracy: Double, epoch: Int) = (0, 0)
    var last: EvaluationResult?
    var finalLedger: DPSGDLedger?  // the privacy ledger after the last epoch (DP-SGD)
    for epoch in 1...epochs {
      let epochStart = monotonicSeconds()
      let statistics: EpochStatistics
      if let learner {
        do {
          statistics = try learner.trainEpoch(&model, on: trainingSamples, using: &batchGenerator)
        } catch {
          throw CLIError("epoch \(epoch): no privacy noise could be drawn (\(error)); nothing was saved")
        }
      } else {
        statistics = trainer.trainEpoch(&model, on: trainingSamples, using: &generator) { done in
          progress.update(done: (epoch - 1) * train.count + done, label: "epoch \(epoch)/\(epochs)")
        }
      }
      let ledger = try learner.map {
        try DPSGDLedger(
          learner: "colearn train", $0, delta: privacyCommon.delta,
          secureNoise: !privacyCommon.insecureSeededNoise, scope: .trainingSet)
      }
      finalLedger = ledger
      trainSeconds += monotonicSeconds() - epochStart
      var row = [
        "\(epoch)", format(monotonicSeconds() - start, 3), format(trainSeconds, 3),
        "\(configuration.learningRate(atStep: model.stepCount))",
        format(statistics.meanLoss, 5), format(statistics.trainingAccuracy, 5),
      ]
      if epoch % evalEvery == 0 || epoch == epochs {
        let result = evaluator.evaluate(
          parameters: model.parameters, on: evaluationSet, batchSize: spec.evaluationBatchSize)
        last = result
        if result.accuracy > best.accuracy {
          best = (result.accuracy, epoch)
          try run.writeModel(
            spec, parameters: model.parameters, schema: loaded.schema,
            to: "best-model.safetensors", source: "colearn train, best test accuracy (epoch \(epoch))")
        }
        row += [format(result.meanLoss, 5), format(result.accuracy, 5)]
        progress.line(
          "epoch \(epoch)/\(epochs)  loss \(format(statistics.meanLoss, 4))  "
            + "train acc \(format(100 * statistics.trainingAccuracy, 2))%  "
            + "test acc \(format(100 * result.accuracy, 2))%  "
            + (ledger.map { "ε \($0.epsilon.isFinite ? format($0.epsilon, 3) : "∞")  " } ?? "")
            + "(\(format(monotonicSeconds() - start, 1)) s)")
      } else {
        row += ["", ""]
      }
      if let ledger { row.append("\(ledger.epsilon)") }
      run.append(row: row)
      if let ledger { try run.writeJSON(ledger, to: "privacy-ledger.json") }
    }
    try run.writeModel(
      spec, parameters: model.parameters, schema: loaded.schema, to: "model.safetensors",
      source: "colearn train, after epoch \(epochs)")
    let wall = monotonicSeconds() - start
    let summary = TrainRecord.Summary(
      finalTestAccuracy: last?.accuracy ?? 0, finalTestLoss: last?.meanLoss ?? 0,
      bestTestAccuracy: best.accuracy, bestEpoch: best.epoch, epochs: epochs,
      steps: model.stepCount, wallSeconds: wall, trainSeconds: trainSeconds,
      trainSamplesPerSecond: Double(epochs * train.count) / max(trainSeconds, 1e-9))
    try run.writeJSON(summary, to: "summary.json")
    if let ledger = finalLedger {
      progress.say(
        "privacy: \(ledger.summary); not covered: \(DPSGDLedger.notCovered.joined(separator: "; ")) "
          + "(privacy-ledger.json)")
    }
    progress.say(
      "done: final test accuracy \(format(100 * summary.finalTestAccuracy, 2))%, best "
        + "\(format(100 * best.accuracy, 2))% (epoch \(best.epoch)), \(format(wall, 1)) s wall, "
        + "\(format(summary.trainSamplesPerSecond, 0)) training samples/s")
  }
}

/// The JSON records `colearn train` writes.
enum TrainRecord {
  struct Configuration: Encodable {
    var command: String
    var model: String
    var parameterCount: Int
    var modelHash: String
    var dataset: String
    var dataDirectory: String
    var trainSamples: Int
    var testSamples: Int
    var normalizationMean: [Float]?
    var normalizationStandardDeviation: [Float]?
    /// The SHA-256 of the dataset schema (schema.json beside this file).
    var schemaFingerprint: String
    var epochs: Int
    var batchSize: Int
    var lr: Float
    var lrDecay: Float
    var selectFraction: Double
    var seed: UInt64
    var threads: Int
    var blas: String
  }

  struct Summary: Encodable {
    var finalTestAccuracy: Double
    var finalTestLoss: Double
    var bestTestAccuracy: Double
    var bestEpoch: Int
    var epochs: Int
    var steps: Int
    var wallSeconds: Double
    var trainSeconds: Double
    var trainSamplesPerSecond: Double
  }
}
