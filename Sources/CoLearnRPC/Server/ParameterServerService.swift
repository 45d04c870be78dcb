import GRPCCore

/// The authenticated identity of the call being served (set by ``TokenAuthentication``).
public enum CallerIdentity {
  @TaskLocal public static var current: String?

  /// ``current``, or UNAUTHENTICATED when the call carries none (a service reached without the
  /// ``TokenAuthentication`` interceptor).
  static func required() throws -> String {
    guard let identity = current else {
      throw RPCError(code: .unauthenticated, message: "the call carries no authenticated identity")
    }
    return identity
  }

  /// Runs a service method's `body` with the caller's identity (UNAUTHENTICATED without one),
  /// turning a ``FederationError`` into its RPC status and message: the frame every method of
  /// ``ParameterServerService`` and ``SplitCoordinatorService`` shares.
  static func serve<Response>(_ body: (String) throws -> Response) throws -> Response {
    let identity = try required()
    do { return try body(identity) } catch let error as FederationError { throw error.rpcError }
  }

  /// ``serve(_:)`` for an asynchronous `body`.
  static func serve<Response>(_ body: (String) async throws -> Response) async throws -> Response {
    let identity = try required()
    do { return try await body(identity) } catch let error as FederationError {
      throw error.rpcError
    }
  }
}

/// Refuses every call without a valid `authorization: Bearer <token>` entry (UNAUTHENTICATED,
/// saying whether the token is missing, malformed, unknown or revoked), recording each refusal
/// in the ``AuthenticationAudit``, and runs the others — the method and, for a streaming one,
/// its response producer — with the token's identity in ``CallerIdentity/current``.
public struct TokenAuthentication: ServerInterceptor {
  let authenticator: TokenAuthenticator
  let audit: AuthenticationAudit?

  public init(authenticator: TokenAuthenticator, audit: AuthenticationAudit? = nil) {
    self.authenticator = authenticator
    self.audit = audit
  }

  public func intercept<Input: Sendable, Output: Sendable>(
    request: StreamingServerRequest<Input>,
    context: ServerContext,
    next:
      @Sendable (StreamingServerRequest<Input>, ServerContext) async throws
      -> StreamingServerResponse<Output>
  ) async throws -> StreamingServerResponse<Output> {
    func refuse(
      _ reason: AuthenticationAudit.Reason, name: String?, _ message: String
    ) -> RPCError {
      audit?.refused(
        reason, name: name, peer: context.remotePeer,
        method: context.descriptor.fullyQualifiedMethod)
      return RPCError(code: .unauthenticated, message: message)
    }
    guard let token = BearerToken.token(in: request.metadata) else {
      throw refuse(
        .missing, name: nil,
        "no valid credential: send the metadata entry 'authorization: Bearer <token>' "
          + "with the token the operator issued you")
    }
    switch authenticator.authenticate(token) {
    case .identity(let name):
      var response = try await CallerIdentity.$current.withValue(name) {
        try await next(request, context)
      }
      // A streaming method (HoldTurn) runs in the response's producer, after `next` returned:
      // it needs the identity there too.
      if case .success(var contents) = response.accepted {
        let producer = contents.producer
        contents.producer = { writer in
          try await CallerIdentity.$current.withValue(name) { try await producer(writer) }
        }
        response.accepted = .success(contents)
      }
      return response
    case .revoked(let name):
      throw refuse(
        .revoked, name: name, "the token of \(name) was revoked; ask the operator for a new one")
    case .unknown:
      throw refuse(.unknown, name: nil, "unknown token; check --token-file (or COLEARN_TOKEN)")
    }
  }
}

/// colearn.proto's `ParameterServer` over a ``Federation``: each call is authenticated by
/// ``TokenAuthentication`` and refused with the ``FederationError``'s status and message.
public struct ParameterServerService: Colearn_V1_ParameterServer.SimpleServiceProtocol {
  public let federation: Federation

  public init(federation: Federation) {
    self.federation = federation
  }

  public func join(request: Colearn_V1_JoinRequest, context: ServerContext) async throws
    -> Colearn_V1_JoinResponse
  {
    try CallerIdentity.serve { try federation.join(request, identity: $0) }
  }

  public func download(request: Colearn_V1_DownloadRequest, context: ServerContext) async throws
    -> Colearn_V1_DownloadResponse
  {
    try CallerIdentity.serve { try federation.download(request, identity: $0) }
  }

  public func upload(request: Colearn_V1_UploadRequest, context: ServerContext) async throws
    -> Colearn_V1_UploadResponse
  {
    try await CallerIdentity.serve { try await federation.upload(request, identity: $0) }
  }

  public func holdTurn(
    request: RPCAsyncSequence<Colearn_V1_LockRequest, any Error>,
    response: RPCWriter<Colearn_V1_LockResponse>, context: ServerContext
  ) async throws {
    try await CallerIdentity.serve {
      try await federation.holdTurn(request, responses: response, identity: $0)
    }
  }

  public func lock(request: Colearn_V1_LockRequest, context: ServerContext) async throws
    -> Colearn_V1_LockResponse
  {
    try await CallerIdentity.serve { try await federation.lock(request, identity: $0) }
  }

  public func unlock(request: Colearn_V1_UnlockRequest, context: ServerContext) async throws
    -> Colearn_V1_UnlockResponse
  {
    var response = Colearn_V1_UnlockResponse()
    response.released = try CallerIdentity.serve { try federation.unlock(request, identity: $0) }
    return response
  }

  public func status(request: Colearn_V1_StatusRequest, context: ServerContext) async throws
    -> Colearn_V1_StatusResponse
  {
    _ = try CallerIdentity.required()
    return federation.status()
  }

  public func leave(request: Colearn_V1_LeaveRequest, context: ServerContext) async throws
    -> Colearn_V1_LeaveResponse
  {
    try CallerIdentity.serve {
      try federation.leave(participantID: request.participantID, identity: $0)
    }
    return Colearn_V1_LeaveResponse()
  }

  public func report(request: Colearn_V1_ReportRequest, context: ServerContext) async throws
    -> Colearn_V1_ReportResponse
  {
    try CallerIdentity.serve { try federation.report(request, identity: $0) }
    return Colearn_V1_ReportResponse()
  }
}
