import CoLearnNN
import CoLearnRPC
import CoLearnSplit
import CoLearnTensor
import Foundation
import GRPCCore
import Logging
import Testing

/// ``SplitFederation``'s Step through its own API (no transport): issue 19 item 4, one step must
/// not corrupt the back. Features beyond what a batch-normalised front plus its Laplace noise
/// can produce are refused, and a step whose loss, feature gradient or updated back would be
/// non-finite is never applied.
@Suite struct SplitFederationTests {
  static let architecture = SplitCoordinatorTests.architecture
  static var featureSize: Int { architecture.featureShape.count }

  static func initialBack() -> [Float] {
    let back = architecture.makeBack()
    var parameters = [Float](repeating: 0, count: back.parameterCount)
    var generator = SeededGenerator(seed: 3)
    back.initialize(&parameters, using: &generator)
    return parameters
  }

  /// A one-participant coordinator on `back`, joined and holding a lease: (federation, id,
  /// lease).
  static func coordinator(
    back: [Float] = initialBack(), learningRate: Float = 0.1
  ) async throws -> (SplitFederation, String, String) {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    let federation = SplitFederation(
      settings: SplitFederationSettings(
        model: SplitCoordinatorTests.model, participants: 1, featureSize: featureSize,
        classCount: 10, maxBatchSize: 8, learningRate: learningRate, learningRateDecay: 0,
        frontParameterCount: architecture.makeFront().parameterCount,
        backParameterCount: back.count, maxLeaseMilliseconds: 30_000),
      architecture: architecture, backParameters: back, logger: logger)
    var join = Colearn_V1_SplitJoinRequest()
    join.model = SplitCoordinatorTests.model.proto
    join.participantName = "alice"
    let id = try federation.join(join, identity: "alice").participantID
    var lock = Colearn_V1_LockRequest()
    lock.participantID = id
    lock.leaseDurationMs = 30_000
    let lease = try await federation.lock(lock, identity: "alice").leaseID
    return (federation, id, lease)
  }

  /// An honest step's request: B = 4 values in [−0.5, 0.36], declared ε = 1.
  static func step(
    id: String, lease: String, values: [Float]? = nil, epsilon: Double = 1
  ) -> Colearn_V1_StepRequest {
    var request = Colearn_V1_StepRequest()
    request.participantID = id
    request.leaseID = lease
    request.batchSize = 4
    let features = values ?? (0..<(4 * featureSize)).map { Float($0 % 7) / 7 - 0.5 }
    request.features = features.withUnsafeBytes { Data($0) }
    request.labels = [0, 1, 2, 3]
    request.epsilon = epsilon
    request.sensitivity = 2 * 3.0.squareRoot()
    return request
  }

  static func backParameters(_ federation: SplitFederation, id: String) throws -> [Float] {
    var request = Colearn_V1_DownloadBackRequest()
    request.participantID = id
    let data = try federation.downloadBack(request, identity: "alice").parameters
    return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
  }

