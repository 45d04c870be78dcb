import CoLearnWire
import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import Synchronization

/// How many request bytes the server holds at once: the memory bound in front of the gRPC
/// transport, which otherwise buffers every message in full before anyone looks at it.
///
/// A request message is admitted when its 5-byte gRPC prefix arrives, *before* its body is read,
/// if its declared length is at most ``maxMessageBytes`` and its bytes fit both the caller's
/// share (``perCallerBytes``, per token identity; calls without a valid token share one) and
/// the server's (``totalBytes``); the bytes are returned when the call ends. Anything else is
/// answered at once with RESOURCE_EXHAUSTED and the stream is reset, so the rest of the message
/// is never buffered. Request memory is thus at most ``totalBytes``, and one participant holds
/// at most ``perCallerBytes`` of it, whatever it sends on however many connections.
public final class RequestBudget: Sendable {
  /// Why a message was not admitted.
  public enum Refusal: Equatable, Sendable {
    case tooLarge(bytes: Int)
    case callerBusy(inFlight: Int)
    case serverBusy(inFlight: Int)
  }

  private struct State {
    var total = 0
    var byCaller: [String: Int] = [:]
  }

  public let maxMessageBytes: Int
  public let perCallerBytes: Int
  public let totalBytes: Int
  private let state = Mutex(State())

  public init(maxMessageBytes: Int, perCallerBytes: Int, totalBytes: Int) {
    precondition(maxMessageBytes > 0 && perCallerBytes >= maxMessageBytes)
    precondition(totalBytes >= perCallerBytes)
    self.maxMessageBytes = maxMessageBytes
    self.perCallerBytes = perCallerBytes
    self.totalBytes = totalBytes
  }

  /// Reserves `bytes` for `caller`, or says why not.
  public func reserve(_ bytes: Int, caller: String) -> Refusal? {
    guard bytes <= maxMessageBytes else { return .tooLarge(bytes: bytes) }
    return state.withLock { state -> Refusal? in
      let mine = state.byCaller[caller, default: 0]
      if mine + bytes > perCallerBytes { return .callerBusy(inFlight: mine) }
      if state.total + bytes > totalBytes { return .serverBusy(inFlight: state.total) }
      state.byCaller[caller] = mine + bytes
      state.total += bytes
      return nil
    }
  }

  /// Returns bytes reserved for `caller`.
  public func release(_ bytes: Int, caller: String) {
    guard bytes > 0 else { return }
    state.withLock { state in
      state.total -= bytes
      let left = state.byCaller[caller, default: 0] - bytes
      state.byCaller[caller] = left > 0 ? left : nil
    }
  }

  /// Bytes reserved now.
  public var inFlight: Int { state.withLock { $0.total } }

  /// The message a refused call gets.
  func message(_ refusal: Refusal) -> String {
    switch refusal {
    case .tooLarge(let bytes):
      return "the request message is \(bytes.groupedByThousands) bytes, more than the server's "
        + "limit of \(maxMessageBytes.groupedByThousands) bytes (--max-message-bytes); "
        + "it was not read"
    case .callerBusy(let inFlight):
      return "this participant already has \(inFlight.groupedByThousands) request bytes in "
        + "flight (limit \(perCallerBytes.groupedByThousands)); wait for the answers to the "
        + "earlier calls, then retry"
    case .serverBusy(let inFlight):
      return "the server already holds \(inFlight.groupedByThousands) request bytes in flight "
        + "(limit \(totalBytes.groupedByThousands)); retry with backoff"
    }
  }
}

/// The ``RequestBudget`` at work on one HTTP/2 stream: the first handler of the stream's
/// pipeline, ahead of gRPC's. It reads the gRPC length prefixes as DATA frames pass, reserves
/// each message's bytes, and refuses a message that does not fit with a trailers-only
/// RESOURCE_EXHAUSTED response followed by a stream reset; its reservation ends with the stream.
final class RequestAdmissionHandler: ChannelDuplexHandler, RemovableChannelHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias InboundOut = HTTP2Frame.FramePayload
  typealias OutboundIn = HTTP2Frame.FramePayload
  typealias OutboundOut = HTTP2Frame.FramePayload

  private let budget: RequestBudget
  /// The caller's key (its token's identity, or "" without a valid token) from the headers.
  private let caller: @Sendable (HPACKHeaders) -> String
  private var key: String?
  private var reserved = 0
  /// The bytes of the current message's prefix seen so far (up to 5).
  private var prefix: [UInt8] = []
  /// Body bytes of the current message still to come.
  private var remaining = 0
  /// This handler answered the call: everything else on the stream is dropped.
  private var refused = false
  /// The server sent its final headers: nothing more to admit.
  private var answered = false

  init(budget: RequestBudget, caller: @escaping @Sendable (HPACKHeaders) -> String) {
    self.budget = budget
    self.caller = caller
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !refused else { return }
    let payload = unwrapInboundIn(data)
    switch payload {
    case .headers(let headers):
      if key == nil { key = caller(headers.headers) }
    case .data(let frame):
      if !answered, case .byteBuffer(let buffer) = frame.data, let refusal = admit(buffer) {
        refuse(context: context, message: budget.message(refusal))
        return
      }
    default:
      break
    }
    context.fireChannelRead(data)
  }

  /// Walks the message prefixes in `buffer`, reserving each message; the first refusal.
  private func admit(_ buffer: ByteBuffer) -> RequestBudget.Refusal? {
    let bytes = buffer.readableBytesView
    var index = bytes.startIndex
    while index < bytes.endIndex {
      if remaining > 0 {
        let skip = min(remaining, bytes.endIndex - index)
        remaining -= skip
        index += skip
        continue
      }
      prefix.append(bytes[index])
      index += 1
      guard prefix.count == 5 else { continue }
      let length = prefix[1...4].reduce(0) { $0 << 8 | Int($1) }
      prefix.removeAll(keepingCapacity: true)
      if let refusal = budget.reserve(length, caller: key ?? "") { return refusal }
      reserved += length
      remaining = length
    }
    return nil
  }

  private func refuse(context: ChannelHandlerContext, message: String) {
    refused = true
    releaseReservation()
    let headers: HPACKHeaders = [
      ":status": "200", "content-type": "application/grpc",
      "grpc-status": "\(RPCError.Code.resourceExhausted.rawValue)",
      "grpc-message": Self.percentEncoded(message),
    ]
    context.writeAndFlush(
      wrapOutboundOut(.headers(.init(headers: headers, endStream: true))), promise: nil)
    // Resets the stream: the client stops sending, and gRPC's handler ends the call.
    context.close(promise: nil)
  }

  func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
    if refused {
      // The call was answered here; gRPC's own answer must not follow.
      promise?.fail(ChannelError.ioOnClosedChannel)
      return
    }
    if case .headers(let headers) = unwrapOutboundIn(data), headers.endStream { answered = true }
    context.write(data, promise: promise)
  }

  func channelInactive(context: ChannelHandlerContext) {
    releaseReservation()
    context.fireChannelInactive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    releaseReservation()
  }

  private func releaseReservation() {
    budget.release(reserved, caller: key ?? "")
    reserved = 0
  }

  /// grpc-message's encoding: bytes outside printable ASCII, and '%', as %XX.
  static func percentEncoded(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
      if byte >= 0x20, byte <= 0x7E, byte != UInt8(ascii: "%") {
        out.unicodeScalars.append(Unicode.Scalar(byte))
      } else {
        out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
      }
    }
    return out
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
