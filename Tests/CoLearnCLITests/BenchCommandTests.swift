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

  /// Issue 17: a model file is measured like a preset (no PyTorch figure next to it); a bad
  /// file is refused with its name. (Its random labels once went up to 9 whatever the model's
  /// class count, and a 2-class model crashed the loss's bounds check.)
  @Test func aModelFileIsMeasured() throws {
    let binary = try #require(colearnExecutable(), "the colearn executable was not built")
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let model = directory.appendingPathComponent("tabular.toml")
    try Data(
      "name = \"tabular\"\ninput = [30]\nclasses = 2\n[[layers]]\ntype = \"linear\"\noutputs = 16\n[[layers]]\ntype = \"relu\"\n[[layers]]\ntype = \"linear\"\noutputs = 2\n"
        .utf8
    ).write(to: model)
    let result = try runProcess(
      binary,
      [
        "bench", "--model", model.path, "--batch-size", "8", "--threads", "1",
        "--seconds", "0.05", "--passes", "1",
      ])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("tabular"), "\(result.standardOutput)")
    let bad = try runProcess(binary, ["bench", "--model", directory.appendingPathComponent("none.toml").path])
    #expect(bad.status != 0)
    #expect(bad.standardError.contains("none.toml: no such model file"), "\(bad.standardError)")
  }

  @Test func badListsAreRefused() throws {
    let binary = try #require(colearnExecutable(), "the colearn executable was not built")
    let result = try runProcess(binary, ["bench", "--batch-size", "1,x"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("--batch-size"), "\(result.standardError)")
  }
}
