import CoLearnTestSupport
import Foundation
import Testing

@Suite struct DataCommandTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func verifyReportsTheRealCounts() throws {
    let result = try runProcess(binary(), ["data", "verify", "mnist"])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("60000") || result.standardOutput.contains("60,000"))
    #expect(result.standardOutput.contains("10000") || result.standardOutput.contains("10,000"))
  }

  /// Importing local copies checks them and lands them where `train` looks.
  @Test(.enabled(if: realDataDirectory() != nil, "needs COLEARN_DATA_DIR with MNIST"))
  func fetchFromImportsVerifiedFiles() throws {
    let source = try #require(realDataDirectory()) + "/mnist"
    let target = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: target) }
    let result = try runProcess(
      binary(), ["data", "fetch", "mnist", "--from", source, "--data-dir", target.path])
    #expect(result.status == 0, "\(result.combined)")
    let imported = try FileManager.default.contentsOfDirectory(
      atPath: target.appendingPathComponent("mnist").path)
    #expect(imported.filter { $0.contains("idx") }.count == 4, "\(imported)")
  }

  @Test func fetchFromAnEmptyDirectoryNamesTheMissingFile() throws {
    let empty = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: empty) }
    let result = try runProcess(
      binary(),
      ["data", "fetch", "mnist", "--from", empty.path, "--data-dir", empty.appendingPathComponent("d").path])
    #expect(result.status != 0)
    #expect(result.combined.contains("idx"), "\(result.combined)")
  }

  @Test func unknownDatasetIsRefused() throws {
    let result = try runProcess(binary(), ["data", "verify", "cifar"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("cifar"), "\(result.standardError)")
  }
}