  static func sameBits(_ a: [Float], _ b: [Float]) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
  }

  /// The observation: one Step with finite features of 3.0e38 was accepted with loss NaN, made
  /// back parameters non-finite, and every later honest step returned NaN. Now it is refused
  /// naming the bound, the back is bit for bit unchanged, and the next honest step trains.
  @Test func hugeFeaturesAreRefusedAndTheBackStaysTrainable() async throws {
    let initial = Self.initialBack()
    let (federation, id, lease) = try await Self.coordinator(back: initial)
    var values = [Float](repeating: 3.0e38, count: 4 * Self.featureSize)
    values[1] = -3.0e38
    let error = #expect(throws: FederationError.self) {
      _ = try federation.step(Self.step(id: id, lease: lease, values: values), identity: "alice")
    }
    #expect(error?.code == .invalidArgument)
    // B = 4, ε = 1: √3·(1 + 2⁻¹⁰) + 64·2√3 ≈ 223.4.
    #expect(error?.message.contains("outside ±223.4") == true, "\(error?.message ?? "")")
    #expect(error?.message.contains("batch_size 4 and epsilon 1.0") == true)
    #expect(Self.sameBits(try Self.backParameters(federation, id: id), initial))
    #expect(federation.status().steps == 0)
    #expect(federation.status().refusedSteps == 1)

    let honest = try federation.step(Self.step(id: id, lease: lease), identity: "alice")
    #expect(honest.loss.isFinite)
    #expect(honest.step == 1)
    let gradient = honest.featureGradient.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    #expect(gradient.allSatisfy { $0.isFinite })
    let back = try Self.backParameters(federation, id: id)
    #expect(back.allSatisfy { $0.isFinite })
  }

  /// Declaring a tiny ε cannot widen the bound to let huge values in; values within the bound
  /// of their declared ε (here just inside, at ε = 1) are accepted, and ε = 0 (no noise) allows
  /// only the BatchNorm range √(B−1) plus rounding slack.
  @Test func theBoundFollowsTheDeclaredEpsilonWithinLimits() async throws {
    let (federation, id, lease) = try await Self.coordinator()
    let huge = [Float](repeating: 3.0e38, count: 4 * Self.featureSize)
    let tiny = #expect(throws: FederationError.self) {
      _ = try federation.step(
        Self.step(id: id, lease: lease, values: huge, epsilon: 1e-30), identity: "alice")
    }
    #expect(tiny?.message.contains("below 0.01") == true)
    let noNoise = #expect(throws: FederationError.self) {
      _ = try federation.step(
        Self.step(
          id: id, lease: lease, values: [Float](repeating: 1.74, count: 4 * Self.featureSize),
          epsilon: 0),
        identity: "alice")
    }
    #expect(noNoise?.message.contains("outside ±1.73") == true, "\(noNoise?.message ?? "")")
    let bound = SplitFederationSettings.featureBound(batchSize: 4, epsilon: 1)
    var inside = [Float](repeating: 0, count: 4 * Self.featureSize)
    inside[0] = Float(bound) * 0.999
    inside[1] = -Float(bound) * 0.999
    let response = try federation.step(
      Self.step(id: id, lease: lease, values: inside), identity: "alice")
    #expect(response.step == 1)
  }

  /// A step whose features are in range but whose computation is not finite — here on a back
  /// poisoned with huge (finite) weights, so the forward overflows and the loss is NaN — is
  /// refused and not applied; the turn may step again.
  @Test func aStepWithANonFiniteLossIsNotApplied() async throws {
    let poisoned: [Float] = Self.initialBack().map { $0 < 0 ? -1.0e30 : 1.0e30 }
    let (federation, id, lease) = try await Self.coordinator(back: poisoned)
    for _ in 0..<2 {
      let error = #expect(throws: FederationError.self) {
        _ = try federation.step(Self.step(id: id, lease: lease), identity: "alice")
      }
      #expect(error?.code == .invalidArgument)
      #expect(error?.message.contains("not applied") == true, "\(error?.message ?? "")")
      #expect(error?.message.contains("loss") == true, "\(error?.message ?? "")")
    }
    #expect(Self.sameBits(try Self.backParameters(federation, id: id), poisoned))
    #expect(federation.status().steps == 0)
    #expect(federation.status().refusedSteps == 2)
  }

  /// A step with a finite loss and feature gradient whose SGD update would overflow back
  /// parameters (a learning rate of Float.greatestFiniteMagnitude, features of ±100, well within
  /// the bound) is refused, and the back is bit for bit what it was.
  @Test func aStepWhoseUpdateWouldOverflowIsNotApplied() async throws {
    let initial = Self.initialBack()
    let (federation, id, lease) = try await Self.coordinator(
      back: initial, learningRate: .greatestFiniteMagnitude)
    let values = (0..<(4 * Self.featureSize)).map { Float($0 % 3) * 100 - 100 }
    let error = #expect(throws: FederationError.self) {
      _ = try federation.step(Self.step(id: id, lease: lease, values: values), identity: "alice")
    }
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.contains("back parameter(s) non-finite") == true, "\(error?.message ?? "")")
    #expect(Self.sameBits(try Self.backParameters(federation, id: id), initial))
    #expect(federation.status().steps == 0)
  }
}
