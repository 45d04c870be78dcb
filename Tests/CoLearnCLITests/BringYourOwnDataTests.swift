import CoLearnTestSupport
import Foundation
import Testing

/// Issue 17: a user's own data and model, with no Swift written: the example model files on the
/// real UCI tables in ../shared/data, through the real binary.
@Suite struct BringYourOwnDataTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  static var repository: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
  }

  /// The final mean participant accuracy of one simulate run.
  func simulate(_ arguments: [String]) throws -> Double {
    let out = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let result = try runProcess(binary(), ["simulate"] + arguments + ["--out", out.path])
    #expect(result.status == 0, "\(result.combined)")
    #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("schema.json").path))
    let summary = try JSONSerialization.jsonObject(
      with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as? [String: Any]
    return try #require(summary?["finalMeanAccuracy"] as? Double)
  }

  /// The README's breast-cancer command: 5 hospitals, an MLP 30→16→2 from a file, DSSGD with
  /// θ_u = 0.1 reaches ≥ 95% and beats each hospital training alone, IID and label-skewed.
  @Test(
    .enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with tabular/"),
    arguments: ["iid", "dirichlet:0.5"])
  func breastCancerFederationBeatsStandalone(partition: String) throws {
    let data = try #require(realDataDirectory())
    let common = [
      "--model", Self.repository.appendingPathComponent("examples/breast-cancer/model.toml").path,
      "--data", "csv:\(data)/tabular/breast_cancer.csv", "--label-column", "diagnosis",
      "--test-fraction", "0.2", "--participants", "5", "--partition", partition,
      "--rounds", "20", "--batch-size", "8", "--lr", "0.01", "--eval-every", "20",
      "--threads", "1",
    ]
    let dssgd = try simulate(common)
    let standalone = try simulate(common + ["--algorithm", "standalone"])
    #expect(dssgd >= 0.95, "DSSGD \(dssgd)")
    #expect(dssgd > standalone, "DSSGD \(dssgd), standalone \(standalone)")
  }

  /// The digits example: 10 participants, a small CNN (conv with padding) from a file, DSSGD
  /// ≥ 3 points over standalone.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with digits/"))
  func digitsCNNFederationBeatsStandaloneByThreePoints() throws {
    let data = try #require(realDataDirectory())
    let common = [
      "--model", Self.repository.appendingPathComponent("examples/digits/model.toml").path,
      "--data", "npz:\(data)/digits/digits.npz", "--test-fraction", "0.2",
      "--participants", "10", "--rounds", "20", "--batch-size", "8", "--lr", "0.05",
      "--eval-every", "20", "--threads", "1",
    ]
    let dssgd = try simulate(common)
    let standalone = try simulate(common + ["--algorithm", "standalone"])
    #expect(dssgd - standalone >= 0.03, "DSSGD \(dssgd), standalone \(standalone)")
  }

  /// A model whose classes or input do not fit the data is refused before training, naming the
  /// setting to change; a CSV with a text cell in a numeric column names the row and column.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with tabular/"))
  func mismatchedModelsAndBrokenFilesAreRefusedUpFront() throws {
    let data = try #require(realDataDirectory())
    let folder = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let model = folder.appendingPathComponent("three.toml")
    try "input = [30]\nclasses = 3\nlayers = [{type = \"linear\", outputs = 3}]\n"
      .write(to: model, atomically: true, encoding: .utf8)
    let csv = "csv:\(data)/tabular/breast_cancer.csv"
    var result = try runProcess(
      binary(),
      ["train", "--model", model.path, "--data", csv, "--label-column", "diagnosis",
       "--test-fraction", "0.2", "--out", folder.appendingPathComponent("run").path])
    #expect(result.status != 0)
    #expect(result.standardError.contains("model three has 3 classes but"), "\(result.standardError)")
    #expect(result.standardError.contains("set classes = 2"))
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run").path))

    let broken = folder.appendingPathComponent("broken.csv")
    try "a,b,y\n1,2,yes\n3,oops,no\n5,6,yes\n".write(to: broken, atomically: true, encoding: .utf8)
    let two = folder.appendingPathComponent("two.toml")
    try "input = [2]\nclasses = 2\nlayers = [{type = \"linear\", outputs = 2}]\n"
      .write(to: two, atomically: true, encoding: .utf8)
    result = try runProcess(
      binary(),
      ["simulate", "--model", two.path, "--data", "csv:\(broken.path)", "--label-column", "y",
       "--test-fraction", "0.3", "--participants", "2", "--out", folder.appendingPathComponent("run2").path])
    #expect(result.status != 0)
    #expect(result.standardError.contains("line 3"), "\(result.standardError)")
    #expect(result.standardError.contains("'b'") || result.standardError.contains("column b"), "\(result.standardError)")
    #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("run2").path))
  }
}
