import CoLearnDSSGD
import CoLearnNN
import CoLearnPrivacy
import Foundation
import Testing

@testable import CoLearnCLI

/// Issue 21 items 5–6: the privacy flags are validated once for `simulate` and `participate`,
/// and every privacy statement says what ε protects, over what — or plainly that nothing does.
@Suite struct UploadPrivacyTests {
  /// The message `simulate` and `participate` print for `flags`, or nil when they parse.
  func refusals(_ flags: [String]) -> (simulate: String?, participate: String?) {
    var simulate: String?
    do { _ = try SimulateCommand.parse(flags) } catch { simulate = SimulateCommand.message(for: error) }
    var participate: String?
    do {
      _ = try ParticipateCommand.parse(["--server", "127.0.0.1:1", "--insecure"] + flags)
    } catch {
      participate = ParticipateCommand.message(for: error)
    }
    return (simulate, participate)
  }

  /// The same privacy flags are refused by both commands with the same message; `simulate`
  /// used to accept DP-SGD together with a private selection (two mechanisms at once), which
  /// `participate` refused only after joining the server.
  @Test(arguments: [
    (["--privacy", "dp-sgd", "--noise-multiplier", "1", "--selection", "svt", "--bound", "0.001",
      "--dp-epsilon", "1"], "two mechanisms"),
    (["--insecure-seeded-noise"], "--insecure-seeded-noise needs a private mechanism"),
    (["--selection", "svt", "--bound", "0.001"], "add --dp-epsilon"),
    (["--selection", "exponential", "--dp-epsilon", "1"], "add --bound"),
    (["--dp-epsilon", "1"], "--selection svt or exponential"),
    (["--dp-budget", "3"], "--dp-epsilon with it"),
    (["--privacy", "dp-sgd"], "exactly one of --noise-multiplier"),
    (["--noise-multiplier", "1"], "need --privacy dp-sgd"),
    (["--delta", "2", "--privacy", "dp-sgd", "--noise-multiplier", "1"], "invalid --delta 2"),
  ])
  func simulateAndParticipateRefuseTheSamePrivacyFlagsAlike(_ flags: [String], _ reason: String) {
    let (simulate, participate) = refusals(flags)
    #expect(simulate?.contains(reason) == true, "\(String(describing: simulate))")
    #expect(simulate == participate)
  }

  @Test func validPrivacyFlagsParseInBoth() {
    for flags in [
      [], ["--privacy", "dp-sgd", "--noise-multiplier", "1", "--insecure-seeded-noise"],
      ["--selection", "svt", "--bound", "0.001", "--dp-epsilon", "1", "--dp-budget", "3"],
    ] {
      let (simulate, participate) = refusals(flags)
      #expect(simulate == nil && participate == nil, "\(flags): \(String(describing: simulate))")
    }
  }

