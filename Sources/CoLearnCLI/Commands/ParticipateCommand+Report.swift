import CoLearnDSSGD
import CoLearnNN
import CoLearnRPC

extension ParticipateCommand {
  /// Sends the operator this participant's evaluation of its local model and the ε its ledger
  /// has spent (colearn.proto's Report: figures, never data). A failed report is said once per
  /// round and does not stop the participant: the figures are also in its own run record.
  func reportToServer(
    _ client: RemoteParameterServerClient, round: Int, result: EvaluationResult, examples: Int,
    participant: Participant
  ) {
    var report = Colearn_V1_ReportRequest()
    report.round = UInt64(round)
    report.testAccuracy = result.accuracy
    // A diverged model's loss is +∞ (NaN included), never a misleading 0.
    report.testLoss = result.meanLoss.isNaN ? .infinity : result.meanLoss
    report.testExamples = UInt64(examples)
    let seeded = upload.common.insecureSeededNoise ? " — NOT private: seeded noise" : ""
    if let state = participant.dpsgd {
      if let guarantee = try? state.charges.guarantee(delta: upload.common.delta),
        guarantee.epsilon.isFinite
      {
        report.epsilon = guarantee.epsilon
        report.delta = upload.common.delta
        let unit = state.charges.unit + ", over " + DPSGDLedger.Scope.dataset.rawValue + seeded
        report.privacyUnit = String(unit.utf8.prefix(200)) ?? ""
      }
    } else if let ledger = participant.privacy?.ledger {
      report.epsilon = ledger.spentEpsilon
      report.delta = 0
      report.privacyUnit =
        "one participant's parameter changes of an epoch (SPEC §8), not one record" + seeded
    }
    do {
      try client.report(report)
    } catch {
      print("round \(round): the server did not take this participant's report: \(error)")
    }
  }
}
