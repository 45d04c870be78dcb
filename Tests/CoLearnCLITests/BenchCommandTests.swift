import CoLearnTestSupport
import Foundation
import Testing

@Suite struct BenchCommandTests {
  /// A very short bench run writes a JSON record with one row per configuration and thread count.
  @Test func shortRunWritesJSON() throws {
    let binary = try #require(colearnExecutable(), "the colearn executable was not built")
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let json = out.appendingPathComponent("bench.json")
    let result = try runProcess(
      binary,
      [
        "bench", "--model", "mnist-mlp", "--batch-size", "1,32", "--threads", "1",
        "--seconds", "0.05", "--passes", "1", "--no-evaluation", "--json", json.path,
      ])
    #expect(result.status == 0, "\(result.combined)")
    let object = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
    let rows = try #require(object?["training"] as? [[String: Any]])
    #expect(rows.count == 2)
    for row in rows {
      let rate = try #require(row["samplesPerSecond"] as? Double)
      #expect(rate > 0)
    }
    #expect(result.standardOutput.contains("mnist-mlp"))
  }

  @Test func badListsAreRefused() throws {
    let binary = try #require(colearnExecutable(), "the colearn executable was not built")
    let result = try runProcess(binary, ["bench", "--batch-size", "1,x"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("--batch-size"), "\(result.standardError)")
  }
}
