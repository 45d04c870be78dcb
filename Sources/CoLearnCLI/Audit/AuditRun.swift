import CoLearnAudit
import CoLearnData
import CoLearnDSSGD
import CoLearnNN
import CoLearnTensor
import Foundation

/// One `colearn audit`: the federation with canaries and a recording server, then the attacks.
struct AuditRun {
  let command: AuditCommand
  let simulate: SimulateCommand

  /// One upload as the server saw it: the sender, the round, the w_global it started from and
  /// the change of the whole flat vector (zeros where nothing was uploaded).
  struct ObservedUpload {
    var participant: Int
    var round: Int
    var downloadedGlobal: [Float]
    var change: [Float]
    var uploadedValues: Int
  }

  /// What an audit produced: the report, the reconstruction figure's rows, and what
  /// `--save-model` writes (the final model and the loss attack's candidates).
  struct Outcome {
    var report: AuditReport
    var pictures: [ReconstructionPicture]
    var global: [Float]
    var members: LabeledSamples
    var nonMembers: LabeledSamples
    var spec: ModelSpec
    var schema: DatasetSchema
  }

  func execute() throws -> Outcome {
    let setup = try SimulationSetup(command: simulate)
    let spec = setup.spec
    let network = spec.makeNetwork()
    let initial: [Float]
    let shards: [LabeledSamples]
    if let plain = setup.dssgdSimulation {
      initial = plain.participants[0].model.parameters
      shards = plain.participants.map(\.samples)
    } else if let fedavg = setup.federation as? FedAvgSimulation {
      initial = fedavg.global
      shards = fedavg.participants.map(\.samples)
    } else {
      throw CLIError("colearn audit needs --algorithm dssgd or fedavg")
    }
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

    // The federation, and what the server sees of it in the attacked rounds.
    let reconstruction = LinearLayerReconstruction(network: network)
    var perParticipant: [AuditReport.ParticipantFindings] = []
    var pictures: [ReconstructionPicture] = []
    func attack(_ upload: ObservedUpload) throws {
      let shard = shards[upload.participant]
      let membership = try UploadGradientAttack(
        network: network, parameters: upload.downloadedGlobal, change: upload.change
      ).run(members: shard, nonMembers: pool.slice(0..<min(pool.count, shard.count)))
      let recovered = try reconstruction.map {
        try $0.run(
          change: upload.change, records: shard.features,
          threshold: command.similarityThreshold)
      }
      if let reconstruction, pictures.count < 8 {
        pictures += try ReconstructionPicture.best(
          reconstruction, change: upload.change, records: shard, inputShape: network.inputShape,
          participant: upload.participant, round: upload.round, count: 4)
      }
      perParticipant.append(
        AuditReport.ParticipantFindings(
          participant: upload.participant, round: upload.round,
          uploadedValues: upload.uploadedValues, uploadMembership: membership,
          reconstruction: recovered.map {
            AuditReport.Reconstruction(
              usableRows: $0.usableRows, rows: $0.rows,
              recoveredFraction: $0.recoveredFraction)
          }))
    }
    let global: [Float]
    var claim: (PrivacyClaim?, String) = (nil, "")
    if setup.dssgdSimulation != nil {
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
      global = server.global
      for upload in server.uploads where command.attackRounds.contains(upload.round) {
        var change = [Float](repeating: 0, count: network.parameterCount)
        for (index, value) in zip(upload.update.indices, upload.update.values) {
          change[Int(index)] = value
        }
        try attack(
          ObservedUpload(
            participant: upload.participant, round: upload.round,
            downloadedGlobal: upload.downloadedGlobal, change: change,
            uploadedValues: upload.update.count))
      }
      claim = try privacyClaim(setup: setup, simulation: simulation)
    } else {
      // FedAvg: every participant uploads its whole model, the server sees the change from the
      // global model it started the round from.
      let fedavg = FedAvgSimulation(
        network: spec.makeNetwork(), training: setup.sgd, localEpochs: simulate.localEpochs,
        initialParameters: initial, shards: audited,
        generator: SeededGenerator(seed: simulate.training.seed).derived(stream: 0xA0D2))
      for round in 1...simulate.rounds {
        let before = fedavg.global
        _ = fedavg.runRound()
        guard command.attackRounds.contains(round) else { continue }
        for (id, participant) in fedavg.participants.enumerated() {
          let change = zip(participant.model.parameters, before).map { $0 - $1 }
          try attack(
            ObservedUpload(
              participant: id, round: round, downloadedGlobal: before, change: change,
              uploadedValues: change.count))
        }
      }
      global = fedavg.global
      claim = try privacyClaim(setup: setup, simulation: nil)
    }
    let accuracy = evaluate(
      network, parameters: global, on: pool, batchSize: spec.evaluationBatchSize
    ).accuracy

    // A model user: the loss-threshold attack on the final global model, and with reference
    // models offline LiRA (the pool's second half trains them, its first half are the
    // non-members, so no reference model saw a candidate).
    let userAttack = LossThresholdAttack(network: network, parameters: global)
    let members = LabeledSamples.concatenating(shards)
    let nonMemberPool = command.referenceModels > 0 ? pool.count / 2 : pool.count
    let nonMembers = pool.slice(0..<min(nonMemberPool, max(members.count, 1)))
    let modelUser = try userAttack.run(members: members, nonMembers: nonMembers)
    var referenceAttack: AuditReport.ReferenceModels?
    if command.referenceModels > 0 {
      let data = pool.slice(nonMemberPool..<pool.count)
      let size = min(data.count, members.count + canaries.count / 2)
      let epochs = simulate.rounds * (simulate.algorithm == .fedavg ? simulate.localEpochs : 1)
      var generator = SeededGenerator(seed: simulate.training.seed).derived(stream: 0xA0D3)
      let trainer = Trainer(network: network, configuration: setup.sgd)
      let references = (0..<command.referenceModels).map { _ in
        let subset = data.gather(
          Array(Array(0..<data.count).shuffled(using: &generator).prefix(size)))
        var parameters = initial
        network.initialize(&parameters, using: &generator)
        var model = LocalModel(parameters: parameters)
        for _ in 0..<epochs { _ = trainer.trainEpoch(&model, on: subset, using: &generator) }
        return model.parameters
      }
      let attack = try ReferenceModelAttack(
        network: network, target: global, references: references)
      referenceAttack = AuditReport.ReferenceModels(
        models: references.count, recordsEach: size, epochs: epochs,
        metrics: try attack.run(members: members, nonMembers: nonMembers))
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
    let check = try claim.0.map { try PrivacyClaimCheck(canaryResult, against: $0) }

    let report = AuditReport(
      model: spec.name, parameterCount: network.parameterCount,
      algorithm: simulate.algorithm == .fedavg
        ? "FedAvg (E = \(simulate.localEpochs))" : "DSSGD", participants: n,
      shardSize: setup.shardSize, rounds: simulate.rounds, batchSize: setup.sgd.batchSize,
      uploadFraction: simulate.algorithm == .fedavg ? 1 : setup.dssgd.uploadFraction,
      downloadFraction: simulate.algorithm == .fedavg ? 1 : setup.dssgd.downloadFraction,
      privacy: setup.privacyReport?.banner ?? (setup.dssgd.dpsgd == nil ? "none" : "DP-SGD"),
      seed: simulate.training.seed, globalAccuracy: accuracy, modelUser: modelUser,
      referenceModels: referenceAttack,
      attackedRounds: command.attackRounds.description,
      server: perParticipant, canaries: canaryResult, ledgerCheck: check, ledgerNote: claim.1,
      similarityThreshold: command.similarityThreshold,
      reconstructionFigure: pictures.isEmpty ? nil : AuditReport.reconstructionFigureName)
    return Outcome(
      report: report, pictures: pictures, global: global, members: members,
      nonMembers: nonMembers, spec: spec, schema: setup.schema)
  }

  /// The upper bound the canaries are held against: `--claimed-epsilon`, else the run's own
  /// ledger (the largest ε over participants), with a note on its unit; nil for a run without
  /// a private mechanism.
  func privacyClaim(setup: SimulationSetup, simulation: DSSGDSimulation?) throws
    -> (PrivacyClaim?, String)
  {
    let canaryUnit =
      "the canary bound's unit is one canary record in or out of one participant's shard, "
      + "seen by a user of the final model"
    if let epsilon = command.claimedEpsilon {
      return (
        try PrivacyClaim(
          epsilon: epsilon, delta: command.claimedDelta,
          unit: "as claimed by --claimed-epsilon (assumed to cover one record of a shard)",
          source: "--claimed-epsilon"),
        "The claim comes from --claimed-epsilon, not from the run's ledger; \(canaryUnit)."
      )
    }
    if let settings = setup.dssgd.privacy, let simulation {
      let epsilon = simulation.participants.compactMap { $0.privacy?.ledger.spentEpsilon }.max()
      let seeded =
        settings.insecureSeededNoise
        ? " The noise came from the seeded generator (--insecure-seeded-noise): the ledger's ε "
          + "is what the mechanism would give with secret noise; this attacker does not use the seed."
        : ""
      return (
        try PrivacyClaim(
          epsilon: epsilon ?? 0, delta: 0,
          unit: "participant-level: any change of one participant's shard (so also one record), "
            + "covering its uploads and everything computed from them, including the final model",
          source: "the \(setup.dssgd.selection.rawValue) ledger, basic composition over epochs, "
            + "largest over participants"),
        "The units differ but nest: the ledger's ε protects a participant's whole shard (the "
          + "selection's sensitivity is the range γ of any change), so it also bounds one record; "
          + "\(canaryUnit). A lower bound above it is a bug.\(seeded)"
      )
    }
    if let dpsgd = setup.dssgd.dpsgd, let simulation {
      let delta = simulate.upload.common.delta
      let ledgers = try simulation.participants.map { participant in
        try DPSGDLedger(
          learner: "participant \(participant.id + 1)", charges: participant.dpsgd!.charges,
          privacy: dpsgd.training, delta: delta, secureNoise: !dpsgd.insecureSeededNoise,
          scope: .shard)
      }
      return (
        try PrivacyClaim(
          epsilon: ledgers.map(\.epsilon).max() ?? 0, delta: delta,
          unit: ledgers.first?.unit ?? "record-level",
          source: "the DP-SGD ledger (RDP accountant), largest over participants"),
        "Same unit: the DP-SGD ledger is record-level over each participant's shard (one "
          + "record added or removed), and it covers the final model (post-processing of every "
          + "participant's DP-SGD steps); \(canaryUnit). A lower bound above it is a bug."
      )
    }
    return (nil, "No ledger: the run has no private mechanism (pass --claimed-epsilon to audit a claim).")
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
