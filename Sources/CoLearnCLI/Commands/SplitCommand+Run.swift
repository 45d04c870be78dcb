import ArgumentParser
import CoLearnData
import CoLearnNN
import CoLearnPrivacy
import CoLearnSplit
import CoLearnTensor
import Foundation

/// MNIST prepared for split learning: 28×28, standardised, cut into IID shards.
struct SplitData {
  var directory: DataDirectory
  var shards: [LabeledSamples]
  var shardSize: Int
  var test: LabeledSamples
  var normalization: Normalization
  /// The standardised values of raw pixels 0 and 255.
  var pixelInterval: ClosedRange<Float>
}

/// Loads MNIST, crops it to 28×28 and draws `participants` IID shards of `shardSize` samples
/// (default: the training set split evenly) from the stream `seed` selects: `split simulate`
/// and `split participate --shard I/N` with the same seed give participant I the same shard.
func loadSplitData(
  dataDir: String?, trainLimit: Int?, testLimit: Int?, participants: Int, shardSize: Int?,
  seed: UInt64
) throws -> SplitData {
  let directory = DataDirectory.resolve(option: dataDir)
  let train: Dataset
  let test: Dataset
  let normalization: Normalization
  do {
    let loaded = try loadDataset(
      .mnist, dataDirectory: directory,
      options: DatasetLoadOptions(trainLimit: trainLimit, testLimit: testLimit))
    train = try loaded.train.croppedToMNISTSide()
    test = try loaded.test.croppedToMNISTSide()
    normalization = loaded.normalization
  } catch {
    throw CLIError("\(error)\n(data directory: \(directory.explanation))")
  }
  let size = shardSize ?? train.count / participants
  var generator = SeededGenerator(seed: seed).derived(stream: 0x5EED)
  let shards: [[Int]]
  do {
    shards = try Partition.iid.shards(
      labels: train.labels, classCount: train.classCount, participants: participants,
      shardSize: size, using: &generator)
  } catch {
    throw CLIError(error.description)
  }
  let mean = normalization.mean[0]
  let deviation = normalization.standardDeviation[0]
  return SplitData(
    directory: directory, shards: shards.map { train.subset($0).labeledSamples },
    shardSize: size, test: test.labeledSamples, normalization: normalization,
    pixelInterval: ((0 - mean) / deviation)...((255 - mean) / deviation))
}

extension SplitSimulateCommand {
  /// Loads MNIST, crops it to 28×28 and draws the participants' IID shards.
  func loadSplitData() throws -> SplitData {
    try CoLearnCLI.loadSplitData(
      dataDir: data.dataDir, trainLimit: trainLimit, testLimit: testLimit,
      participants: participants, shardSize: shardSize, seed: seed)
  }

