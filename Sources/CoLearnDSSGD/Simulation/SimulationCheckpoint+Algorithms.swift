import CoLearnNN
import CoLearnTensor

extension DSSGDSimulation: CheckpointableSimulation {
  public func checkpoint() throws(CheckpointError) -> SimulationCheckpoint {
    guard remote == nil else {
      throw .unsupported(
        "a --transport grpc simulation keeps w_global in its server; checkpoints are for "
          + "in-process simulations")
    }
    if configuration.privacy?.insecureSeededNoise == true {
      throw .unsupported(
        "runs with --insecure-seeded-noise cannot be checkpointed (the seeded noise streams "
          + "are not saved); run without checkpoints (--checkpoint-minutes 0)")
    }
    var checkpoint = SimulationCheckpoint(
      roundsCompleted: roundsCompleted, models: participants.map(\.model),
      generators: participants.map(\.generator) + [orderGenerator])
    checkpoint.ledgers = participants.compactMap(\.privacy?.ledger)
    let state = server
    checkpoint.global = state.parameters
    checkpoint.stat = state.stat
    checkpoint.uploadCount = state.uploadCount
    checkpoint.updatedParameterCount = state.updatedParameterCount
    return checkpoint
  }

  public func restore(from checkpoint: SimulationCheckpoint) throws(CheckpointError) {
    _ = try self.checkpoint()  // the same refusals
    try checkpoint.check(
      participants: participants.count, dimension: parameterServer.dimension,
      generators: participants.count + 1)
    let privateRun = configuration.privacy != nil
    guard checkpoint.ledgers.count == (privateRun ? participants.count : 0) else {
      throw .mismatch("its privacy ledgers do not match the run's privacy settings")
    }
    guard let global = checkpoint.global, let stat = checkpoint.stat else {
      throw .mismatch("it holds no parameter-server state (another --algorithm?)")
    }
    for id in participants.indices {
      participants[id].model = checkpoint.models[id]
      participants[id].generator = checkpoint.generators[id]
      if privateRun { participants[id].privacy?.ledger = checkpoint.ledgers[id] }
    }
    orderGenerator = checkpoint.generators[participants.count]
    parameterServer.restore(
      ParameterServerState(
        parameters: global, stat: stat, statDecay: configuration.statDecay,
        uploadCount: checkpoint.uploadCount,
        updatedParameterCount: checkpoint.updatedParameterCount))
    roundsCompleted = checkpoint.roundsCompleted
  }
}

extension FedAvgSimulation: CheckpointableSimulation {
  public func checkpoint() throws(CheckpointError) -> SimulationCheckpoint {
    var checkpoint = SimulationCheckpoint(
      roundsCompleted: roundsCompleted, models: participants.map(\.model),
      generators: participants.map(\.generator))
    checkpoint.global = global
    return checkpoint
  }

  public func restore(from checkpoint: SimulationCheckpoint) throws(CheckpointError) {
    try checkpoint.check(
      participants: participants.count, dimension: global.count,
      generators: participants.count)
    guard let saved = checkpoint.global else {
      throw .mismatch("it holds no global model (another --algorithm?)")
    }
    restoreParticipants(&participants, from: checkpoint)
    global = saved
    roundsCompleted = checkpoint.roundsCompleted
  }
}

extension StandaloneSimulation: CheckpointableSimulation {
  public func checkpoint() throws(CheckpointError) -> SimulationCheckpoint {
    SimulationCheckpoint(
      roundsCompleted: roundsCompleted, models: participants.map(\.model),
      generators: participants.map(\.generator))
  }

  public func restore(from checkpoint: SimulationCheckpoint) throws(CheckpointError) {
    try checkpoint.check(
      participants: participants.count,
      dimension: participants.first?.model.parameters.count ?? 0,
      generators: participants.count)
    guard checkpoint.global == nil else {
      throw .mismatch("it holds a global model (another --algorithm?)")
    }
    restoreParticipants(&participants, from: checkpoint)
    roundsCompleted = checkpoint.roundsCompleted
  }
}

extension CentralizedSimulation: CheckpointableSimulation {
  public func checkpoint() throws(CheckpointError) -> SimulationCheckpoint {
    SimulationCheckpoint(
      roundsCompleted: roundsCompleted, models: [model], generators: [generator])
  }

  public func restore(from checkpoint: SimulationCheckpoint) throws(CheckpointError) {
    try checkpoint.check(
      participants: 1, dimension: model.parameters.count, generators: 1)
    model = checkpoint.models[0]
    generator = checkpoint.generators[0]
    roundsCompleted = checkpoint.roundsCompleted
  }
}

/// Models and streams back into the participants, in order (counts already checked).
private func restoreParticipants(
  _ participants: inout [Participant], from checkpoint: SimulationCheckpoint
) {
  for id in participants.indices {
    participants[id].model = checkpoint.models[id]
    participants[id].generator = checkpoint.generators[id]
  }
}