  func configuration(
    selection: SelectionCriterion = .largest, privacy: PrivacySettings? = nil,
    sigma: Double? = nil, seeded: Bool = false
  ) throws -> DSSGDConfiguration {
    try DSSGDConfiguration(
      participants: 2, uploadFraction: 0.1, selection: selection,
      bound: privacy == nil ? nil : 0.001, privacy: privacy,
      dpsgd: try sigma.map {
        DPSGDSettings(
          training: try DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: $0),
          insecureSeededNoise: seeded)
      })
  }

  /// Each mechanism states its unit and scope; a run without one says it has no guarantee;
  /// σ = 0 (ε = ∞) and seeded noise are warned about, for a participant as for a simulation.
  @Test(arguments: [UploadPrivacy.Audience.simulation, .participant])
  func theStatementGivesTheUnitOrSaysThereIsNoGuarantee(_ audience: UploadPrivacy.Audience) throws {
    func statement(_ configuration: DSSGDConfiguration) -> String {
      UploadPrivacy.statement(of: configuration, delta: 1e-5, for: audience)
        .joined(separator: "\n")
    }
    let none = statement(try configuration())
    #expect(none.contains("privacy: none") && none.contains("no formal guarantee"), "\(none)")
    #expect(!none.contains("WARNING"))

    let dpsgd = statement(try configuration(sigma: 1.1))
    let scope = audience == .simulation ? "each participant's own shard" : "this participant's data"
    #expect(dpsgd.contains("ε is record-level over \(scope) (δ = 1e-05)"), "\(dpsgd)")
    #expect(!dpsgd.contains("WARNING"), "\(dpsgd)")

    let unnoised = statement(try configuration(sigma: 0))
    #expect(unnoised.contains("WARNING: σ = 0") && unnoised.contains("ε = ∞"), "\(unnoised)")

    let seeded = statement(try configuration(sigma: 1, seeded: true))
    #expect(seeded.contains("WARNING: --insecure-seeded-noise"), "\(seeded)")
    #expect(seeded.contains("NOT differentially private"))

    let svt = statement(
      try configuration(
        selection: .svt, privacy: try PrivacySettings(epsilon: 0.5, insecureSeededNoise: true)))
    #expect(svt.contains("privacy: svt, ε = 0.5 per participant and epoch"), "\(svt)")
    #expect(svt.contains("NOT one training record"))
    #expect(svt.contains("WARNING: --insecure-seeded-noise"))
  }

  /// privacy-ledger.json of a private selection states its unit; DP-SGD's states its scope.
  @Test func everyPrivacyLedgerStatesItsUnitAndScope() throws {
    let report = PrivacyReport(
      settings: try PrivacySettings(epsilon: 1), selection: .exponential)
    let ledger = report.ledger(for: [], capacity: 10)
    let json = try #require(
      try JSONSerialization.jsonObject(with: JSONEncoder().encode(ledger)) as? [String: Any])
    let unit = try #require(json["unit"] as? String)
    #expect(unit.hasPrefix("upload-level, per participant") && unit.contains("NOT in one training record"))
    #expect(report.table(ledger).contains("ε is upload-level"))

    var charges = DPSGDCharges(
      sampling: .poisson, samplingRate: 0.01, noiseMultiplier: 1, stepsPerEpoch: 100)
    charges.charge(steps: 100)
    let training = try DPSGDConfiguration(maxGradientNorm: 1, noiseMultiplier: 1)
    for (scope, words) in [
      (DPSGDLedger.Scope.trainingSet, "over the whole training set"),
      (.shard, "over this participant's own shard"), (.dataset, "over this participant's dataset"),
    ] {
      let dpsgd = try DPSGDLedger(
        learner: "test", charges: charges, privacy: training, delta: 1e-5, secureNoise: true,
        scope: scope)
      #expect(dpsgd.unit.hasPrefix("record-level: training sets differing by one record added"))
      #expect(dpsgd.unit.contains(words), "\(dpsgd.unit)")
    }
  }

  /// Split learning: values sent without noise (the default ε = inf) and seeded noise are
  /// warned about, and a finite ε is stated per crossing, not per image.
  @Test func splitLearningWarnsAboutNoNoiseAndScopesItsEpsilon() {
    let defaulted = SplitSimulateCommand.privacyWarnings(epsilons: [nil], insecureSeededNoise: false)
    #expect(defaulted.count == 1)
    #expect(defaulted[0].hasPrefix("WARNING: ε = inf (the default of --epsilon)"), "\(defaulted)")
    #expect(defaulted[0].contains("WITHOUT noise"))
    let noised = SplitSimulateCommand.privacyWarnings(epsilons: [5], insecureSeededNoise: true)
    #expect(noised.contains { $0.hasPrefix("WARNING: --insecure-seeded-noise") })
    #expect(noised.contains { $0.contains("per crossing") && $0.contains("not an upper bound per image") })
    #expect(!noised.contains { $0.contains("ε = inf") })
    #expect(SplitRunRecord.Privacy.scope.contains("NOT an upper bound"))
  }
}
