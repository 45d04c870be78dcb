/// colearn's parameter server protocol, version 1: the public contract between a colearn
/// parameter server and the participants of distributed selective SGD (DSSGD, SPEC §6). A
/// participant written in any language can take part with this file alone.
///
/// # A participant's life
///
///   Join ──► loop { [HoldTurn ─►] Download ─► train locally ─► Upload [─► close HoldTurn] } ──► [Leave]
///
/// 1. Join with the model identity (architecture name, spec hash, |w|) and a label. The server
///    refuses a participant whose model differs from its own, and otherwise returns a
///    participant id, the name it shows the participant under (its token's), and the
///    federation's settings (θ_d, θ_u, β, exchange protocol, the bounds on an upload, ...).
/// 2. Each turn: Download the global parameters (the fraction θ_d with the largest update counts,
///    or explicit indices), overwrite those positions of the local model, train, compute
///    Δw = w_local − w_before, select at most ⌈θ_u·|w|⌉ entries of Δw and Upload them. The server
///    ADDS uploaded values to its parameters (w_global[j] += Δw_j); it never overwrites them.
/// 3. Under the sequential exchange protocols (round-robin, random-order) a turn is exclusive,
///    from download to upload (SPEC §6): the participant holds the turn's lease for the whole
///    turn. It takes it with HoldTurn, a call it keeps open during the turn and closes when the
///    turn is done, so a participant that is killed or cut off mid-turn gives the turn back at
///    once. (Lock and Unlock, the older form, bracket the turn with two calls; a holder that
///    vanishes between them keeps the turn until its lease expires.)
///
/// # Authentication
///
/// Every call, Join included, carries the gRPC metadata entry
///
///   authorization: Bearer <token>
///
/// (RFC 6750 syntax: the word "Bearer", one space, then the token). Tokens are issued out of band
/// by whoever runs the server; they are opaque to the protocol. A call without a valid token fails
/// with UNAUTHENTICATED. A participant id is bound to the token that joined it: using it with
/// another token fails with PERMISSION_DENIED. Tokens must only be sent over TLS, except to a
/// server on the loopback interface.
///
/// # Errors
///
/// The server refuses with a gRPC status code from the list below and a human-readable message
/// that says what was wrong and what to do. A refused call changes nothing on the server: an
/// upload is validated completely before it is applied, and then applied fully or not at all.
///
///   UNAUTHENTICATED      missing, malformed or unknown bearer token.
///   PERMISSION_DENIED    the participant id or lease belongs to another token or participant.
///   INVALID_ARGUMENT     a malformed request: undecodable or out-of-range sparse vector, a
///                        declared dimension ≠ |w|, more upload entries than allowed, an upload
///                        value or norm above the server's bounds (ServerConfiguration
///                        max_update_value, max_update_norm), an upload that would make a
///                        parameter non-finite, a fraction outside (0, 1], non-increasing
///                        indices, a name outside the allowed characters, a zero lease.
///   FAILED_PRECONDITION  the request is well formed but not allowed in the server's state: the
///                        model identity differs from the server's (Join), a turn without a lease
///                        under a sequential protocol, Lock or HoldTurn under the async
///                        protocol, an upload round lower than one already applied.
///   NOT_FOUND            unknown participant id (never joined, left, or forgotten): Join again.
///   ABORTED              the lease expired or was revoked before this call: the turn is lost;
///                        take the turn again (HoldTurn or Lock), restart from Download.
///   RESOURCE_EXHAUSTED   the federation is full (Join); a message is larger than the server's
///                        limit (ServerConfiguration.max_message_bytes); or the caller (or the
///                        server as a whole) already has as many request bytes in flight as it
///                        allows: wait for the answers to the earlier calls, then retry.
///   DEADLINE_EXCEEDED    the call's deadline passed, e.g. while Lock or HoldTurn waited for the turn.
///   UNAVAILABLE          the server is starting or shutting down: retry with backoff.
///   INTERNAL             the server could not persist an upload; it was neither applied nor
///                        acknowledged, and may be retried.
///
/// Retrying is safe for every call: Join is idempotent for the same token, Upload is
/// idempotent through its round number, Unlock and Leave are idempotent, and Download, Lock and
/// HoldTurn (which return the caller's own unexpired lease) and Status have no effect that a
/// retry could repeat.
///
/// # Sizes
///
/// A message carrying every parameter of the largest model (svhn-mlp, |w| = 402,250) is about
/// 2 MB; the default gRPC message limit of 4 MiB covers every colearn model. The server refuses a
/// larger request with RESOURCE_EXHAUSTED as soon as its 5-byte gRPC message prefix arrives,
/// without reading the rest.
///
/// # Bounds on what one upload may change
///
/// So that no participant can make the global parameters non-finite, or move them arbitrarily
/// far in one turn, the server announces two bounds at Join (ServerConfiguration
/// max_update_value and max_update_norm) and refuses an upload beyond either with
/// INVALID_ARGUMENT, as well as any upload after which some w_global[j] would not be finite. A
/// participant should clip its own update before uploading: each value to
/// [−max_update_value, max_update_value], then, if the L2 norm is above max_update_norm, scale
/// the whole vector down to it. The bounds limit the damage of one upload; they do not detect
/// poisoning (docs/DEPLOYMENT.md, "What the server defends against").

// DO NOT EDIT.
// swift-format-ignore-file
// swiftlint:disable all
//
// Generated by the gRPC Swift generator plugin for the protocol buffer compiler.
// Source: colearn/v1/colearn.proto
//
// For information on using the generated types, please see the documentation:
//   https://github.com/grpc/grpc-swift

import GRPCCore
import GRPCProtobuf

// MARK: - colearn.v1.ParameterServer

