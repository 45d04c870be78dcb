import ArgumentParser
import Foundation

/// How a server (`serve`) or split coordinator (`split serve`) secures its endpoint: the TLS
/// certificate and key (or --insecure) and the token file, validated in one place.
struct ServerSecurityOptions: ParsableArguments {
  @Option(name: .customLong("tls-cert"), help: "TLS certificate chain (PEM).")
  var tlsCert: String?

  @Option(name: .customLong("tls-key"), help: "TLS private key (PEM).")
  var tlsKey: String?

  @Flag(
    help: "Serve without TLS (tokens then cross the network in the clear: loopback or tests only).")
  var insecure = false

  @Option(help: "The token file (salted hashes; `colearn token add NAME --tokens FILE`).")
  var tokens: String

  /// --tls-cert and --tls-key (readable files) or --insecure.
  func validate() throws {
    switch (tlsCert, tlsKey, insecure) {
    case (nil, nil, false):
      throw ValidationError(
        "give --tls-cert and --tls-key, or --insecure to serve without TLS (loopback or tests only)")
    case (.some, nil, _), (nil, .some, _):
      throw ValidationError("--tls-cert and --tls-key go together")
    case (.some, .some, true):
      throw ValidationError("--insecure contradicts --tls-cert/--tls-key: choose one")
    default: break
    }
    for (flag, path) in [("tls-cert", tlsCert), ("tls-key", tlsKey)] {
      if let path, !FileManager.default.isReadableFile(atPath: path) {
        throw ValidationError("--\(flag) \(path): no such readable file")
      }
    }
  }

  /// The certificate chain and key files, nil with --insecure.
  var tls: (String, String)? {
    guard let tlsCert, let tlsKey else { return nil }
    return (tlsCert, tlsKey)
  }
}
