import CoLearnTestSupport
import Foundation
import Testing

/// `colearn data describe`: the summary, the schema file, and no file when the data is bad.
@Suite struct DataDescribeTests {
  func binary() throws -> URL {
    try #require(colearnExecutable(), "the colearn executable was not built next to the tests")
  }

  func write(_ text: String, to url: URL) throws {
    try Data(text.utf8).write(to: url)
  }

  let csv = "size,colour,label\n1.5,red,yes\n2.5,blue,no\n3.5,red,yes\n0.5,green,no\n"

  @Test func writesTheSchemaAndSummarises() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let data = directory.appendingPathComponent("a.csv")
    try write(csv, to: data)
    let out = directory.appendingPathComponent("schema.json")
    let result = try runProcess(
      binary(),
      ["data", "describe", "--data", "csv:" + data.path, "--label-column", "label", "--out", out.path])
    #expect(result.status == 0, "\(result.combined)")
    #expect(result.standardOutput.contains("samples: 4 training, 0 test"))
    #expect(result.standardOutput.contains("2 columns → 4 values (1 numeric, 1 categorical)"))
    #expect(result.standardOutput.contains("colour: 3 categories (blue, green, red)"))
    #expect(result.standardOutput.contains("1 yes: 2 training"))
    let schema = try String(contentsOf: out, encoding: .utf8)
    #expect(schema.contains("\"labelColumn\" : \"label\""))
    #expect(schema.contains("\"mean\" : 2"))
    // The schema checks another institution's file, naming the missing column.
    let other = directory.appendingPathComponent("b.csv")
    try write("colour,label\nred,yes\n", to: other)
    let refused = try runProcess(
      binary(), ["data", "describe", "--data", "csv:" + other.path, "--schema", out.path])
    #expect(refused.status != 0)
    #expect(refused.standardError.contains("column 'size' of the schema is missing from \(other.path)"))
    let accepted = try runProcess(
      binary(), ["data", "describe", "--data", "csv:" + data.path, "--schema", out.path])
    #expect(accepted.status == 0, "\(accepted.combined)")
    #expect(accepted.standardOutput.contains("matches the schema"))
  }

  @Test func badDataLeavesNoSchemaFile() throws {
    let directory = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: directory) }
    let data = directory.appendingPathComponent("bad.csv")
    try write(csv + "4.5,red\n", to: data)
    let out = directory.appendingPathComponent("schema.json")
    let result = try runProcess(
      binary(),
      ["data", "describe", "--data", "csv:" + data.path, "--label-column", "label", "--out", out.path])
    #expect(result.status != 0)
    #expect(result.standardError.contains("bad.csv, line 6: 2 cells but the header has 3 columns"))
    #expect(!FileManager.default.fileExists(atPath: out.path))
    let unknown = try runProcess(binary(), ["data", "describe", "--data", "parquet:x"])
    #expect(unknown.status != 0)
    #expect(unknown.standardError.contains("csv:PATH, npz:PATH"))
  }
}
