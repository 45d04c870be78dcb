import CoLearnTestSupport
import Foundation
import Testing

/// Issue 20 item 4: a participant whose connection cannot work says why in words, at once
/// (before, every case waited out the retries and ended with "closed the connection before
/// completing the HTTP/2 connection preface"), and the server logs failed handshakes with the
/// peer's address. Real processes on 127.0.0.1 with certificates from `colearn provision`.
@Suite(.serialized) struct ConnectionFailureTests {
  let deployment = DeploymentTests()

  /// Provisions a federation named `name` whose certificate names only `localhost`.
  func provision(_ name: String, port: Int, in directory: URL) throws -> String {
    let project = directory.appendingPathComponent("\(name).yaml")
    try """
      federation: \(name)
      server: localhost:\(port)
      listen: 127.0.0.1:\(port)
      participants: hospital-a
      """.write(to: project, atomically: true, encoding: .utf8)
    let fed = directory.appendingPathComponent(name).path
    let result = try runProcess(
      deployment.binary(), ["provision", "--project", project.path, "--out", fed])
    #expect(result.status == 0, "\(result.combined)")
    return fed
  }

  @Test func eachTLSMistakeIsNamedAndTheServerLogsTheHandshake() throws {
    let directory = try makeTemporaryDirectory("colearn-connection")
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = try deployment.binary()
    let port = try freeLocalPort()
    let fed = try provision("study", port: port, in: directory)
    let other = try provision("other", port: port, in: directory)
    let server = try BackgroundProcess(
      binary, ["serve", "--config", "\(fed)/server/serve.yaml", "--model", "mnist-mlp"])
    #expect(server.waitFor("listening on") != nil, "\(server.combined)")
    let plainPort = try freeLocalPort()
    let plain = try BackgroundProcess(
      binary,
      [
        "serve", "--listen", "127.0.0.1:\(plainPort)", "--insecure", "--model", "mnist-mlp",
        "--tokens", "\(fed)/server/tokens",
        "--state-dir", directory.appendingPathComponent("plain-state").path,
      ])
    #expect(plain.waitFor("listening on") != nil, "\(plain.combined)")

    // The join fails before any data is read, so none is needed.
    let kit = ["--config", "\(fed)/kits/hospital-a/participate.yaml"]
    let cases: [([String], String)] = [
      // The certificate names localhost, not the address dialled.
      (kit + ["--server", "127.0.0.1:\(port)"],
       "the server's certificate does not name the host you dialled (127.0.0.1); it names: localhost"),
      // Another federation's CA.
      (kit + ["--tls-ca", "\(other)/kits/hospital-a/ca.pem"],
       "issued by CN=colearn study CA) is not signed by the CA in --tls-ca"),
      // Plaintext against TLS (without the kit: its config names a CA, which --insecure refuses),
      // and TLS against plaintext.
      (["--server", "localhost:\(port)", "--insecure", "--token-file", "\(fed)/kits/hospital-a/token"],
       "speaks TLS, but this participant connected without it (--insecure)"),
      (kit + ["--server", "localhost:\(plainPort)"], "does not speak TLS (it answered in plaintext"),
    ]
    for (arguments, expected) in cases {
      let start = Date()
      let result = try runProcess(
        binary,
        ["participate", "--data", "csv:/nonexistent.csv", "--retry-seconds", "60"] + arguments)
      let seconds = Date().timeIntervalSince(start)
      #expect(result.status != 0)
      #expect(result.standardError.contains(expected), "\(arguments): \(result.standardError)")
      // Named at once, not after the 60 s of retries.
      #expect(seconds < 30, "\(arguments) took \(seconds) s")
    }
    server.send(SIGTERM)
    plain.send(SIGTERM)
    #expect(server.wait(timeout: 30) == 0, "\(server.combined)")
    #expect(plain.wait(timeout: 30) == 0)
    let log = server.standardError
    #expect(log.contains(#"msg="TLS handshake failed" peer=127.0.0.1:"#), "\(log)")
    #expect(log.contains("the client refused this server's certificate"), "\(log)")
    #expect(log.contains("the client does not speak TLS"), "\(log)")
    #expect(log.contains("failed_tls="), "\(log)")
  }
}
