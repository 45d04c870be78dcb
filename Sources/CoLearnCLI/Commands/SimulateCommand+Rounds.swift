import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import Foundation

extension SimulateCommand {
  /// Runs the rounds after `progress.rounds` through `rounds`: one metrics row per round, an
  /// evaluation every `--eval-every` rounds and after the last, a checkpoint every
  /// `--checkpoint-minutes`. Returns the progress after the last round.
  func runRounds(
    _ setup: inout SimulationSetup, in run: RunDirectory, console: inout RunConsole,
    from start: SimulationRecord.Progress, checkpointPath: String
  ) throws -> SimulationRecord.Progress {
    var progress = start
    let startTime = monotonicSeconds() - start.wallSeconds
    var lastCheckpoint = monotonicSeconds()
    // Every core evaluates (whole batches each), and a first dense layer reads the test set's
    // entries off the background, listed once here for all rounds.
    let evaluator = Evaluator(setup.spec)
    let test = evaluator.prepared(setup.test)
    for round in (start.rounds + 1)...rounds {
      let statistics = try setup.federation.runRound()
      if let simulation = setup.dssgdSimulation, var report = setup.privacyReport {
        for line in report.newStops(in: simulation.participants, round: round) {
          console.line(line)
        }
        setup.privacyReport = report
      }
      progress.add(statistics)
      var row = [
        "\(round)", format(statistics.seconds, 4), format(statistics.trainSeconds, 4),
        format(statistics.selectSeconds, 4), format(statistics.exchangeSeconds, 4),
        format(monotonicSeconds() - startTime, 3),
      ]
      if round % evaluationPeriod == 0 || round == rounds {
        let evaluationStart = monotonicSeconds()
        let evaluation = setup.federation.evaluate(
          on: test, with: evaluator, batchSize: setup.spec.evaluationBatchSize)
        progress.evaluationSeconds = (progress.evaluationSeconds ?? 0)
          + (monotonicSeconds() - evaluationStart)
        progress.last = evaluation
        progress.bestMeanAccuracy = max(progress.bestMeanAccuracy, evaluation.meanAccuracy)
        let accuracies = evaluation.participantAccuracies
        row += [
          format(evaluation.meanAccuracy, 5), format(accuracies.min() ?? 0, 5),
          format(accuracies.max() ?? 0, 5), evaluation.globalAccuracy.map { format($0, 5) } ?? "",
        ]
        let global = evaluation.globalAccuracy.map { "global \(format(100 * $0, 2))%  " } ?? ""
        console.line(
          "round \(round)/\(rounds)  mean acc \(format(100 * evaluation.meanAccuracy, 2))%  "
            + "max \(format(100 * (accuracies.max() ?? 0), 2))%  \(global)"
            + "(\(format(statistics.seconds, 2)) s/round training and exchange, "
            + "\(format((monotonicSeconds() - startTime) / Double(round), 2)) s/round wall "
            + "with evaluation)")
      } else {
        row += ["", "", "", ""]
      }
      console.update(done: round - start.rounds, label: "round \(round)/\(rounds)")
      row += [
        "\(statistics.uploadedParameters)", "\(statistics.uploadBytes)",
        "\(statistics.downloadedParameters)", "\(statistics.downloadBytes)",
      ]
      run.append(row: row)
      progress.rounds = round
      progress.wallSeconds = monotonicSeconds() - startTime
      if let checkpointable = setup.checkpointable, checkpointMinutes > 0,
        round == rounds || monotonicSeconds() - lastCheckpoint >= 60 * checkpointMinutes
      {
        try saveCheckpoint(of: checkpointable, progress: progress, to: checkpointPath)
        lastCheckpoint = monotonicSeconds()
      }
    }
    return progress
  }

