import CoLearnRPC
import CoLearnTensor
import CoLearnWire
import GRPCCore
import GRPCNIOTransportHTTP2
import Testing

/// The generated service and client over real HTTP/2 on 127.0.0.1 (plaintext, a port the kernel
/// picks): proves the gRPC stack builds, serves, authenticates through metadata and maps errors to
/// status codes. The service is a stand-in, not the parameter server.
@Suite struct LoopbackTests {
  static let token = "loopback-token"

  @Test func uploadStatusAndErrorsOverHTTP2() async throws {
    try await withLoopbackServer(dimension: 10) { client in
      var upload = Colearn_V1_UploadRequest()
      upload.participantID = "p1"
      upload.update = SparseVector(indices: [1, 2, 7], values: [0.5, -1, 2]).proto(dimension: 10)
      upload.round = 1

      let ack = try await client.upload(upload)
      #expect(ack.sequenceNumber == 1)
      #expect(ack.appliedEntries == 3)
      #expect(!ack.duplicate)

      // A retry after a lost acknowledgement is answered, not applied again.
      let retry = try await client.upload(upload)
      #expect(retry.sequenceNumber == 1)
      #expect(retry.duplicate)

      let status = try await client.status(Colearn_V1_StatusRequest())
      #expect(status.sequenceNumber == 1)
      #expect(status.parametersUpdated == 3)
      #expect(status.duplicateUploads == 1)
      #expect(status.configuration.model.parameterCount == 10)

      // A vector for another |w| is refused with INVALID_ARGUMENT and the conversion's message.
      var wrong = upload
      wrong.round = 2
      wrong.update = SparseVector(indices: [1], values: [1]).proto(dimension: 11)
      let refusal = await #expect(throws: RPCError.self) { try await client.upload(wrong) }
      #expect(refusal?.code == .invalidArgument)
      #expect(refusal?.message.contains("|w| = 10") == true)

      let unimplemented = await #expect(throws: RPCError.self) {
        try await client.leave(Colearn_V1_LeaveRequest())
      }
      #expect(unimplemented?.code == .unimplemented)
    }
  }

  @Test func callsWithoutTheTokenAreUnauthenticated() async throws {
    try await withLoopbackServer(dimension: 10, clientToken: nil) { client in
      let refusal = await #expect(throws: RPCError.self) {
        try await client.status(Colearn_V1_StatusRequest())
      }
      #expect(refusal?.code == .unauthenticated)
    }
  }

  /// Serves ``EchoParameterServer`` behind ``RequireBearerToken`` on 127.0.0.1:0 and runs `body`
  /// with a client of it that sends `clientToken` (none if nil); both shut down gracefully after.
  private func withLoopbackServer(
    dimension: Int, clientToken: String? = LoopbackTests.token,
    _ body: (Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>) async throws -> Void
  ) async throws {
    let serverTransport = HTTP2ServerTransport.Posix(
      address: .ipv4(host: "127.0.0.1", port: 0), transportSecurity: .plaintext)
    try await withGRPCServer(
      transport: serverTransport,
      services: [EchoParameterServer(dimension: dimension)],
      interceptors: [RequireBearerToken(token: Self.token)]
    ) { server in
      let address = try #require(try await server.listeningAddress?.ipv4)
      let clientTransport = try HTTP2ClientTransport.Posix(
        target: .ipv4(address: address.host, port: address.port), transportSecurity: .plaintext)
      let interceptors: [any ClientInterceptor] =
        clientToken.map { [AttachBearerToken(token: $0)] } ?? []
      try await withGRPCClient(transport: clientTransport, interceptors: interceptors) { grpc in
        try await body(Colearn_V1_ParameterServer.Client(wrapping: grpc))
      }
    }
  }
}

// MARK: - A stand-in service

/// Upload validates and counts, remembering each participant's last round (the idempotency key);
/// Status reports the counters; everything else is UNIMPLEMENTED.
private struct EchoParameterServer: Colearn_V1_ParameterServer.SimpleServiceProtocol {
  let dimension: Int
  let counters = Counters()

