import GRPCCore

/// split.proto's `SplitCoordinator` over a ``SplitFederation``: each call is authenticated by
/// ``TokenAuthentication`` (the same interceptor and token file as the DSSGD server) and
/// refused with the ``FederationError``'s status and message.
public struct SplitCoordinatorService: Colearn_V1_SplitCoordinator.SimpleServiceProtocol {
  public let federation: SplitFederation

  public init(federation: SplitFederation) {
    self.federation = federation
  }

  public func join(request: Colearn_V1_SplitJoinRequest, context: ServerContext) async throws
    -> Colearn_V1_SplitJoinResponse
  {
    try CallerIdentity.serve { try federation.join(request, identity: $0) }
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

  public func fetchUpdates(request: Colearn_V1_FetchUpdatesRequest, context: ServerContext)
    async throws -> Colearn_V1_FetchUpdatesResponse
  {
    try CallerIdentity.serve { try federation.fetchUpdates(request, identity: $0) }
  }

  public func step(request: Colearn_V1_StepRequest, context: ServerContext) async throws
    -> Colearn_V1_StepResponse
  {
    try CallerIdentity.serve { try federation.step(request, identity: $0) }
  }

  public func publishUpdate(request: Colearn_V1_PublishUpdateRequest, context: ServerContext)
    async throws -> Colearn_V1_PublishUpdateResponse
  {
    try CallerIdentity.serve { try federation.publishUpdate(request, identity: $0) }
  }

  public func finish(request: Colearn_V1_FinishRequest, context: ServerContext) async throws
    -> Colearn_V1_FinishResponse
  {
    try CallerIdentity.serve { try federation.finish(request, identity: $0) }
    return Colearn_V1_FinishResponse()
  }

  public func downloadBack(request: Colearn_V1_DownloadBackRequest, context: ServerContext)
    async throws -> Colearn_V1_DownloadBackResponse
  {
    try CallerIdentity.serve { try federation.downloadBack(request, identity: $0) }
  }

  public func status(request: Colearn_V1_StatusRequest, context: ServerContext) async throws
    -> Colearn_V1_SplitStatusResponse
  {
    _ = try CallerIdentity.required()
    return federation.status()
  }
}