/// Namespace containing generated types for the "colearn.v1.ParameterServer" service.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
public enum Colearn_V1_ParameterServer: Sendable {
    /// Service descriptor for the "colearn.v1.ParameterServer" service.
    public static let descriptor = GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer")
    /// Namespace for method metadata.
    public enum Method: Sendable {
        /// Namespace for "Join" metadata.
        public enum Join: Sendable {
            /// Request type for "Join".
            public typealias Input = Colearn_V1_JoinRequest
            /// Response type for "Join".
            public typealias Output = Colearn_V1_JoinResponse
            /// Descriptor for "Join".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Join",
                type: .unary
            )
        }
        /// Namespace for "Download" metadata.
        public enum Download: Sendable {
            /// Request type for "Download".
            public typealias Input = Colearn_V1_DownloadRequest
            /// Response type for "Download".
            public typealias Output = Colearn_V1_DownloadResponse
            /// Descriptor for "Download".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Download",
                type: .unary
            )
        }
        /// Namespace for "Upload" metadata.
        public enum Upload: Sendable {
            /// Request type for "Upload".
            public typealias Input = Colearn_V1_UploadRequest
            /// Response type for "Upload".
            public typealias Output = Colearn_V1_UploadResponse
            /// Descriptor for "Upload".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Upload",
                type: .unary
            )
        }
        /// Namespace for "HoldTurn" metadata.
        public enum HoldTurn: Sendable {
            /// Request type for "HoldTurn".
            public typealias Input = Colearn_V1_LockRequest
            /// Response type for "HoldTurn".
            public typealias Output = Colearn_V1_LockResponse
            /// Descriptor for "HoldTurn".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "HoldTurn",
                type: .bidirectionalStreaming
            )
        }
        /// Namespace for "Lock" metadata.
        public enum Lock: Sendable {
            /// Request type for "Lock".
            public typealias Input = Colearn_V1_LockRequest
            /// Response type for "Lock".
            public typealias Output = Colearn_V1_LockResponse
            /// Descriptor for "Lock".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Lock",
                type: .unary
            )
        }
        /// Namespace for "Unlock" metadata.
        public enum Unlock: Sendable {
            /// Request type for "Unlock".
            public typealias Input = Colearn_V1_UnlockRequest
            /// Response type for "Unlock".
            public typealias Output = Colearn_V1_UnlockResponse
            /// Descriptor for "Unlock".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Unlock",
                type: .unary
            )
        }
        /// Namespace for "Status" metadata.
        public enum Status: Sendable {
            /// Request type for "Status".
            public typealias Input = Colearn_V1_StatusRequest
            /// Response type for "Status".
            public typealias Output = Colearn_V1_StatusResponse
            /// Descriptor for "Status".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Status",
                type: .unary
            )
        }
        /// Namespace for "Leave" metadata.
        public enum Leave: Sendable {
            /// Request type for "Leave".
            public typealias Input = Colearn_V1_LeaveRequest
            /// Response type for "Leave".
            public typealias Output = Colearn_V1_LeaveResponse
            /// Descriptor for "Leave".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Leave",
                type: .unary
            )
        }
        /// Namespace for "Report" metadata.
        public enum Report: Sendable {
            /// Request type for "Report".
            public typealias Input = Colearn_V1_ReportRequest
            /// Response type for "Report".
            public typealias Output = Colearn_V1_ReportResponse
            /// Descriptor for "Report".
            public static let descriptor = GRPCCore.MethodDescriptor(
                service: GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer"),
                method: "Report",
                type: .unary
            )
        }
        /// Descriptors for all methods in the "colearn.v1.ParameterServer" service.
        public static let descriptors: [GRPCCore.MethodDescriptor] = [
            Join.descriptor,
            Download.descriptor,
            Upload.descriptor,
            HoldTurn.descriptor,
            Lock.descriptor,
            Unlock.descriptor,
            Status.descriptor,
            Leave.descriptor,
            Report.descriptor
        ]
    }
}

@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension GRPCCore.ServiceDescriptor {
    /// Service descriptor for the "colearn.v1.ParameterServer" service.
    public static let colearn_v1_ParameterServer = GRPCCore.ServiceDescriptor(fullyQualifiedService: "colearn.v1.ParameterServer")
}

// MARK: colearn.v1.ParameterServer (server)

