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
    let identity = try CallerIdentity.required()
    do { return try federation.join(request, identity: identity) } catch { throw error.rpcError }
  }

  public func lock(request: Colearn_V1_LockRequest, context: ServerContext) async throws
    -> Colearn_V1_LockResponse
  {
    let identity = try CallerIdentity.required()
    do { return try await federation.lock(request, identity: identity) } catch let error
      as FederationError
    {
      throw error.rpcError
    }
  }

  public func fetchUpdates(request: Colearn_V1_FetchUpdatesRequest, context: ServerContext)
    async throws -> Colearn_V1_FetchUpdatesResponse
  {
    let identity = try CallerIdentity.required()
    do { return try federation.fetchUpdates(request, identity: identity) } catch {
      throw error.rpcError
    }
  }

  public func step(request: Colearn_V1_StepRequest, context: ServerContext) async throws
    -> Colearn_V1_StepResponse
  {
    let identity = try CallerIdentity.required()
    do { return try federation.step(request, identity: identity) } catch { throw error.rpcError }
  }

  public func publishUpdate(request: Colearn_V1_PublishUpdateRequest, context: ServerContext)
    async throws -> Colearn_V1_PublishUpdateResponse
  {
    let identity = try CallerIdentity.required()
    do { return try federation.publishUpdate(request, identity: identity) } catch {
      throw error.rpcError
    }
  }

  public func finish(request: Colearn_V1_FinishRequest, context: ServerContext) async throws
    -> Colearn_V1_FinishResponse
  {
    let identity = try CallerIdentity.required()
    do { try federation.finish(request, identity: identity) } catch { throw error.rpcError }
    return Colearn_V1_FinishResponse()
  }

  public func downloadBack(request: Colearn_V1_DownloadBackRequest, context: ServerContext)
    async throws -> Colearn_V1_DownloadBackResponse
  {
    let identity = try CallerIdentity.required()
    do { return try federation.downloadBack(request, identity: identity) } catch {
      throw error.rpcError
    }
  }

  public func status(request: Colearn_V1_StatusRequest, context: ServerContext) async throws
    -> Colearn_V1_SplitStatusResponse
  {
    _ = try CallerIdentity.required()
    return federation.status()
  }
}
