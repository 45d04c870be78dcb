import CoLearnTestSupport
import Foundation
import Testing

@Suite struct ConfigFileTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  func write(_ text: String, name: String, in directory: URL) throws -> String {
    let url = directory.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  /// Values from the file are validated like flags; the command line overrides the file.
  @Test(arguments: ["yaml", "toml"])
  func fileSettingsAreValidatedAndFlagsWin(format: String) throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let separator = format == "toml" ? " =" : ":"
    let path = try write(
      """
      # an experiment
      model\(separator) "mnist-mlp"
      upload-fraction\(separator) 2   # out of range
      participants\(separator) 5
      """, name: "experiment.\(format)", in: directory)
    let fromFile = try runProcess(binary(), ["simulate", "--config", path])
    #expect(fromFile.status != 0)
    #expect(fromFile.standardError.contains("--upload-fraction"), "\(fromFile.standardError)")
    // The flag overrides the file's bad value, so the next bad value is the one reported.
    let overridden = try runProcess(
      binary(), ["simulate", "--config", path, "--upload-fraction", "0.1", "--participants", "0"])
    #expect(overridden.status != 0)
    #expect(overridden.standardError.contains("--participants"), "\(overridden.standardError)")
    #expect(!overridden.standardError.contains("--upload-fraction"))
  }

  @Test func unknownKeysAndNestedTablesAreRefused() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let unknown = try write("participants: 3\nlearning-speed: 9\n", name: "a.yaml", in: directory)
    let result = try runProcess(binary(), ["simulate", "--config", unknown])
    #expect(result.status != 0)
    #expect(
      result.standardError.contains("a.yaml: `learning-speed` is not a setting of `colearn simulate`"),
      "\(result.standardError)")
    let nested = try write("[server]\nport = 1\n", name: "b.toml", in: directory)
    let nestedResult = try runProcess(binary(), ["simulate", "--config", nested])
    #expect(nestedResult.status != 0)
    #expect(nestedResult.standardError.contains("b.toml:1"), "\(nestedResult.standardError)")
    let missing = try runProcess(binary(), ["simulate", "--config", directory.appendingPathComponent("none.yaml").path])
    #expect(missing.status != 0)
    #expect(missing.standardError.contains("none.yaml"), "\(missing.standardError)")
  }

  /// `./` and `../` values are relative to the config file's folder, not to the working
  /// directory: a kit from `colearn provision` works wherever it is copied.
  @Test func relativePathsAreRelativeToTheFile() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let kit = directory.appendingPathComponent("kit")
    try FileManager.default.createDirectory(at: kit, withIntermediateDirectories: true)
    let added = try runProcess(
      binary(), ["token", "add", "solo", "--tokens", directory.appendingPathComponent("tokens").path])
    #expect(added.status == 0, "\(added.combined)")
    let path = try write("tokens: ../tokens\n", name: "list.yaml", in: kit)
    #expect(FileManager.default.currentDirectoryPath != kit.path)
    let listed = try runProcess(binary(), ["token", "list", "--config", path])
    #expect(listed.status == 0 && listed.standardOutput == "solo active\n", "\(listed.combined)")
    // A value without the prefix is taken as written (here: relative to the working directory).
    let plain = try write("tokens: tokens\n", name: "plain.yaml", in: kit)
    let missing = try runProcess(binary(), ["token", "list", "--config", plain])
    #expect(missing.status != 0 && missing.standardError.contains("token file tokens does not exist"))
  }
}
