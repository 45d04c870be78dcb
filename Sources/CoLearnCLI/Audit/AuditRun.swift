import CoLearnAudit
import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import Foundation

/// One `colearn audit`: the federation with canaries and a recording server, then the attacks.
struct AuditRun {
  let command: AuditCommand
  let simulate: SimulateCommand

  func execute() throws -> AuditReport {
    let setup = try SimulationSetup(command: simulate)
    guard let plain = setup.dssgdSimulation else {
      throw CLIError("colearn audit needs a DSSGD simulation")
    }
    let spec = setup.spec
    let network = spec.makeNetwork()
    let initial = plain.participants[0].model.parameters
    let shards = plain.participants.map(\.samples)
    let n = shards.count

    // Canaries from the end of the test set; the rest of it is the non-member pool.
    let test = setup.test
    guard command.canaries <= test.count / 2 else {
      throw CLIError(
        "--canaries \(command.canaries) is more than half of the \(test.count) test records; "
          + "use at most \(test.count / 2) or more test data (--test-limit)")
    }
    let pool = test.slice(0..<(test.count - command.canaries))
    let canaries = test.slice((test.count - command.canaries)..<test.count)
    var coins = SeededGenerator(seed: simulate.training.seed).derived(stream: 0xA0D1)
    let included = (0..<canaries.count).map { _ in Bool.random(using: &coins) }
    var canaryShards = [[Int]](repeating: [], count: n)
    for (index, isIn) in included.enumerated() where isIn {
      canaryShards[index % n].append(index)
    }
    let audited = shards.indices.map { shards[$0].appending(canaries.gather(canaryShards[$0])) }

    let server = RecordingParameterServer(
      initialParameters: initial, statDecay: setup.dssgd.statDecay, participants: n)
    let simulation = DSSGDSimulation(
      makeNetwork: { spec.makeNetwork() }, training: setup.sgd, configuration: setup.dssgd,
      initialParameters: initial, shards: audited,
      generator: SeededGenerator(seed: simulate.training.seed).derived(stream: 0xA0D2),
      concurrency: setup.threads,
      remote: RemoteServers(
        clients: (0..<n).map { server.client(for: $0) }, readGlobal: { server.global }))
    for _ in 0..<simulate.rounds { _ = try simulation.runRound() }
    setup.local?.stop()
    let global = server.global
    let accuracy = evaluate(
      network, parameters: global, on: pool, batchSize: spec.evaluationBatchSize
    ).accuracy

    // A model user: the loss-threshold attack on the final global model.
    let userAttack = LossThresholdAttack(network: network, parameters: global)
    let members = LabeledSamples.concatenating(shards)
    let nonMembers = pool.slice(0..<min(pool.count, max(members.count, 1)))
    let modelUser = try userAttack.run(members: members, nonMembers: nonMembers)

    // The server: each participant's first upload.
    var perParticipant: [AuditReport.ParticipantFindings] = []
    let reconstruction = LinearLayerReconstruction(network: network)
    for upload in server.uploads where upload.round == 1 {
      let shard = shards[upload.participant]
      var change = [Float](repeating: 0, count: network.parameterCount)
      for (index, value) in zip(upload.update.indices, upload.update.values) {
        change[Int(index)] = value
      }
      let membership = try UploadGradientAttack(
        network: network, parameters: upload.downloadedGlobal, change: change
      ).run(members: shard, nonMembers: pool.slice(0..<min(pool.count, shard.count)))
      let recovered = try reconstruction.map {
        try $0.run(
          change: change, records: shard.features, threshold: command.similarityThreshold)
      }
      perParticipant.append(
        AuditReport.ParticipantFindings(
          participant: upload.participant, uploadedValues: upload.update.count,
          uploadMembership: membership,
          reconstruction: recovered.map {
            AuditReport.Reconstruction(
              usableRows: $0.usableRows, rows: $0.rows,
              recoveredFraction: $0.recoveredFraction)
          }))
    }

    // The canaries, guessed by a model user from the loss (a fixed rule: a quarter each way).
    let audit = try CanaryAudit(
      delta: setup.dssgd.dpsgd == nil && setup.dssgd.privacy == nil
        ? 0 : simulate.upload.common.delta,
      confidence: command.confidence)
    let canaryScores = userAttack.scores(canaries)
    let guesses = CanaryAudit.guesses(
      scores: canaryScores, positives: canaries.count / 4, negatives: canaries.count / 4)
    let canaryResult = try audit.run(included: included, guesses: guesses)

    return AuditReport(
      model: spec.name, parameterCount: network.parameterCount, participants: n,
      shardSize: setup.shardSize, rounds: simulate.rounds,
      uploadFraction: setup.dssgd.uploadFraction, downloadFraction: setup.dssgd.downloadFraction,
      privacy: setup.privacyReport?.banner ?? (setup.dssgd.dpsgd == nil ? "none" : "DP-SGD"),
      seed: simulate.training.seed, globalAccuracy: accuracy, modelUser: modelUser,
      server: perParticipant, canaries: canaryResult,
      similarityThreshold: command.similarityThreshold)
  }
}

extension LabeledSamples {
  /// The records in `range`, in order.
  func slice(_ range: Range<Int>) -> LabeledSamples {
    gather(Array(range))
  }

  /// The records at `indices`, in that order.
  func gather(_ indices: [Int]) -> LabeledSamples {
    var features: [Float] = []
    features.reserveCapacity(indices.count * sampleSize)
    for index in indices {
      features += self.features[index * sampleSize..<(index + 1) * sampleSize]
    }
    return LabeledSamples(
      features: features, labels: indices.map { labels[$0] }, sampleSize: sampleSize)
  }

  /// These records followed by `other`'s.
  func appending(_ other: LabeledSamples) -> LabeledSamples {
    LabeledSamples(
      features: features + other.features, labels: labels + other.labels, sampleSize: sampleSize)
  }

  /// All records of `parts`, in order (the parts must not be empty).
  static func concatenating(_ parts: [LabeledSamples]) -> LabeledSamples {
    parts.dropFirst().reduce(parts[0]) { $0.appending($1) }
  }
}
