import ArgumentParser

/// How a participant reaches its server (`participate`) or coordinator (`split participate`):
/// the address, the token and the TLS settings, validated and read in one place.
struct ServerConnectionOptions: ParsableArguments {
  @Option(help: "The server (or split coordinator), HOST:PORT.")
  var server: String

  @Option(
    name: .customLong("token-file"),
    help: "File holding this participant's token (or set COLEARN_TOKEN).")
  var tokenFile: String?

  @Option(
    name: .customLong("tls-ca"),
    help: "CA certificate (PEM) to trust for the server (default: the system's).")
  var tlsCA: String?

  @Option(
    name: .customLong("server-name"),
    help: "Name to verify in the server's certificate (default: the host).")
  var serverName: String?

  @Flag(help: "Connect without TLS (loopback or tests only).")
  var insecure = false

  func validate() throws {
    _ = try HostPort(parsing: server, flag: "server")
    if insecure, tlsCA != nil { throw ValidationError("--insecure contradicts --tls-ca: choose one") }
  }

  /// The server's address.
  func address() throws -> HostPort { try HostPort(parsing: server, flag: "server") }

  /// The TLS settings of the connection (CA file, name to verify), nil with --insecure.
  var tls: (caCertificate: String?, serverName: String?)? { insecure ? nil : (tlsCA, serverName) }

  /// The participant's token, from --token-file or COLEARN_TOKEN.
  func token() throws -> String { try readParticipantToken(tokenFile: tokenFile) }
}
