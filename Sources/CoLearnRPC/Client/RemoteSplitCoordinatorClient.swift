import CoLearnWire
import GRPCCore
import GRPCNIOTransportHTTP2

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// What the coordinator answered to one step.
public struct SplitStepResult: Sendable {
  /// ∂L/∂features, B × feature_size values.
  public var featureGradient: [Float]
  /// α_t of this step: the rate of the front update.
  public var learningRate: Float
  /// The coordinator's step number (from 1).
  public var step: UInt64
  /// The batch's mean loss and correctly classified samples (on the noisy features).
  public var loss: Float
  public var correct: Int
}

/// A split-learning participant's connection to `colearn split serve` (split.proto), over the
/// same ``RPCConnection`` as the DSSGD participant: TLS, bearer token, blocking calls, retries of
/// transient failures. Joins on creation.
///
/// Calls block the calling thread: drive it from a thread of its own.
public final class RemoteSplitCoordinatorClient: @unchecked Sendable {
  /// The coordinator's settings, from Join.
  public private(set) var configuration = Colearn_V1_SplitConfiguration()
  /// The relay's sequence number at Join.
  public private(set) var sequenceAtJoin: UInt64 = 0
  /// Called with a line for each retried failure.
  public var onRetry: ((String) -> Void)?

  private let connection: RPCConnection
  private let leaseMilliseconds: UInt32
  private let retryFor: Duration
  private let callTimeout: Duration
  private var participantID = ""
  /// The open HoldTurn call of the current turn.
  private var held: HeldTurn?
  /// Set when the coordinator answered HoldTurn with UNIMPLEMENTED: turns use Lock.
  private var holdTurnUnsupported = false

  /// Connects and joins as `participantName` running `model`.
  ///
  /// - Throws: ``RemoteServerError`` when Join is refused (another model, unknown token, full)
  ///   or the coordinator stays unreachable for `retryFor`.
  public init(
    endpoint: RPCEndpoint, participantName: String, model: ModelIdentity,
    leaseMilliseconds: UInt32 = 600_000, retryFor: Duration = .seconds(300),
    callTimeout: Duration = .seconds(60)
  ) throws {
    connection = try RPCConnection(endpoint)
    self.leaseMilliseconds = leaseMilliseconds
    self.retryFor = retryFor
    self.callTimeout = callTimeout
    var request = Colearn_V1_SplitJoinRequest()
    request.model = model.proto
    request.participantName = participantName
    let join = request
    do {
      let response = try call("Join") { client, metadata, options in
        try await client.join(join, metadata: metadata, options: options)
      }
      participantID = response.participantID
      configuration = response.configuration
      sequenceAtJoin = response.sequenceNumber
    } catch {
      connection.close()
      throw error
    }
  }

  /// Closes the connection (a turn still held is given back).
  public func close() {
    held?.abandon()
    connection.close()
  }

  private func call<Response: Sendable>(
    _ operation: String, noTimeout: Bool = false,
    _ body:
      @escaping @Sendable (
        Colearn_V1_SplitCoordinator.Client<HTTP2ClientTransport.Posix>, Metadata, CallOptions
      ) async throws -> Response
  ) throws -> Response {
    var options = CallOptions.defaults
    options.timeout = noTimeout ? nil : callTimeout
    options.maxResponseMessageBytes = 64 << 20
    return try connection.call(operation, options: options, retryFor: retryFor, onRetry: onRetry) {
      grpc, metadata, options in
      try await body(Colearn_V1_SplitCoordinator.Client(wrapping: grpc), metadata, options)
    }
  }

  /// Waits for the turn and returns the lease id. The turn is held through a HoldTurn call that
  /// stays open until PublishUpdate or ``endTurn()`` ends it: should this process die or its
  /// connection break mid-turn, the coordinator gives the turn to the next participant at once.
  /// (A coordinator that predates HoldTurn: Lock, whose lease lasts until PublishUpdate or its
  /// expiry.) A turn still held is ended first.
  public func beginTurn() throws -> String {
    endTurn()
    var request = Colearn_V1_LockRequest()
    request.participantID = participantID
    request.leaseDurationMs = leaseMilliseconds
    let message = request
    if !holdTurnUnsupported {
      do {
        let held = try call("HoldTurn", noTimeout: true) { client, metadata, options in
          try await HeldTurn.take(message) { producer, onResponse in
            try await client.holdTurn(
              metadata: metadata, options: options, requestProducer: producer,
              onResponse: onResponse)
          }
        }
        self.held = held
        return held.grant.leaseID
      } catch let error as RemoteServerError where error.code == .unimplemented {
        holdTurnUnsupported = true
        onRetry?("HoldTurn: the coordinator predates it (\(error)); taking turns with Lock")
      }
    }
    return try call("Lock", noTimeout: true) { client, metadata, options in
      try await client.lock(message, metadata: metadata, options: options)
    }.leaseID
  }

  /// Ends the turn's HoldTurn call, if one is open (after PublishUpdate the coordinator has
  /// already released the lease; before it, closing the call releases it), and waits up to
  /// the call timeout for the call to end. Idempotent.
  public func endTurn() {
    guard let held else { return }
    self.held = nil
    let timeout = callTimeout
    connection.run { await held.end(within: timeout) }
  }