  actor Counters {
    var sequenceNumber: UInt64 = 0
    var parametersUpdated: UInt64 = 0
    var duplicateUploads: UInt64 = 0
    var lastAcknowledgement: [String: (round: UInt64, ack: Colearn_V1_UploadResponse)] = [:]

    func apply(_ vector: SparseVector, from participant: String, round: UInt64?)
      -> Colearn_V1_UploadResponse
    {
      if let round, let last = lastAcknowledgement[participant], last.round == round {
        duplicateUploads += 1
        var ack = last.ack
        ack.duplicate = true
        return ack
      }
      sequenceNumber += 1
      parametersUpdated += UInt64(vector.count)
      var ack = Colearn_V1_UploadResponse()
      ack.sequenceNumber = sequenceNumber
      ack.appliedEntries = UInt64(vector.count)
      if let round { lastAcknowledgement[participant] = (round, ack) }
      return ack
    }

    func status(dimension: Int) -> Colearn_V1_StatusResponse {
      var status = Colearn_V1_StatusResponse()
      status.configuration.model =
        ModelIdentity(
          architecture: "echo", specificationHash: "0000000000000000", parameterCount: dimension
        ).proto
      status.sequenceNumber = sequenceNumber
      status.parametersUpdated = parametersUpdated
      status.duplicateUploads = duplicateUploads
      return status
    }
  }

  func upload(request: Colearn_V1_UploadRequest, context: ServerContext) async throws
    -> Colearn_V1_UploadResponse
  {
    let vector: SparseVector
    do {
      vector = try SparseVector(proto: request.update, dimension: dimension)
    } catch {
      throw error.rpcError
    }
    return await counters.apply(
      vector, from: request.participantID, round: request.hasRound ? request.round : nil)
  }

  func status(request: Colearn_V1_StatusRequest, context: ServerContext) async throws
    -> Colearn_V1_StatusResponse
  {
    await counters.status(dimension: dimension)
  }

  func join(request: Colearn_V1_JoinRequest, context: ServerContext) async throws
    -> Colearn_V1_JoinResponse
  { throw unimplemented("Join") }

  func download(request: Colearn_V1_DownloadRequest, context: ServerContext) async throws
    -> Colearn_V1_DownloadResponse
  { throw unimplemented("Download") }

  func holdTurn(
    request: RPCAsyncSequence<Colearn_V1_LockRequest, any Error>,
    response: RPCWriter<Colearn_V1_LockResponse>, context: ServerContext
  ) async throws { throw unimplemented("HoldTurn") }

  func lock(request: Colearn_V1_LockRequest, context: ServerContext) async throws
    -> Colearn_V1_LockResponse
  { throw unimplemented("Lock") }

  func unlock(request: Colearn_V1_UnlockRequest, context: ServerContext) async throws
    -> Colearn_V1_UnlockResponse
  { throw unimplemented("Unlock") }

  func leave(request: Colearn_V1_LeaveRequest, context: ServerContext) async throws
    -> Colearn_V1_LeaveResponse
  { throw unimplemented("Leave") }

  func report(request: Colearn_V1_ReportRequest, context: ServerContext) async throws
    -> Colearn_V1_ReportResponse
  { throw unimplemented("Report") }

  private func unimplemented(_ method: String) -> RPCError {
    RPCError(code: .unimplemented, message: "the loopback stand-in does not implement \(method)")
  }
}

// MARK: - Bearer-token interceptors

/// Refuses every call whose `authorization` metadata is not `Bearer <token>`.
private struct RequireBearerToken: ServerInterceptor {
  let token: String

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws
      -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    guard BearerToken.token(in: request.metadata) == token else {
      throw RPCError(
        code: .unauthenticated,
        message: "send the metadata entry 'authorization: Bearer <token>' with a valid token")
    }
    return try await next(request, context)
  }
}

/// Adds `authorization: Bearer <token>` to every call.
private struct AttachBearerToken: ClientInterceptor {
  let token: String

  func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingClientRequest<Input>,
    context: ClientContext,
    next: (StreamingClientRequest<Input>, ClientContext) async throws
      -> StreamingClientResponse<Output>
  ) async throws -> StreamingClientResponse<Output> {
    var request = request
    request.metadata.replaceOrAddString(
      BearerToken.metadataValue(for: token), forKey: BearerToken.metadataKey)
    return try await next(request, context)
  }
}