  /// One training run at one ε into `outPath`.
  func runOne(
    epsilon: Double?, data: SplitData, outPath: String, threads: Int
  ) throws -> SplitRunRecord.Summary {
    let architecture = SplitArchitecture.paper
    let configuration = try splitConfiguration(epsilon: epsilon)
    var generator = SeededGenerator(seed: seed)
    let frontNetwork = architecture.makeFront()
    let backNetwork = architecture.makeBack()
    var front = [Float](repeating: 0, count: frontNetwork.parameterCount)
    var back = [Float](repeating: 0, count: backNetwork.parameterCount)
    frontNetwork.initialize(&front, using: &generator)
    backNetwork.initialize(&back, using: &generator)
    let noise: NoiseSource = insecureSeededNoise ? .insecureSeeded(seed ^ 0x4E01_5E) : .secure
    let simulation = SplitSimulation(
      architecture: architecture, configuration: configuration, shards: data.shards,
      initialFront: front, initialBack: back, pixelInterval: data.pixelInterval, noise: noise,
      generator: generator.derived(stream: 0x0DE5))

    let run = try RunDirectory(
      path: outPath,
      columns: [
        "epoch", "seconds", "noise_seconds", "elapsed_seconds", "lr", "train_loss",
        "train_accuracy", "test_loss", "test_accuracy", "values_sent", "fronts_identical",
      ])
    defer { run.close() }
    let audit = try SplitAudit(directory: run.url, dumpValues: auditValues)
    defer { audit.close() }
    let valuesPerSample =
      boundary == .features ? architecture.featureShape.count : architecture.inputShape.count
    try run.writeJSON(
      SplitRunRecord.Configuration(
        command: "split simulate", boundary: boundary.rawValue,
        epsilon: SplitSimulateCommand.name(epsilon), split: configuration,
        architecture: architecture.layerSpecification.split(separator: "\n").map(String.init),
        frontParameters: frontNetwork.parameterCount, backParameters: backNetwork.parameterCount,
        valuesPerSample: valuesPerSample, dataset: "mnist (28×28, standardised)",
        dataDirectory: data.directory.path, normalization: data.normalization,
        partition: "iid", shardSize: data.shardSize, testSamples: data.test.count,
        epochs: epochs, evalEvery: evalEvery, seed: seed, threads: threads,
        noise: epsilon == nil ? "none (ε = inf)" : noise.description,
        evaluation: "local: participant 0's front + the coordinator's back, nothing noised, "
          + "test batches of B", blas: BLAS.configuration),
      to: "config.json")
    print("ε = \(SplitSimulateCommand.name(epsilon)) → \(run.url.path)")
    if let mechanism = simulation.mechanism(batchSize: batchSize) {
      print(
        String(
          format: "  sensitivity S = %.6g, noise scale S/ε = %.6g (applied %.6g on a grid of %g)",
          mechanism.sensitivity, mechanism.nominalScale, mechanism.appliedScale,
          mechanism.gridStep))
    }
    fflush(nil)

    let stepsPerEpoch = data.shards.reduce(0) { $0 + ($1.count + batchSize - 1) / batchSize }
    let start = monotonicSeconds()
    var best = 0.0
    var last: EvaluationResult?
    var totalValues = 0
    for epoch in 1...epochs {
      let progress = ProgressDisplay(total: stepsPerEpoch, unit: "steps")
      let epochStart = monotonicSeconds()
      let statistics = try simulation.runEpoch { crossing in
        try audit.record(crossing)
        if crossing.record.step % 16 == 0 {
          progress.update(
            done: crossing.record.step - (epoch - 1) * stepsPerEpoch,
            label: "epoch \(epoch)/\(epochs)")
        }
      }
      let seconds = monotonicSeconds() - epochStart
      totalValues += statistics.valuesSent
      let identical = simulation.frontsAreIdentical
      var row = [
        "\(epoch)", format(seconds, 3), format(statistics.noiseSeconds, 3),
        format(monotonicSeconds() - start, 3),
        "\(configuration.learningRate(atStep: simulation.coordinator.stepCount))",
        format(statistics.meanLoss, 5), format(statistics.trainingAccuracy, 5),
      ]
      if epoch % evalEvery == 0 || epoch == epochs {
        let evaluation = simulation.evaluate(on: data.test)
        last = evaluation
        best = max(best, evaluation.accuracy)
        row += [format(evaluation.meanLoss, 5), format(evaluation.accuracy, 5)]
        progress.line(
          "epoch \(epoch)/\(epochs)  train loss \(format(statistics.meanLoss, 4))  "
            + "train acc \(format(100 * statistics.trainingAccuracy, 2))%  "
            + "test acc \(format(100 * evaluation.accuracy, 2))%  (\(format(seconds, 1)) s)")
      } else {
        row += ["", ""]
      }
      row += ["\(statistics.valuesSent)", identical ? "1" : "0"]
      run.append(row: row)
      guard identical else {
        throw CLIError("internal error: the participants' fronts differ after epoch \(epoch)")
      }
    }
    let account = SplitPrivacyAccount(
      epsilonPerValue: epsilon, epochs: epochs, valuesPerSample: valuesPerSample,
      batchSize: batchSize, boundary: boundary, deltaPrime: delta)
    for line in account.lines { print(line) }
    try run.writeJSON(
      SplitRunRecord.Privacy(
        account: account, simulation: simulation, noise: epsilon == nil ? nil : noise,
        auditRows: audit.rows),
      to: "privacy.json")
    let summary = SplitRunRecord.Summary(
      epsilon: SplitSimulateCommand.name(epsilon), epochs: epochs,
      finalTestAccuracy: last?.accuracy ?? 0, finalTestLoss: last?.meanLoss ?? 0,
      bestTestAccuracy: best, steps: simulation.coordinator.stepCount, valuesSent: totalValues,
      frontsIdentical: simulation.frontsAreIdentical, wallSeconds: monotonicSeconds() - start)
    try run.writeJSON(summary, to: "summary.json")
    return summary
  }
}