  /// Every sealed update after `sequence`, in order (several calls when there are many).
  public func fetchUpdates(after sequence: UInt64) throws -> [(sequence: UInt64, sealed: [UInt8])] {
    var updates: [(sequence: UInt64, sealed: [UInt8])] = []
    var after = sequence
    while true {
      var request = Colearn_V1_FetchUpdatesRequest()
      request.participantID = participantID
      request.afterSequence = after
      let message = request
      let response = try call("FetchUpdates") { client, metadata, options in
        try await client.fetchUpdates(message, metadata: metadata, options: options)
      }
      for update in response.updates {
        guard update.sequenceNumber == after + 1 else {
          throw RemoteServerError.refused(
            operation: "FetchUpdates", code: .dataLoss,
            message: "the coordinator relayed update \(update.sequenceNumber) after \(after)")
        }
        updates.append((update.sequenceNumber, [UInt8](update.sealed)))
        after = update.sequenceNumber
      }
      if !response.more || response.updates.isEmpty { return updates }
    }
  }

  /// Sends one batch of (noised) features and its labels; returns the coordinator's answer.
  public func step(
    leaseID: String, features: UnsafeBufferPointer<Float>, labels: [Int32], epsilon: Double?,
    sensitivity: Double, frontSequence: UInt64, epoch: Int = 0
  ) throws -> SplitStepResult {
    var request = Colearn_V1_StepRequest()
    request.participantID = participantID
    request.leaseID = leaseID
    request.batchSize = UInt32(labels.count)
    request.features = Data(buffer: features)
    request.labels = labels.map { UInt32($0) }
    request.epsilon = epsilon ?? 0
    request.sensitivity = sensitivity
    request.frontSequence = frontSequence
    request.epoch = UInt32(clamping: epoch)
    let message = request
    let response = try call("Step") { client, metadata, options in
      try await client.step(message, metadata: metadata, options: options)
    }
    let count = labels.count * Int(configuration.featureSize)
    guard response.featureGradient.count == 4 * count else {
      throw RemoteServerError.refused(
        operation: "Step", code: .dataLoss,
        message: "the coordinator returned \(response.featureGradient.count) gradient bytes, "
          + "expected \(4 * count)")
    }
    var gradient = [Float](repeating: 0, count: count)
    gradient.withUnsafeMutableBytes { target in
      response.featureGradient.withUnsafeBytes { target.copyMemory(from: $0) }
    }
    guard gradient.allSatisfy(\.isFinite), response.learningRate.isFinite,
      response.learningRate >= 0
    else {
      throw RemoteServerError.refused(
        operation: "Step", code: .dataLoss, message: "the coordinator returned non-finite values")
    }
    return SplitStepResult(
      featureGradient: gradient, learningRate: response.learningRate, step: response.step,
      loss: response.loss, correct: Int(response.correct))
  }

  /// Publishes the turn's sealed front update (ending the turn); returns its sequence number.
  public func publish(leaseID: String, sealed: [UInt8]) throws -> UInt64 {
    var request = Colearn_V1_PublishUpdateRequest()
    request.participantID = participantID
    request.leaseID = leaseID
    request.sealed = Data(sealed)
    let message = request
    return try call("PublishUpdate") { client, metadata, options in
      try await client.publishUpdate(message, metadata: metadata, options: options)
    }.sequenceNumber
  }

  /// Declares this participant done.
  public func finish() throws {
    var request = Colearn_V1_FinishRequest()
    request.participantID = participantID
    let message = request
    _ = try call("Finish") { client, metadata, options in
      try await client.finish(message, metadata: metadata, options: options)
    }
  }

  /// The coordinator's status.
  public func status() throws -> Colearn_V1_SplitStatusResponse {
    try call("Status") { client, metadata, options in
      try await client.status(Colearn_V1_StatusRequest(), metadata: metadata, options: options)
    }
  }

  /// The back's parameters as they are now.
  public func downloadBack() throws -> (parameters: [Float], steps: UInt64) {
    var request = Colearn_V1_DownloadBackRequest()
    request.participantID = participantID
    let message = request
    let response = try call("DownloadBack") { client, metadata, options in
      try await client.downloadBack(message, metadata: metadata, options: options)
    }
    let count = Int(configuration.backParameterCount)
    guard response.parameters.count == 4 * count else {
      throw RemoteServerError.refused(
        operation: "DownloadBack", code: .dataLoss,
        message: "\(response.parameters.count) bytes for a back of \(count) parameters")
    }
    var parameters = [Float](repeating: 0, count: count)
    parameters.withUnsafeMutableBytes { target in
      response.parameters.withUnsafeBytes { target.copyMemory(from: $0) }
    }
    guard parameters.allSatisfy(\.isFinite) else {
      throw RemoteServerError.refused(
        operation: "DownloadBack", code: .dataLoss, message: "the back has non-finite values")
    }
    return (parameters, response.steps)
  }
}