@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer {
    /// Streaming variant of the service protocol for the "colearn.v1.ParameterServer" service.
    ///
    /// This protocol is the lowest-level of the service protocols generated for this service
    /// giving you the most flexibility over the implementation of your service. This comes at
    /// the cost of more verbose and less strict APIs. Each RPC requires you to implement it in
    /// terms of a request stream and response stream. Where the RPC expects only a single
    /// request or response message, you are responsible for ensuring your implementation
    /// maintains this invariant.
    ///
    /// Where possible, prefer using the stricter, less-verbose ``ServiceProtocol``
    /// or ``SimpleServiceProtocol`` instead.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The parameter server of a DSSGD federation.
    public protocol StreamingServiceProtocol: GRPCCore.RegistrableRPCService {
        /// Handle the "Join" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Joins the federation. Returns the participant id every later call names, and the server's
        /// > settings. Idempotent: joining again with the same token returns the same id.
        /// > 
        /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
        /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
        /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
        /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
        /// > is free again at once).
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_JoinRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_JoinResponse` messages.
        func join(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_JoinRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_JoinResponse>

        /// Handle the "Download" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
        /// > indices. Under round-robin and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
        /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
        /// > unknown participant.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_DownloadRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_DownloadResponse` messages.
        func download(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_DownloadRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_DownloadResponse>

        /// Handle the "Upload" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Adds a sparse update to the global parameters and counts each updated position. Applied
        /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
        /// > and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
        /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
        /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
        /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
        /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
        /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
        /// > applied; retry).
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_UploadRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_UploadResponse` messages.
        func upload(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_UploadRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_UploadResponse>

        /// Handle the "HoldTurn" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
        /// > this call stays open: what a participant should use (Lock and Unlock remain for older
        /// > participants).
        /// > 
        /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
        /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
        /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
        /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
        /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
        /// >     Unlock; the server then ends the call with OK;
        /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
        /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
        /// >     server releases the lease at once and logs it; it does not wait for the lease to
        /// >     expire;
        /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
        /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
        /// >     with the lease fail with ABORTED as after Lock.
        /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
        /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
        /// > the wait and the whole turn.
        /// > 
        /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
        /// > server answers UNIMPLEMENTED: use Lock and Unlock.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_LockRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_LockResponse` messages.
        func holdTurn(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_LockRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LockResponse>

        /// Handle the "Lock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
        /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
        /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
        /// > after the caller vanished. Under round-robin the turn goes to participants in the
        /// > order they joined; under random-order, the server picks among the waiting participants at
        /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
        /// > 
        /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
        /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
        /// > NOT_FOUND for an unknown participant.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_LockRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_LockResponse` messages.
        func lock(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_LockRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LockResponse>

        /// Handle the "Unlock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
        /// > Idempotent: releasing a lease that is already released or expired succeeds with
        /// > `released = false`.
        /// > 
        /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
        /// > participant.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_UnlockRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_UnlockResponse` messages.
        func unlock(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_UnlockRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_UnlockResponse>

        /// Handle the "Status" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The server's model, settings and counters. Needs a valid token but no participant id.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_StatusRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_StatusResponse` messages.
        func status(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_StatusRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_StatusResponse>

        /// Handle the "Leave" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_LeaveRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_LeaveResponse` messages.
        func leave(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_LeaveRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LeaveResponse>

        /// Handle the "Report" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > A participant's own figures for the operator: its local model's accuracy and loss on its
        /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
        /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
        /// > figures are self-reported: the server checks their ranges, not their truth.
        /// > 
        /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
        /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
        /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
        /// > carries on without reporting.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_ReportRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_ReportResponse` messages.
        func report(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_ReportRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_ReportResponse>
    }

    /// Service protocol for the "colearn.v1.ParameterServer" service.
    ///
    /// This protocol is higher level than ``StreamingServiceProtocol`` but lower level than
    /// the ``SimpleServiceProtocol``, it provides access to request and response metadata and
    /// trailing response metadata. If you don't need these then consider using
    /// the ``SimpleServiceProtocol``. If you need fine grained control over your RPCs then
    /// use ``StreamingServiceProtocol``.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The parameter server of a DSSGD federation.
    public protocol ServiceProtocol: Colearn_V1_ParameterServer.StreamingServiceProtocol {
        /// Handle the "Join" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Joins the federation. Returns the participant id every later call names, and the server's
        /// > settings. Idempotent: joining again with the same token returns the same id.
        /// > 
        /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
        /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
        /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
        /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
        /// > is free again at once).
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_JoinRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_JoinResponse` message.
        func join(
            request: GRPCCore.ServerRequest<Colearn_V1_JoinRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_JoinResponse>

        /// Handle the "Download" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
        /// > indices. Under round-robin and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
        /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
        /// > unknown participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_DownloadRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_DownloadResponse` message.
        func download(
            request: GRPCCore.ServerRequest<Colearn_V1_DownloadRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_DownloadResponse>

        /// Handle the "Upload" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Adds a sparse update to the global parameters and counts each updated position. Applied
        /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
        /// > and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
        /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
        /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
        /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
        /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
        /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
        /// > applied; retry).
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_UploadRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_UploadResponse` message.
        func upload(
            request: GRPCCore.ServerRequest<Colearn_V1_UploadRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_UploadResponse>

        /// Handle the "HoldTurn" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
        /// > this call stays open: what a participant should use (Lock and Unlock remain for older
        /// > participants).
        /// > 
        /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
        /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
        /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
        /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
        /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
        /// >     Unlock; the server then ends the call with OK;
        /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
        /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
        /// >     server releases the lease at once and logs it; it does not wait for the lease to
        /// >     expire;
        /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
        /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
        /// >     with the lease fail with ABORTED as after Lock.
        /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
        /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
        /// > the wait and the whole turn.
        /// > 
        /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
        /// > server answers UNIMPLEMENTED: use Lock and Unlock.
        ///
        /// - Parameters:
        ///   - request: A streaming request of `Colearn_V1_LockRequest` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A streaming response of `Colearn_V1_LockResponse` messages.
        func holdTurn(
            request: GRPCCore.StreamingServerRequest<Colearn_V1_LockRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LockResponse>

        /// Handle the "Lock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
        /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
        /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
        /// > after the caller vanished. Under round-robin the turn goes to participants in the
        /// > order they joined; under random-order, the server picks among the waiting participants at
        /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
        /// > 
        /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
        /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
        /// > NOT_FOUND for an unknown participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_LockRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_LockResponse` message.
        func lock(
            request: GRPCCore.ServerRequest<Colearn_V1_LockRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_LockResponse>

        /// Handle the "Unlock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
        /// > Idempotent: releasing a lease that is already released or expired succeeds with
        /// > `released = false`.
        /// > 
        /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
        /// > participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_UnlockRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_UnlockResponse` message.
        func unlock(
            request: GRPCCore.ServerRequest<Colearn_V1_UnlockRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_UnlockResponse>

        /// Handle the "Status" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The server's model, settings and counters. Needs a valid token but no participant id.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_StatusRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_StatusResponse` message.
        func status(
            request: GRPCCore.ServerRequest<Colearn_V1_StatusRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_StatusResponse>

        /// Handle the "Leave" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_LeaveRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_LeaveResponse` message.
        func leave(
            request: GRPCCore.ServerRequest<Colearn_V1_LeaveRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_LeaveResponse>

        /// Handle the "Report" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > A participant's own figures for the operator: its local model's accuracy and loss on its
        /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
        /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
        /// > figures are self-reported: the server checks their ranges, not their truth.
        /// > 
        /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
        /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
        /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
        /// > carries on without reporting.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_ReportRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A response containing a single `Colearn_V1_ReportResponse` message.
        func report(
            request: GRPCCore.ServerRequest<Colearn_V1_ReportRequest>,
            context: GRPCCore.ServerContext
        ) async throws -> GRPCCore.ServerResponse<Colearn_V1_ReportResponse>
    }

    /// Simple service protocol for the "colearn.v1.ParameterServer" service.
    ///
    /// This is the highest level protocol for the service. The API is the easiest to use but
    /// doesn't provide access to request or response metadata. If you need access to these
    /// then use ``ServiceProtocol`` instead.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The parameter server of a DSSGD federation.
    public protocol SimpleServiceProtocol: Colearn_V1_ParameterServer.ServiceProtocol {
        /// Handle the "Join" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Joins the federation. Returns the participant id every later call names, and the server's
        /// > settings. Idempotent: joining again with the same token returns the same id.
        /// > 
        /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
        /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
        /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
        /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
        /// > is free again at once).
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_JoinRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_JoinResponse` to respond with.
        func join(
            request: Colearn_V1_JoinRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_JoinResponse

        /// Handle the "Download" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
        /// > indices. Under round-robin and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
        /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
        /// > unknown participant.
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_DownloadRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_DownloadResponse` to respond with.
        func download(
            request: Colearn_V1_DownloadRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_DownloadResponse

        /// Handle the "Upload" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Adds a sparse update to the global parameters and counts each updated position. Applied
        /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
        /// > and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
        /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
        /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
        /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
        /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
        /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
        /// > applied; retry).
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_UploadRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_UploadResponse` to respond with.
        func upload(
            request: Colearn_V1_UploadRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_UploadResponse

        /// Handle the "HoldTurn" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
        /// > this call stays open: what a participant should use (Lock and Unlock remain for older
        /// > participants).
        /// > 
        /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
        /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
        /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
        /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
        /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
        /// >     Unlock; the server then ends the call with OK;
        /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
        /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
        /// >     server releases the lease at once and logs it; it does not wait for the lease to
        /// >     expire;
        /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
        /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
        /// >     with the lease fail with ABORTED as after Lock.
        /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
        /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
        /// > the wait and the whole turn.
        /// > 
        /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
        /// > server answers UNIMPLEMENTED: use Lock and Unlock.
        ///
        /// - Parameters:
        ///   - request: A stream of `Colearn_V1_LockRequest` messages.
        ///   - response: A response stream of `Colearn_V1_LockResponse` messages.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        func holdTurn(
            request: GRPCCore.RPCAsyncSequence<Colearn_V1_LockRequest, any Swift.Error>,
            response: GRPCCore.RPCWriter<Colearn_V1_LockResponse>,
            context: GRPCCore.ServerContext
        ) async throws

        /// Handle the "Lock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
        /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
        /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
        /// > after the caller vanished. Under round-robin the turn goes to participants in the
        /// > order they joined; under random-order, the server picks among the waiting participants at
        /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
        /// > 
        /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
        /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
        /// > NOT_FOUND for an unknown participant.
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_LockRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_LockResponse` to respond with.
        func lock(
            request: Colearn_V1_LockRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_LockResponse

        /// Handle the "Unlock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
        /// > Idempotent: releasing a lease that is already released or expired succeeds with
        /// > `released = false`.
        /// > 
        /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
        /// > participant.
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_UnlockRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_UnlockResponse` to respond with.
        func unlock(
            request: Colearn_V1_UnlockRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_UnlockResponse

        /// Handle the "Status" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The server's model, settings and counters. Needs a valid token but no participant id.
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_StatusRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_StatusResponse` to respond with.
        func status(
            request: Colearn_V1_StatusRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_StatusResponse

        /// Handle the "Leave" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_LeaveRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_LeaveResponse` to respond with.
        func leave(
            request: Colearn_V1_LeaveRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_LeaveResponse

        /// Handle the "Report" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > A participant's own figures for the operator: its local model's accuracy and loss on its
        /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
        /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
        /// > figures are self-reported: the server checks their ranges, not their truth.
        /// > 
        /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
        /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
        /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
        /// > carries on without reporting.
        ///
        /// - Parameters:
        ///   - request: A `Colearn_V1_ReportRequest` message.
        ///   - context: Context providing information about the RPC.
        /// - Throws: Any error which occurred during the processing of the request. Thrown errors
        ///     of type `RPCError` are mapped to appropriate statuses. All other errors are converted
        ///     to an internal error.
        /// - Returns: A `Colearn_V1_ReportResponse` to respond with.
        func report(
            request: Colearn_V1_ReportRequest,
            context: GRPCCore.ServerContext
        ) async throws -> Colearn_V1_ReportResponse
    }
}

// Default implementation of 'registerMethods(with:)'.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer.StreamingServiceProtocol {
    public func registerMethods<Transport>(with router: inout GRPCCore.RPCRouter<Transport>) where Transport: GRPCCore.ServerTransport {
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Join.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_JoinRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_JoinResponse>(),
            handler: { request, context in
                try await self.join(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Download.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_DownloadRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_DownloadResponse>(),
            handler: { request, context in
                try await self.download(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Upload.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_UploadRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_UploadResponse>(),
            handler: { request, context in
                try await self.upload(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.HoldTurn.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_LockRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_LockResponse>(),
            handler: { request, context in
                try await self.holdTurn(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Lock.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_LockRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_LockResponse>(),
            handler: { request, context in
                try await self.lock(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Unlock.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_UnlockRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_UnlockResponse>(),
            handler: { request, context in
                try await self.unlock(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Status.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_StatusRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_StatusResponse>(),
            handler: { request, context in
                try await self.status(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Leave.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_LeaveRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_LeaveResponse>(),
            handler: { request, context in
                try await self.leave(
                    request: request,
                    context: context
                )
            }
        )
        router.registerHandler(
            forMethod: Colearn_V1_ParameterServer.Method.Report.descriptor,
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_ReportRequest>(),
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_ReportResponse>(),
            handler: { request, context in
                try await self.report(
                    request: request,
                    context: context
                )
            }
        )
    }
}

// Default implementation of streaming methods from 'StreamingServiceProtocol'.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer.ServiceProtocol {
    public func join(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_JoinRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_JoinResponse> {
        let response = try await self.join(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func download(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_DownloadRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_DownloadResponse> {
        let response = try await self.download(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func upload(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_UploadRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_UploadResponse> {
        let response = try await self.upload(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func lock(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_LockRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LockResponse> {
        let response = try await self.lock(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func unlock(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_UnlockRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_UnlockResponse> {
        let response = try await self.unlock(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func status(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_StatusRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_StatusResponse> {
        let response = try await self.status(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func leave(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_LeaveRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LeaveResponse> {
        let response = try await self.leave(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }

    public func report(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_ReportRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_ReportResponse> {
        let response = try await self.report(
            request: GRPCCore.ServerRequest(stream: request),
            context: context
        )
        return GRPCCore.StreamingServerResponse(single: response)
    }
}

// Default implementation of methods from 'ServiceProtocol'.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer.SimpleServiceProtocol {
    public func join(
        request: GRPCCore.ServerRequest<Colearn_V1_JoinRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_JoinResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_JoinResponse>(
            message: try await self.join(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func download(
        request: GRPCCore.ServerRequest<Colearn_V1_DownloadRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_DownloadResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_DownloadResponse>(
            message: try await self.download(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func upload(
        request: GRPCCore.ServerRequest<Colearn_V1_UploadRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_UploadResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_UploadResponse>(
            message: try await self.upload(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func holdTurn(
        request: GRPCCore.StreamingServerRequest<Colearn_V1_LockRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.StreamingServerResponse<Colearn_V1_LockResponse> {
        return GRPCCore.StreamingServerResponse<Colearn_V1_LockResponse>(
            metadata: [:],
            producer: { writer in
                try await self.holdTurn(
                    request: request.messages,
                    response: writer,
                    context: context
                )
                return [:]
            }
        )
    }

    public func lock(
        request: GRPCCore.ServerRequest<Colearn_V1_LockRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_LockResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_LockResponse>(
            message: try await self.lock(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func unlock(
        request: GRPCCore.ServerRequest<Colearn_V1_UnlockRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_UnlockResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_UnlockResponse>(
            message: try await self.unlock(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func status(
        request: GRPCCore.ServerRequest<Colearn_V1_StatusRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_StatusResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_StatusResponse>(
            message: try await self.status(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func leave(
        request: GRPCCore.ServerRequest<Colearn_V1_LeaveRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_LeaveResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_LeaveResponse>(
            message: try await self.leave(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }

    public func report(
        request: GRPCCore.ServerRequest<Colearn_V1_ReportRequest>,
        context: GRPCCore.ServerContext
    ) async throws -> GRPCCore.ServerResponse<Colearn_V1_ReportResponse> {
        return GRPCCore.ServerResponse<Colearn_V1_ReportResponse>(
            message: try await self.report(
                request: request.message,
                context: context
            ),
            metadata: [:]
        )
    }
}

// MARK: colearn.v1.ParameterServer (client)

@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer {
    /// Generated client protocol for the "colearn.v1.ParameterServer" service.
    ///
    /// You don't need to implement this protocol directly, use the generated
    /// implementation, ``Client``.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The parameter server of a DSSGD federation.
    public protocol ClientProtocol: Sendable {
        /// Call the "Join" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Joins the federation. Returns the participant id every later call names, and the server's
        /// > settings. Idempotent: joining again with the same token returns the same id.
        /// > 
        /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
        /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
        /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
        /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
        /// > is free again at once).
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_JoinRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_JoinRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_JoinResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func join<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_JoinRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_JoinRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_JoinResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_JoinResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Download" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
        /// > indices. Under round-robin and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
        /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
        /// > unknown participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_DownloadRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_DownloadRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_DownloadResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func download<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_DownloadRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_DownloadRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_DownloadResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_DownloadResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Upload" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Adds a sparse update to the global parameters and counts each updated position. Applied
        /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
        /// > and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
        /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
        /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
        /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
        /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
        /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
        /// > applied; retry).
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_UploadRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_UploadRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_UploadResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func upload<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_UploadRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_UploadRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_UploadResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UploadResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "HoldTurn" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
        /// > this call stays open: what a participant should use (Lock and Unlock remain for older
        /// > participants).
        /// > 
        /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
        /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
        /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
        /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
        /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
        /// >     Unlock; the server then ends the call with OK;
        /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
        /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
        /// >     server releases the lease at once and logs it; it does not wait for the lease to
        /// >     expire;
        /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
        /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
        /// >     with the lease fail with ABORTED as after Lock.
        /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
        /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
        /// > the wait and the whole turn.
        /// > 
        /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
        /// > server answers UNIMPLEMENTED: use Lock and Unlock.
        ///
        /// - Parameters:
        ///   - request: A streaming request producing `Colearn_V1_LockRequest` messages.
        ///   - serializer: A serializer for `Colearn_V1_LockRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_LockResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func holdTurn<Result>(
            request: GRPCCore.StreamingClientRequest<Colearn_V1_LockRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_LockRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_LockResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.StreamingClientResponse<Colearn_V1_LockResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Lock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
        /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
        /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
        /// > after the caller vanished. Under round-robin the turn goes to participants in the
        /// > order they joined; under random-order, the server picks among the waiting participants at
        /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
        /// > 
        /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
        /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
        /// > NOT_FOUND for an unknown participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_LockRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_LockRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_LockResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func lock<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_LockRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_LockRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_LockResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LockResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Unlock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
        /// > Idempotent: releasing a lease that is already released or expired succeeds with
        /// > `released = false`.
        /// > 
        /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
        /// > participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_UnlockRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_UnlockRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_UnlockResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func unlock<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_UnlockRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_UnlockRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_UnlockResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UnlockResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Status" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The server's model, settings and counters. Needs a valid token but no participant id.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_StatusRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_StatusRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_StatusResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func status<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_StatusRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_StatusRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_StatusResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_StatusResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Leave" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_LeaveRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_LeaveRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_LeaveResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func leave<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_LeaveRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_LeaveRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_LeaveResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LeaveResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable

        /// Call the "Report" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > A participant's own figures for the operator: its local model's accuracy and loss on its
        /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
        /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
        /// > figures are self-reported: the server checks their ranges, not their truth.
        /// > 
        /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
        /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
        /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
        /// > carries on without reporting.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_ReportRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_ReportRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_ReportResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        func report<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_ReportRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_ReportRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_ReportResponse>,
            options: GRPCCore.CallOptions,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_ReportResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable
    }

    /// Generated client for the "colearn.v1.ParameterServer" service.
    ///
    /// The ``Client`` provides an implementation of ``ClientProtocol`` which wraps
    /// a `GRPCCore.GRPCCClient`. The underlying `GRPCClient` provides the long-lived
    /// means of communication with the remote peer.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The parameter server of a DSSGD federation.
    public struct Client<Transport>: ClientProtocol where Transport: GRPCCore.ClientTransport {
        private let client: GRPCCore.GRPCClient<Transport>

        /// Creates a new client wrapping the provided `GRPCCore.GRPCClient`.
        ///
        /// - Parameters:
        ///   - client: A `GRPCCore.GRPCClient` providing a communication channel to the service.
        public init(wrapping client: GRPCCore.GRPCClient<Transport>) {
            self.client = client
        }

        /// Call the "Join" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Joins the federation. Returns the participant id every later call names, and the server's
        /// > settings. Idempotent: joining again with the same token returns the same id.
        /// > 
        /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
        /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
        /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
        /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
        /// > is free again at once).
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_JoinRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_JoinRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_JoinResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func join<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_JoinRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_JoinRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_JoinResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_JoinResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Join.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Download" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
        /// > indices. Under round-robin and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
        /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
        /// > unknown participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_DownloadRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_DownloadRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_DownloadResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func download<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_DownloadRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_DownloadRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_DownloadResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_DownloadResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Download.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Upload" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Adds a sparse update to the global parameters and counts each updated position. Applied
        /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
        /// > and random-order the caller must hold the lease.
        /// > 
        /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
        /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
        /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
        /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
        /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
        /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
        /// > applied; retry).
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_UploadRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_UploadRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_UploadResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func upload<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_UploadRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_UploadRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_UploadResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UploadResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Upload.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "HoldTurn" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
        /// > this call stays open: what a participant should use (Lock and Unlock remain for older
        /// > participants).
        /// > 
        /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
        /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
        /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
        /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
        /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
        /// >     Unlock; the server then ends the call with OK;
        /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
        /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
        /// >     server releases the lease at once and logs it; it does not wait for the lease to
        /// >     expire;
        /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
        /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
        /// >     with the lease fail with ABORTED as after Lock.
        /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
        /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
        /// > the wait and the whole turn.
        /// > 
        /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
        /// > server answers UNIMPLEMENTED: use Lock and Unlock.
        ///
        /// - Parameters:
        ///   - request: A streaming request producing `Colearn_V1_LockRequest` messages.
        ///   - serializer: A serializer for `Colearn_V1_LockRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_LockResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func holdTurn<Result>(
            request: GRPCCore.StreamingClientRequest<Colearn_V1_LockRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_LockRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_LockResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.StreamingClientResponse<Colearn_V1_LockResponse>) async throws -> Result
        ) async throws -> Result where Result: Sendable {
            try await self.client.bidirectionalStreaming(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.HoldTurn.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Lock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
        /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
        /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
        /// > after the caller vanished. Under round-robin the turn goes to participants in the
        /// > order they joined; under random-order, the server picks among the waiting participants at
        /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
        /// > 
        /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
        /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
        /// > NOT_FOUND for an unknown participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_LockRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_LockRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_LockResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func lock<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_LockRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_LockRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_LockResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LockResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Lock.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Unlock" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
        /// > Idempotent: releasing a lease that is already released or expired succeeds with
        /// > `released = false`.
        /// > 
        /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
        /// > participant.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_UnlockRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_UnlockRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_UnlockResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func unlock<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_UnlockRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_UnlockRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_UnlockResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UnlockResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Unlock.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Status" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > The server's model, settings and counters. Needs a valid token but no participant id.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_StatusRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_StatusRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_StatusResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func status<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_StatusRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_StatusRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_StatusResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_StatusResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Status.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Leave" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_LeaveRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_LeaveRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_LeaveResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func leave<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_LeaveRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_LeaveRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_LeaveResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LeaveResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Leave.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }

        /// Call the "Report" method.
        ///
        /// > Source IDL Documentation:
        /// >
        /// > A participant's own figures for the operator: its local model's accuracy and loss on its
        /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
        /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
        /// > figures are self-reported: the server checks their ranges, not their truth.
        /// > 
        /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
        /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
        /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
        /// > carries on without reporting.
        ///
        /// - Parameters:
        ///   - request: A request containing a single `Colearn_V1_ReportRequest` message.
        ///   - serializer: A serializer for `Colearn_V1_ReportRequest` messages.
        ///   - deserializer: A deserializer for `Colearn_V1_ReportResponse` messages.
        ///   - options: Options to apply to this RPC.
        ///   - handleResponse: A closure which handles the response and returns its result to
        ///       the caller. Returning from the closure will cancel the RPC if it hasn't
        ///       already finished.
        /// - Returns: The result of `handleResponse`.
        public func report<Result>(
            request: GRPCCore.ClientRequest<Colearn_V1_ReportRequest>,
            serializer: some GRPCCore.MessageSerializer<Colearn_V1_ReportRequest>,
            deserializer: some GRPCCore.MessageDeserializer<Colearn_V1_ReportResponse>,
            options: GRPCCore.CallOptions = .defaults,
            onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_ReportResponse>) async throws -> Result = { response in
                try response.message
            }
        ) async throws -> Result where Result: Sendable {
            try await self.client.unary(
                request: request,
                descriptor: Colearn_V1_ParameterServer.Method.Report.descriptor,
                serializer: serializer,
                deserializer: deserializer,
                options: options,
                onResponse: handleResponse
            )
        }
    }
}

// Helpers providing default arguments to 'ClientProtocol' methods.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer.ClientProtocol {
    /// Call the "Join" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Joins the federation. Returns the participant id every later call names, and the server's
    /// > settings. Idempotent: joining again with the same token returns the same id.
    /// > 
    /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
    /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
    /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
    /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
    /// > is free again at once).
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_JoinRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func join<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_JoinRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_JoinResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.join(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_JoinRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_JoinResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Download" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
    /// > indices. Under round-robin and random-order the caller must hold the lease.
    /// > 
    /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
    /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
    /// > unknown participant.
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_DownloadRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func download<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_DownloadRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_DownloadResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.download(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_DownloadRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_DownloadResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Upload" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Adds a sparse update to the global parameters and counts each updated position. Applied
    /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
    /// > and random-order the caller must hold the lease.
    /// > 
    /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
    /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
    /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
    /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
    /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
    /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
    /// > applied; retry).
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_UploadRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func upload<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_UploadRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UploadResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.upload(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_UploadRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_UploadResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "HoldTurn" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
    /// > this call stays open: what a participant should use (Lock and Unlock remain for older
    /// > participants).
    /// > 
    /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
    /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
    /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
    /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
    /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
    /// >     Unlock; the server then ends the call with OK;
    /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
    /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
    /// >     server releases the lease at once and logs it; it does not wait for the lease to
    /// >     expire;
    /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
    /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
    /// >     with the lease fail with ABORTED as after Lock.
    /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
    /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
    /// > the wait and the whole turn.
    /// > 
    /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
    /// > server answers UNIMPLEMENTED: use Lock and Unlock.
    ///
    /// - Parameters:
    ///   - request: A streaming request producing `Colearn_V1_LockRequest` messages.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func holdTurn<Result>(
        request: GRPCCore.StreamingClientRequest<Colearn_V1_LockRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.StreamingClientResponse<Colearn_V1_LockResponse>) async throws -> Result
    ) async throws -> Result where Result: Sendable {
        try await self.holdTurn(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_LockRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_LockResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Lock" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
    /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
    /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
    /// > after the caller vanished. Under round-robin the turn goes to participants in the
    /// > order they joined; under random-order, the server picks among the waiting participants at
    /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
    /// > 
    /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
    /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
    /// > NOT_FOUND for an unknown participant.
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_LockRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func lock<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_LockRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LockResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.lock(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_LockRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_LockResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Unlock" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
    /// > Idempotent: releasing a lease that is already released or expired succeeds with
    /// > `released = false`.
    /// > 
    /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
    /// > participant.
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_UnlockRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func unlock<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_UnlockRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UnlockResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.unlock(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_UnlockRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_UnlockResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Status" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The server's model, settings and counters. Needs a valid token but no participant id.
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_StatusRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func status<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_StatusRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_StatusResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.status(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_StatusRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_StatusResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Leave" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_LeaveRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func leave<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_LeaveRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LeaveResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.leave(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_LeaveRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_LeaveResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Report" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > A participant's own figures for the operator: its local model's accuracy and loss on its
    /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
    /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
    /// > figures are self-reported: the server checks their ranges, not their truth.
    /// > 
    /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
    /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
    /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
    /// > carries on without reporting.
    ///
    /// - Parameters:
    ///   - request: A request containing a single `Colearn_V1_ReportRequest` message.
    ///   - options: Options to apply to this RPC.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func report<Result>(
        request: GRPCCore.ClientRequest<Colearn_V1_ReportRequest>,
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_ReportResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        try await self.report(
            request: request,
            serializer: GRPCProtobuf.ProtobufSerializer<Colearn_V1_ReportRequest>(),
            deserializer: GRPCProtobuf.ProtobufDeserializer<Colearn_V1_ReportResponse>(),
            options: options,
            onResponse: handleResponse
        )
    }
}

// Helpers providing sugared APIs for 'ClientProtocol' methods.
@available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
extension Colearn_V1_ParameterServer.ClientProtocol {
    /// Call the "Join" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Joins the federation. Returns the participant id every later call names, and the server's
    /// > settings. Idempotent: joining again with the same token returns the same id.
    /// > 
    /// > Errors: FAILED_PRECONDITION if `model` differs from the server's model (the message names
    /// > both, e.g. "server runs mnist-cnn (|w| = 105,506, spec 3f9c…), you run mnist-mlp
    /// > (|w| = 140,106, spec 81d2…)"); INVALID_ARGUMENT for a name outside the allowed characters or
    /// > a missing model; RESOURCE_EXHAUSTED if the federation is full (a revoked participant's slot
    /// > is free again at once).
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func join<Result>(
        _ message: Colearn_V1_JoinRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_JoinResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_JoinRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.join(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Download" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Reads global parameters: the fraction θ_d with the largest update counts, or the given
    /// > indices. Under round-robin and random-order the caller must hold the lease.
    /// > 
    /// > Errors: INVALID_ARGUMENT for a fraction outside (0, 1] or bad indices; FAILED_PRECONDITION
    /// > without a lease under a sequential protocol; ABORTED if the lease expired; NOT_FOUND for an
    /// > unknown participant.
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func download<Result>(
        _ message: Colearn_V1_DownloadRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_DownloadResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_DownloadRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.download(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Upload" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Adds a sparse update to the global parameters and counts each updated position. Applied
    /// > fully or not at all, and acknowledged only once it is durable (SPEC §10). Under round-robin
    /// > and random-order the caller must hold the lease.
    /// > 
    /// > Errors: INVALID_ARGUMENT for a malformed vector, a dimension ≠ |w|, more than ⌈θ_u·|w|⌉
    /// > entries, a value or an L2 norm above the announced bounds, or an update after which a
    /// > parameter would not be finite; RESOURCE_EXHAUSTED for a message above max_message_bytes or
    /// > too many uploads in flight; FAILED_PRECONDITION without a lease under a sequential
    /// > protocol, or for a round lower than the last applied one; ABORTED if the lease expired;
    /// > NOT_FOUND for an unknown participant; INTERNAL if the update could not be persisted (not
    /// > applied; retry).
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func upload<Result>(
        _ message: Colearn_V1_UploadRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UploadResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_UploadRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.upload(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "HoldTurn" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Takes the exclusive turn under round-robin and random-order and holds it for as long as
    /// > this call stays open: what a participant should use (Lock and Unlock remain for older
    /// > participants).
    /// > 
    /// > The caller sends one LockRequest, as for Lock, and keeps its side of the stream open. The
    /// > server waits for the turn exactly as Lock does (same order, same lease duration rules) and
    /// > then sends one LockResponse, the lease: its lease_id goes into Download and Upload as
    /// > Lock's does. The turn ends, the lease is released and the next waiter served, when
    /// >   * the caller closes its side of the stream (half-close): the normal end of a turn, like
    /// >     Unlock; the server then ends the call with OK;
    /// >   * the call ends in any other way: the caller cancels it, its deadline passes, the stream
    /// >     is reset or the connection breaks (a participant killed or cut off mid-turn). The
    /// >     server releases the lease at once and logs it; it does not wait for the lease to
    /// >     expire;
    /// >   * the lease ends on the server first: it expires (lease_duration_ms stays a backstop),
    /// >     or Unlock or Leave releases it. The server then ends the call with OK, and later calls
    /// >     with the lease fail with ABORTED as after Lock.
    /// > Messages after the first are ignored. A caller that gives up while waiting (cancels, or its
    /// > deadline passes) leaves the queue and is never granted. Set no deadline, or one that covers
    /// > the wait and the whole turn.
    /// > 
    /// > Errors: as Lock; INVALID_ARGUMENT when the stream ends before its LockRequest. An older
    /// > server answers UNIMPLEMENTED: use Lock and Unlock.
    ///
    /// - Parameters:
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - producer: A closure producing request messages to send to the server. Returning
    ///       from the closure closes the request stream.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func holdTurn<Result>(
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        requestProducer producer: @Sendable @escaping (GRPCCore.RPCWriter<Colearn_V1_LockRequest>) async throws -> Void,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.StreamingClientResponse<Colearn_V1_LockResponse>) async throws -> Result
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.StreamingClientRequest<Colearn_V1_LockRequest>(
            metadata: metadata,
            producer: producer
        )
        return try await self.holdTurn(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Lock" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The older form of HoldTurn, for participants written before it: asks for the exclusive turn
    /// > under round-robin and random-order. Waits until the server grants it (or the call's deadline
    /// > passes), and returns; the turn then lasts until Unlock or the lease's expiry, however long
    /// > after the caller vanished. Under round-robin the turn goes to participants in the
    /// > order they joined; under random-order, the server picks among the waiting participants at
    /// > random (SPEC §6). A caller that already holds an unexpired lease gets it back unchanged.
    /// > 
    /// > Errors: FAILED_PRECONDITION under the async protocol (it has no turns); INVALID_ARGUMENT for
    /// > a zero lease duration; DEADLINE_EXCEEDED if the turn did not come before the deadline;
    /// > NOT_FOUND for an unknown participant.
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func lock<Result>(
        _ message: Colearn_V1_LockRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LockResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_LockRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.lock(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Unlock" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Ends the turn, releasing the lease (of Lock, or of HoldTurn before its call ends).
    /// > Idempotent: releasing a lease that is already released or expired succeeds with
    /// > `released = false`.
    /// > 
    /// > Errors: PERMISSION_DENIED for another participant's lease; NOT_FOUND for an unknown
    /// > participant.
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func unlock<Result>(
        _ message: Colearn_V1_UnlockRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_UnlockResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_UnlockRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.unlock(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Status" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > The server's model, settings and counters. Needs a valid token but no participant id.
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func status<Result>(
        _ message: Colearn_V1_StatusRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_StatusResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_StatusRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.status(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Leave" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > Leaves the federation: releases the participant's lease and forgets its id. Idempotent.
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func leave<Result>(
        _ message: Colearn_V1_LeaveRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_LeaveResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_LeaveRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.leave(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }

    /// Call the "Report" method.
    ///
    /// > Source IDL Documentation:
    /// >
    /// > A participant's own figures for the operator: its local model's accuracy and loss on its
    /// > local test data, and the ε its privacy ledger has spent — never data. The server keeps the
    /// > latest report per participant for Status, its run record (metrics.csv) and /metrics. The
    /// > figures are self-reported: the server checks their ranges, not their truth.
    /// > 
    /// > Errors: INVALID_ARGUMENT for an accuracy outside [0, 1], a loss that is negative or NaN, an ε
    /// > that is negative or not finite, δ outside [0, 1), or a privacy unit longer than 200 bytes;
    /// > NOT_FOUND for an unknown participant. An older server answers UNIMPLEMENTED: the participant
    /// > carries on without reporting.
    ///
    /// - Parameters:
    ///   - message: request message to send.
    ///   - metadata: Additional metadata to send, defaults to empty.
    ///   - options: Options to apply to this RPC, defaults to `.defaults`.
    ///   - handleResponse: A closure which handles the response and returns its result to
    ///       the caller. Returning from the closure will cancel the RPC if it hasn't
    ///       already finished.
    /// - Returns: The result of `handleResponse`.
    public func report<Result>(
        _ message: Colearn_V1_ReportRequest,
        metadata: GRPCCore.Metadata = [:],
        options: GRPCCore.CallOptions = .defaults,
        onResponse handleResponse: @Sendable @escaping (GRPCCore.ClientResponse<Colearn_V1_ReportResponse>) async throws -> Result = { response in
            try response.message
        }
    ) async throws -> Result where Result: Sendable {
        let request = GRPCCore.ClientRequest<Colearn_V1_ReportRequest>(
            message: message,
            metadata: metadata
        )
        return try await self.report(
            request: request,
            options: options,
            onResponse: handleResponse
        )
    }
}