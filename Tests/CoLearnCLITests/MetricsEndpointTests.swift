import CoLearnTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The operator's view (issue 20 item 5): `colearn status` (the Status RPC, without joining)
/// and `serve --metrics-listen`, the live counters at /metrics in the Prometheus text format,
/// scraped with a plain HTTP GET, read by the reference parser (prometheus_client) and checked
/// by Prometheus's `promtool check metrics` (parse and lint).
@Suite(.serialized) struct MetricsEndpointTests {
  let deployment = DeploymentTests()

  func get(_ url: String) throws -> (status: Int, body: String, type: String?) {
    let result = Mutex<(Int, String, String?)?>(nil)
    let done = DispatchSemaphore(value: 0)
    URLSession.shared.dataTask(with: URL(string: url)!) { data, response, _ in
      let http = response as? HTTPURLResponse
      result.withLock {
        $0 = (
          http?.statusCode ?? 0, data.map { String(decoding: $0, as: UTF8.self) } ?? "",
          http?.value(forHTTPHeaderField: "Content-Type")
        )
      }
      done.signal()
    }.resume()
    #expect(done.wait(timeout: .now() + 30) == .success)
    return try #require(result.withLock { $0 })
  }

  @Test func liveFiguresAreShownByStatusAndScrapedInThePrometheusFormat() throws {
    let directory = try makeTemporaryDirectory("colearn-metrics")
    defer { try? FileManager.default.removeItem(at: directory) }
    let binary = try deployment.binary()
    let tokens = try deployment.issueTokens(["solo"], in: directory)
    let model = directory.appendingPathComponent("tiny.toml")
    try """
      name = "tiny"
      input = [2]
      classes = 2

      [[layers]]
      type = "linear"
      outputs = 2

      [[layers]]
      type = "log-softmax"
      """.write(to: model, atomically: true, encoding: .utf8)
    let server = try BackgroundProcess(
      binary,
      [
        "serve", "--listen", "127.0.0.1:0", "--tokens", tokens, "--insecure",
        "--state-dir", directory.appendingPathComponent("state").path, "--participants", "1",
        "--model", model.path, "--metrics-listen", "127.0.0.1:0",
      ])
    let metricsPort = try #require(
      server.waitFor("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics").flatMap(Int.init),
      "\(server.combined)")
    let port = try #require(
      server.waitFor("listening on 127\\.0\\.0\\.1:([0-9]+)").flatMap(Int.init), "\(server.combined)")
    // Three rounds of one participant on a small synthetic table, with the published model.
    var csv = "a,b,label\n"
    for row in 0..<60 { csv += "\(row % 7),\(row % 5),\(row % 2 == 0 ? "x" : "y")\n" }
    try csv.write(to: directory.appendingPathComponent("rows.csv"), atomically: true, encoding: .utf8)
    let participant = try runProcess(
      binary,
      [
        "participate", "--server", "127.0.0.1:\(port)", "--insecure",
        "--token-file", directory.appendingPathComponent("tokens.d/solo.token").path,
        "--rounds", "3", "--data", "csv:\(directory.path)/rows.csv", "--label-column", "label",
        "--test-fraction", "0.2", "--out", directory.appendingPathComponent("out").path,
      ])
    #expect(participant.status == 0, "\(participant.combined)")

    let status = try runProcess(
      binary,
      [
        "status", "--server", "127.0.0.1:\(port)", "--insecure",
        "--token-file", directory.appendingPathComponent("tokens.d/solo.token").path,
      ])
    #expect(status.status == 0, "\(status.combined)")
    // A two-column table: the name, then the value right-aligned.
    let shown = status.standardOutput.split(separator: "\n").map(String.init)
    for (name, value) in [
      ("rounds completed", "3 (no end set)"), ("uploads applied", "3"), ("model", "tiny (|w| = 6)"),
    ] {
      #expect(
        shown.contains { $0.hasPrefix(name + " ") && $0.hasSuffix(" " + value) },
        "\(name): \(status.standardOutput)")
    }
    // The participant's row: its uploads and last round, and the accuracy it reported after
    // its last round (it has left), with no ε: it ran without DP.
    let row = try #require(shown.first { $0.hasPrefix("solo ") }, "\(status.standardOutput)")
    let cells = row.split(separator: "  ", omittingEmptySubsequences: true)
      .map { $0.trimmingCharacters(in: .whitespaces) }
    #expect(cells.count == 7, "\(row)")
    #expect(Array(cells.prefix(1) + cells[3...4]) == ["solo", "3", "3"], "\(row)")
    #expect(cells[1] == "left" && cells[2].hasSuffix(" s ago"), "\(row)")
    #expect(cells[5].wholeMatch(of: /[0-9]+\.[0-9]{2}% \(round 3\)/) != nil, "\(row)")
    #expect(cells[6] == "no DP: no formal guarantee", "\(row)")

    let scrape = try get("http://127.0.0.1:\(metricsPort)/metrics")
    #expect(scrape.status == 200)
    #expect(scrape.type == "text/plain; version=0.0.4; charset=utf-8")
    // Every sample line is NAME{labels} VALUE, and every family has HELP and TYPE.
    let lines = scrape.body.split(separator: "\n").map(String.init)
    let samples = lines.filter { !$0.hasPrefix("#") }
    #expect(samples.count >= 12 + 16)
    for line in samples {
      #expect(line.wholeMatch(of: /[a-z_:][a-z0-9_:]*(\{[a-z_]+="[^"]*"\})? [0-9.e+-]+/) != nil, "\(line)")
    }
    for family in ["colearn_uploads_accepted_total", "colearn_upload_latency_seconds"] {
      #expect(lines.contains { $0.hasPrefix("# HELP \(family) ") })
      #expect(lines.contains { $0.hasPrefix("# TYPE \(family) ") })
    }
    #expect(lines.contains("# TYPE colearn_upload_latency_seconds histogram"))
    // The live figures: three uploads, each counted in the histogram.
    #expect(samples.contains("colearn_uploads_accepted_total 3"), "\(scrape.body)")
    #expect(samples.contains("colearn_upload_latency_seconds_count 3"), "\(scrape.body)")
    #expect(samples.contains(#"colearn_upload_latency_seconds_bucket{le="+Inf"} 3"#))
    // The report's aggregate, without the participant's name.
    #expect(samples.contains("colearn_reports 1"), "\(scrape.body)")
    #expect(samples.contains { $0.hasPrefix("colearn_reported_accuracy_mean 0.") || $0 == "colearn_reported_accuracy_mean 1.0" })
    #expect(!scrape.body.contains("solo"))
    // Prometheus's own checker: the text parses, and its linter (counters end in _total, base
    // units, no reserved suffixes on gauges, HELP on every family) finds nothing to report.
    if let promtool = Promtool.located() {
      let checked = try Promtool.checkMetrics(scrape.body, promtool: promtool, in: directory)
      #expect(checked.status == 0, "promtool check metrics: \(checked.combined)")
      #expect(
        checked.combined.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty,
        "promtool check metrics: \(checked.combined)")
    }
    let notFound = try get("http://127.0.0.1:\(metricsPort)/")
    #expect(notFound.status == 404)

    if try pythonHas("prometheus_client") {
      let file = directory.appendingPathComponent("scrape.txt")
      try scrape.body.write(to: file, atomically: true, encoding: .utf8)
      let parsed = try runProcess(
        URL(fileURLWithPath: "/usr/bin/env"),
        [
          "python3", "-c",
          """
          import sys
          from prometheus_client.parser import text_string_to_metric_families
          families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
          print(len(families), families['colearn_upload_latency_seconds'].type)
          """, file.path,
        ])
      #expect(parsed.status == 0, "\(parsed.combined)")
      #expect(parsed.standardOutput == "17 histogram\n", "\(parsed.combined)")
    }
    server.send(SIGTERM)
    #expect(server.wait(timeout: 30) == 0, "\(server.combined)")
  }
}
