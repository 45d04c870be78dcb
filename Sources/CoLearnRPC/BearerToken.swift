import GRPCCore

/// The credential colearn.proto asks for on every call: the gRPC metadata entry
/// `authorization: Bearer <token>` (RFC 6750's syntax). Pure helpers for both sides: a client
/// interceptor adds ``metadataValue(for:)``, a server interceptor reads ``token(in:)``.
public enum BearerToken {
  /// The metadata key, lowercase as HTTP/2 requires.
  public static let metadataKey = "authorization"

  /// "Bearer <token>".
  public static func metadataValue(for token: String) -> String {
    "Bearer \(token)"
  }

  /// The token of the single `authorization` entry in `metadata`, or nil when there is none,
  /// more than one, or it is not "Bearer" (any case), one space and a non-empty token without
  /// spaces.
  ///
  /// - Complexity: O(size of the metadata).
  public static func token(in metadata: Metadata) -> String? {
    var values = metadata[stringValues: metadataKey].makeIterator()
    guard let value = values.next(), values.next() == nil else { return nil }
    let scheme = "bearer "
    guard value.utf8.count > scheme.utf8.count,
      value.prefix(scheme.count).lowercased() == scheme
    else { return nil }
    let token = value.dropFirst(scheme.count)
    guard !token.contains(" ") else { return nil }
    return String(token)
  }
}