  /// Writes the global model as model.safetensors (where the algorithm has one) and, with
  /// --save-participant-models, each participant's as participants/I.safetensors.
  func saveModels(of setup: SimulationSetup, in run: RunDirectory) throws {
    let algorithm = self.algorithm.rawValue
    if let global = setup.federation.globalModel {
      try run.writeModel(
        setup.spec, parameters: global, schema: setup.schema, to: "model.safetensors",
        source: "colearn simulate --algorithm \(algorithm), the global model after round \(rounds)")
    }
    guard saveParticipantModels else { return }
    do {
      try FileManager.default.createDirectory(
        at: run.url.appendingPathComponent("participants"), withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot create \(run.url.path)/participants: \(error.localizedDescription)")
    }
    for (index, parameters) in setup.federation.participantModels.enumerated() {
      try run.writeModel(
        setup.spec, parameters: parameters, schema: setup.schema,
        to: "participants/\(index).safetensors",
        source: "colearn simulate --algorithm \(algorithm), participant \(index) after round \(rounds)")
    }
  }

  /// Writes summary.json (and privacy-ledger.json for a private DSSGD run) and prints the last
  /// lines.
  func writeSummary(
    of setup: SimulationSetup, progress: SimulationRecord.Progress, in run: RunDirectory,
    console: inout RunConsole
  ) throws {
    let summary = SimulationRecord.Summary(
      progress: progress, workers: setup.federation.workerCount)
    try run.writeJSON(summary, to: "summary.json")
    try saveModels(of: setup, in: run)
    if let simulation = setup.dssgdSimulation, let report = setup.privacyReport {
      let ledger = report.ledger(
        for: simulation.participants,
        capacity: fractionCount(setup.dssgd.uploadFraction, of: setup.parameterCount))
      try run.writeJSON(ledger, to: "privacy-ledger.json")
      console.say(report.table(ledger))
    }
    if let simulation = setup.dssgdSimulation, let dpsgd = setup.dssgd.dpsgd {
      let delta = upload.common.delta
      let ledgers = try simulation.participants.map { participant in
        try DPSGDLedger(
          learner: "participant \(participant.id + 1)", charges: participant.dpsgd!.charges,
          privacy: dpsgd.training, delta: delta, secureNoise: !dpsgd.insecureSeededNoise,
          scope: .shard)
      }
      try run.writeJSON(ledgers, to: "privacy-ledger.json")
      var table = Table(headers: ["participant", "records", "q", "steps", "ε (δ = \(delta))"])
      for (participant, ledger) in zip(simulation.participants, ledgers) {
        table.add([
          "\(participant.id + 1)", "\(participant.samples.count)", format(ledger.samplingRate, 5),
          "\(ledger.steps)", ledger.epsilon.isFinite ? format(ledger.epsilon, 3) : "∞",
        ])
      }
      console.say(
        "DP-SGD privacy per participant (\(ledgers.first?.unit ?? ""); everything uploaded is "
          + "post-processing of each participant's DP-SGD steps, and downloads cost nothing: "
          + "w_global is the same for every participant; not covered: "
          + DPSGDLedger.notCovered.joined(separator: "; ") + ")\n" + table.render())
    }
    let globalText = summary.finalGlobalAccuracy.map { ", global \(format(100 * $0, 2))%" } ?? ""
    console.say(
      "done: mean participant accuracy \(format(100 * summary.finalMeanAccuracy, 2))%"
        + "\(globalText), \(format(progress.roundSeconds / Double(rounds), 3)) s per round "
        + "(\(format(100 * summary.trainingShareOfRounds, 1))% local training, "
        + "\(format(100 * summary.selectionShareOfRounds, 1))% selection, "
        + "\(format(100 * summary.exchangeShareOfRounds, 1))% server exchange); "
        + "\(format(progress.wallSeconds / Double(max(progress.rounds, 1)), 3)) s per round wall "
        + "with \(format(summary.evaluationSeconds, 1)) s of evaluation in all, "
        + "\(format(progress.wallSeconds, 1)) s wall")
  }
}
